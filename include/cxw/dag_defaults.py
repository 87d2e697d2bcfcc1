"""What every DAG of the project shares: owner, retries with backoff, failure summary,
and the one shape of an extract DAG (``extract_dag``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, Param, dag, task
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule

log = logging.getLogger(__name__)

# Airflow silently skips (and reports success for) runs dated before a DAG's start_date,
# so it lies well before any data a user may backfill; catchup=False keeps the scheduler
# from running the years in between on its own.
START_DATE = pendulum.datetime(2000, 1, 1, tz="UTC")
WAREHOUSE_POOL = "warehouse_writer"


def log_failure_summary(context: dict[str, Any]) -> None:
    """Failure callback: one clear line for the operator, then the error itself."""
    ti = context.get("task_instance")
    log.error(
        "cxw task failed: dag=%s task=%s window=[%s, %s) try=%s error=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        context.get("data_interval_start"),
        context.get("data_interval_end"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )


# A task that raises cxw.errors.PermanentError (rejected credentials, a missing setting, a
# quarantined batch ...) fails at once; anything else (429, 5xx, timeouts) keeps its retries.
# The class is named by path: the policy is serialized with the DAG and resolved in the task.
PERMANENT_ERRORS = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception="cxw.errors.PermanentError",
            action=RetryAction.FAIL,
            reason="permanent error: retrying cannot help",
        )
    ]
)

# The last data date the configured sources hold, when they are a fixed history (the demo
# company, a test's files) rather than live systems: the extract DAGs end there, so that
# unpausing them (which an Airflow 3 backfill needs) never schedules a day the sources do
# not have. `cxw run` sets it to its --end for the Airflow it starts; unset, the DAGs run
# on for as long as they are unpaused.
SOURCES_END_SETTING = "CXW_SOURCES_END"


def sources_end(environ: Mapping[str, str] = os.environ) -> pendulum.DateTime | None:
    text = environ.get(SOURCES_END_SETTING)
    return pendulum.parse(text).in_tz("UTC") if text else None  # type: ignore[union-attr]


EXTRACT_END_DATE = sources_end()

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    # CXW_TASK_RETRIES lets tests and one-off runs fail fast instead of backing off.
    "retries": int(os.environ.get("CXW_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": log_failure_summary,
    "retry_policy": PERMANENT_ERRORS,
}


# The part of every extract DAG's docs that its shared tasks make true, written once here
# and appended to the DAG file's own docs (what it lands, its settings).
EXTRACT_DAG_TASKS_DOC = """
First `check_settings` checks this source's settings (a wrong one fails at once, no
retries). A batch that fails validation is quarantined and recorded in the rejected-file
ledger (later runs skip it until it changes); the good data still lands and the asset is
emitted, then `report_rejections` fails the run naming the file or batch and the rules.
Emits the `{asset_uri}` asset; the `transform` DAG is scheduled on it.
"""


def extract_dag(
    source: str,
    *,
    schedule: Any,
    asset: Asset,
    doc_md: str,
    waits_for_export: bool = False,
) -> DAG:
    """The extract DAG of ``source``, the same for every source: ``check_settings`` (a
    wrong setting fails at once), optionally ``wait_for_latest_export`` (a sensor that
    holds no worker slot), ``land_<source>`` (emits ``asset`` whenever good data landed,
    even if some was rejected, so the transform builds on it) and ``report_rejections``
    (ends the run red with the one-line summary of what was rejected). A DAG file
    gives only its schedule, asset and docs (``EXTRACT_DAG_TASKS_DOC`` is appended)."""

    def window(context: Mapping[str, Any]) -> tuple[Any, Any]:
        from cxw import pipeline

        return pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )

    @dag(
        dag_id=f"extract_{source}",
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        end_date=EXTRACT_END_DATE,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["cxw", "extract", source],
        doc_md=doc_md.rstrip() + "\n" + EXTRACT_DAG_TASKS_DOC.format(asset_uri=asset.uri),
        params={
            # A catch-up or backfill over many days in one run (cxw run): both or neither.
            "window_start": Param(None, type=["null", "string"], format="date"),
            "window_end": Param(None, type=["null", "string"], format="date"),
        },
    )
    def extract() -> None:
        @task
        def check_settings() -> None:
            """This source's settings, in seconds, before anything is extracted."""
            from cxw import check

            check.require(source)

        @task(task_id=f"land_{source}", outlets=[asset])
        def land(**context: Any) -> dict:
            from cxw import pipeline

            start, end = window(context)
            result = pipeline.land_source(source, start, end)
            context["outlet_events"][asset].extra = pipeline.asset_extra(start, end)
            return result

        @task
        def report_rejections(result: dict) -> None:
            """Fails with the one-line summary if any file or batch was rejected."""
            from cxw import pipeline

            pipeline.fail_on_rejections(result)

        landed = land()
        first = check_settings()
        if waits_for_export:
            # Waits until the latest day's export is there or its deadline
            # (CXW_WEB_LATE_DEADLINE_HOURS) has passed (then a day without traffic).
            @task.sensor(poke_interval=600, timeout=36 * 3600, mode="reschedule")
            def wait_for_latest_export(**context: Any) -> bool:
                from cxw import pipeline

                return pipeline.web_export_ready(*window(context))

            first = first >> wait_for_latest_export()
        first >> landed
        report_rejections(landed)

    return extract()
