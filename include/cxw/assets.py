"""Airflow Assets the DAGs hand over through: each extract DAG emits its source's raw
layer; the transform DAG is scheduled on them and emits the published warehouse."""

from __future__ import annotations

from airflow.sdk import Asset

RAW_HELPDESK = Asset("cxw://lake/raw/helpdesk")
RAW_WEB = Asset("cxw://lake/raw/web")
RAW_ORDERS = Asset("cxw://lake/raw/orders")
RAW_SURVEYS = Asset("cxw://lake/raw/surveys")
RAW_LAYER = [RAW_HELPDESK, RAW_WEB, RAW_ORDERS, RAW_SURVEYS]

WAREHOUSE = Asset("cxw://published/warehouse")
