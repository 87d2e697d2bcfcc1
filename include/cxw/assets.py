"""Airflow Assets the DAGs hand over through: each extract DAG emits its source's raw
layer; the transform DAG is scheduled on them."""

from __future__ import annotations

from airflow.sdk import Asset

RAW_ORDERS = Asset("cxw://lake/raw/orders")
WAREHOUSE = Asset("cxw://published/warehouse")
