"""Airflow Assets the DAGs hand over through: each extract DAG emits its source's raw
layer; the transform DAG is scheduled on them and emits the published warehouse."""

from __future__ import annotations

from airflow.sdk import Asset

RAW_HELPDESK = Asset("cxw://lake/raw/helpdesk")
RAW_WEB = Asset("cxw://lake/raw/web")
RAW_ORDERS = Asset("cxw://lake/raw/orders")
RAW_SURVEYS = Asset("cxw://lake/raw/surveys")
RAW_LAYER = [RAW_HELPDESK, RAW_WEB, RAW_ORDERS, RAW_SURVEYS]
#: Every source landed (since the transform's last asset-triggered run).
ALL_SOURCES_LANDED = RAW_HELPDESK & RAW_WEB & RAW_ORDERS & RAW_SURVEYS
#: When the transform runs on whatever landed, should a source still be missing: after
#: the daily extracts (00:00) and the GA4 export's default lateness deadline (12 h).
TRANSFORM_DEADLINE_CRON = "0 13 * * *"

WAREHOUSE = Asset("cxw://published/warehouse")
