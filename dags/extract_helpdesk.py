"""
### extract_helpdesk

Lands the Zendesk helpdesk for the run's daily data interval: tickets (incremental cursor
export), ticket audit events with comments (incremental, time-based), users, groups,
business-hours schedules and holidays, and SLA policies. Each entity is flattened,
validated with its suite in `expectations/helpdesk/` and written as one Parquet batch;
its sync state is saved only after the batch has landed.

Connection: `helpdesk_api` (base URL, agent email, API token, `order_field_id` extra).
Survives 429 (honours `Retry-After`), 5xx bursts and timeouts with bounded retries.

First `check_settings` checks this source's settings (a wrong one fails at once, no
retries). A batch that fails validation is quarantined and recorded in the rejected-file
ledger (later runs skip it until it changes); the good data still lands and the asset is
emitted, then `report_rejections` fails the run naming the file or batch and the rules.
Emits the `cxw://lake/raw/helpdesk` asset; the `transform` DAG is scheduled on it.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cxw.assets import RAW_HELPDESK
from cxw.dag_defaults import DEFAULT_ARGS, EXTRACT_END_DATE, START_DATE


@dag(
    dag_id="extract_helpdesk",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    end_date=EXTRACT_END_DATE,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "extract", "helpdesk"],
    doc_md=__doc__,
    params={
        # A catch-up or backfill over many days in one run (cxw run): both or neither.
        "window_start": Param(None, type=["null", "string"], format="date"),
        "window_end": Param(None, type=["null", "string"], format="date"),
    },
)
def extract_helpdesk():
    @task
    def check_settings() -> None:
        """This source's settings, in seconds, before anything is extracted."""
        from cxw import check

        check.require("helpdesk")

    # Emits the asset whenever good data landed, even if some was rejected, so the
    # transform builds on it; the rejections end the run red in report_rejections.
    @task(outlets=[RAW_HELPDESK])
    def land_helpdesk(**context) -> dict:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        result = pipeline.land_source("helpdesk", start, end)
        context["outlet_events"][RAW_HELPDESK].extra = pipeline.asset_extra(start, end)
        return result

    @task
    def report_rejections(result: dict) -> None:
        """Fails with the one-line summary if any file or batch was rejected."""
        from cxw import pipeline

        pipeline.fail_on_rejections(result)

    landed = land_helpdesk()
    check_settings() >> landed
    report_rejections(landed)


extract_helpdesk()
