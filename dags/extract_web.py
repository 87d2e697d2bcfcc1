"""
### extract_web

Lands the GA4 BigQuery daily export files (`events_YYYYMMDD.jsonl[.gz]`) for the run's
day and the two days before, because Google rewrites a day for up to 72 hours. Each
export day is its own batch, so a re-read replaces it. Events keep their nested export
schema; a flat projection is validated with `expectations/web/events.json`.

Setting: `CXW_WEB_EXPORT_PATH`.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable

from cxw.assets import RAW_WEB
from cxw.dag_defaults import extract_dag

dag = extract_dag(
    "web",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    asset=RAW_WEB,
    doc_md=__doc__,
    waits_for_export=True,
)
