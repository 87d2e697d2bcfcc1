"""
### extract_web

Lands the GA4 BigQuery daily export files (`events_YYYYMMDD.jsonl[.gz]`) for the run's
day and the two days before, because Google rewrites a day for up to 72 hours. Each
export day is its own batch, so a re-read replaces it. Events keep their nested export
schema; a flat projection is validated with `expectations/web/events.json`.

Setting: `CXW_WEB_EXPORT_PATH`.

A batch that fails validation is quarantined and the task fails naming the file or
page, the rule and the offending rows; nothing already landed changes.
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
    @task(outlets=[RAW_WEB])
    def land_web(**context) -> dict[str, int]:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        landed = pipeline.extract_web(start, end)
        context["outlet_events"][RAW_WEB].extra = pipeline.asset_extra(start, end)
        return landed

    land_web()


extract_web()
