"""
### extract_surveys

Lands every survey export file (`responses_YYYYMMDD.csv`: NPS, CSAT, CES) not loaded
yet, tracked by name and checksum; a re-delivered file with new content replaces its
batch. Validated with `expectations/surveys/responses.json`.

Setting: `CXW_SURVEY_DROP_PATH`.

First `check_settings` checks this source's settings (a wrong one fails at once, no
retries). A batch that fails validation is quarantined and recorded in the rejected-file
ledger (later runs skip it until it changes); the good data still lands and the asset is
emitted, then `report_rejections` fails the run naming the file or batch and the rules.
Emits the `cxw://lake/raw/surveys` asset; the `transform` DAG is scheduled on it.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cxw.assets import RAW_SURVEYS
from cxw.dag_defaults import DEFAULT_ARGS, EXTRACT_END_DATE, START_DATE


@dag(
    dag_id="extract_surveys",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    end_date=EXTRACT_END_DATE,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "extract", "surveys"],
    doc_md=__doc__,
    params={
        # A catch-up or backfill over many days in one run (cxw run): both or neither.
        "window_start": Param(None, type=["null", "string"], format="date"),
        "window_end": Param(None, type=["null", "string"], format="date"),
    },
)
def extract_surveys():
    @task
    def check_settings() -> None:
        """This source's settings, in seconds, before anything is extracted."""
        from cxw import check

        check.require("surveys")

    # Emits the asset whenever good data landed, even if some was rejected, so the
    # transform builds on it; the rejections end the run red in report_rejections.
    @task(outlets=[RAW_SURVEYS])
    def land_surveys(**context) -> dict:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        result = pipeline.land_source("surveys", start, end)
        context["outlet_events"][RAW_SURVEYS].extra = pipeline.asset_extra(start, end)
        return result

    @task
    def report_rejections(result: dict) -> None:
        """Fails with the one-line summary if any file or batch was rejected."""
        from cxw import pipeline

        pipeline.fail_on_rejections(result)

    landed = land_surveys()
    check_settings() >> landed
    report_rejections(landed)


extract_surveys()
