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
