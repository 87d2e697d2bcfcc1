"""What every DAG of the project shares: owner, retries with backoff, failure summary."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

import pendulum

log = logging.getLogger(__name__)

# Airflow silently skips (and reports success for) runs dated before a DAG's start_date,
# so it lies well before any data a user may backfill; catchup=False keeps the scheduler
# from running the years in between on its own.
START_DATE = pendulum.datetime(2000, 1, 1, tz="UTC")
WAREHOUSE_POOL = "warehouse_writer"


def log_failure_summary(context: dict[str, Any]) -> None:
    """Failure callback: one clear line for the operator, then the error itself."""
    ti = context.get("task_instance")
    log.error(
        "cxw task failed: dag=%s task=%s window=[%s, %s) try=%s error=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        context.get("data_interval_start"),
        context.get("data_interval_end"),
        getattr(ti, "try_number", "?"),
        context.get("exception"),
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    # CXW_TASK_RETRIES lets tests and one-off runs fail fast instead of backing off.
    "retries": int(os.environ.get("CXW_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": log_failure_summary,
}
