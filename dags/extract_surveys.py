"""
### extract_surveys

Lands every survey export file (`responses_YYYYMMDD.csv`: NPS, CSAT, CES) not loaded
yet, tracked by name and checksum; a re-delivered file with new content replaces its
batch. Validated with `expectations/surveys/responses.json`.

Setting: `CXW_SURVEY_DROP_PATH`.
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
