"""
### extract_helpdesk

Lands the Zendesk helpdesk for the run's daily data interval: tickets (incremental cursor
export), ticket audit events with comments (incremental, time-based), users, groups,
business-hours schedules and holidays, and SLA policies. Each entity is flattened,
validated with its suite in `expectations/helpdesk/` and written as one Parquet batch;
its sync state is saved only after the batch has landed.

Connection: `helpdesk_api` (base URL, agent email, API token, `order_field_id` extra).
Survives 429 (honours `Retry-After`), 5xx bursts and timeouts with bounded retries.
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable

from cxw.assets import RAW_HELPDESK
from cxw.dag_defaults import extract_dag

dag = extract_dag(
    "helpdesk",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    asset=RAW_HELPDESK,
    doc_md=__doc__,
)
