"""
### extract_orders

Lands the shop's orders database (customers, products, orders, order items, refunds)
for the run's daily data interval: rows changed in the window (plus an overlap) are
typed, validated with the Great Expectations suites in `expectations/orders/`, and
written to the lake as one Parquet batch per table.

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
