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

from airflow.sdk import CronDataIntervalTimetable

from cxw.assets import RAW_SURVEYS
from cxw.dag_defaults import extract_dag

dag = extract_dag(
    "surveys",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    asset=RAW_SURVEYS,
    doc_md=__doc__,
)
