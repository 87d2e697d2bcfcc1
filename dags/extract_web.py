"""
### extract_web

Lands the GA4 BigQuery daily export files (`events_YYYYMMDD.jsonl[.gz]`) for the run's
day and the two days before, because Google rewrites a day for up to 72 hours. Each
export day is its own batch, so a re-read replaces it. Events keep their nested export
schema; a flat projection is validated with `expectations/web/events.json`.

Setting: `CXW_WEB_EXPORT_PATH`.

First `check_settings` checks this source's settings (a wrong one fails at once, no
retries). A batch that fails validation is quarantined and recorded in the rejected-file
ledger (later runs skip it until it changes); the good data still lands and the asset is
emitted, then `report_rejections` fails the run naming the file or batch and the rules.
Emits the `cxw://lake/raw/web` asset; the `transform` DAG is scheduled on it.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cxw.assets import RAW_WEB
from cxw.dag_defaults import DEFAULT_ARGS, EXTRACT_END_DATE, START_DATE


@dag(
    dag_id="extract_web",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    end_date=EXTRACT_END_DATE,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "extract", "web"],
    doc_md=__doc__,
    params={
        # A catch-up or backfill over many days in one run (cxw run): both or neither.
        "window_start": Param(None, type=["null", "string"], format="date"),
        "window_end": Param(None, type=["null", "string"], format="date"),
    },
)
def extract_web():
    @task
    def check_settings() -> None:
        """This source's settings, in seconds, before anything is extracted."""
        from cxw import check

        check.require("web")

    # Waits, without holding a worker slot, until the latest day's export is there or
    # its deadline (CXW_WEB_LATE_DEADLINE_HOURS) has passed (then a day without traffic).
    @task.sensor(poke_interval=600, timeout=36 * 3600, mode="reschedule")
    def wait_for_latest_export(**context) -> bool:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        return pipeline.web_export_ready(start, end)

    # Emits the asset whenever good data landed, even if some was rejected, so the
    # transform builds on it; the rejections end the run red in report_rejections.
    @task(outlets=[RAW_WEB])
    def land_web(**context) -> dict:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        result = pipeline.land_source("web", start, end)
        context["outlet_events"][RAW_WEB].extra = pipeline.asset_extra(start, end)
        return result

    @task
    def report_rejections(result: dict) -> None:
        """Fails with the one-line summary if any file or batch was rejected."""
        from cxw import pipeline

        pipeline.fail_on_rejections(result)

    landed = land_web()
    check_settings() >> wait_for_latest_export() >> landed
    report_rejections(landed)


extract_web()
