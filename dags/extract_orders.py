"""
### extract_orders

Lands the shop's orders database (customers, products, orders, order items, refunds)
for the run's daily data interval: rows changed in the window (plus an overlap) are
typed, validated with the Great Expectations suites in `expectations/orders/`, and
written to the lake as one Parquet batch per table.

First `check_settings` checks this source's settings (a wrong one fails at once, no
retries). A batch that fails validation is quarantined and recorded in the rejected-file
ledger; the other tables still land and the asset is emitted, then `report_rejections`
fails the run naming the batch and the rules.

Emits the `cxw://lake/raw/orders` asset; the `transform` DAG is scheduled on it.
Connection: `orders_db` (SQLite or PostgreSQL, read-only).
"""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable

from cxw.assets import RAW_ORDERS
from cxw.dag_defaults import extract_dag

dag = extract_dag(
    "orders",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    asset=RAW_ORDERS,
    doc_md=__doc__,
)
