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

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from cxw.assets import RAW_ORDERS
from cxw.dag_defaults import DEFAULT_ARGS, EXTRACT_END_DATE, START_DATE


@dag(
    dag_id="extract_orders",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    end_date=EXTRACT_END_DATE,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cxw", "extract", "orders"],
    doc_md=__doc__,
    params={
        # A catch-up or backfill over many days in one run (cxw run): both or neither.
        "window_start": Param(None, type=["null", "string"], format="date"),
        "window_end": Param(None, type=["null", "string"], format="date"),
    },
)
def extract_orders():
    @task
    def check_settings() -> None:
        """This source's settings, in seconds, before anything is extracted."""
        from cxw import check

        check.require("orders")

    # Emits the asset whenever good data landed, even if some was rejected, so the
    # transform builds on it; the rejections end the run red in report_rejections.
    @task(outlets=[RAW_ORDERS])
    def land_orders(**context) -> dict:
        from cxw import pipeline

        start, end = pipeline.run_window(
            context["params"], context["data_interval_start"], context["data_interval_end"]
        )
        result = pipeline.land_source("orders", start, end)
        context["outlet_events"][RAW_ORDERS].extra = pipeline.asset_extra(start, end)
        return result

    @task
    def report_rejections(result: dict) -> None:
        """Fails with the one-line summary if any file or batch was rejected."""
        from cxw import pipeline

        pipeline.fail_on_rejections(result)

    landed = land_orders()
    check_settings() >> landed
    report_rejections(landed)


extract_orders()
