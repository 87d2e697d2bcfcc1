"""The walking skeleton through Airflow: the tiny shop's orders database, extracted day by
day by the `extract_orders` DAG, validated, landed, built by dbt in the `transform` DAG and
published. Mart values are the ones computed by hand from `include/cxw_demo/tiny_shop.sql`.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cxw.cli import run_range
from cxw.settings import Settings
from cxw_demo.tiny_shop import create_orders_db

pytestmark = pytest.mark.e2e

ONLY_ORDERS = ("extract_orders",)  # the tiny shop has an orders database only


def run_day(settings: Settings, day: date, env: dict[str, str]) -> None:
    run_range(settings, day, day, env=env, daily=True, extract_dags=ONLY_ORDERS)


def daily_orders(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.published_path), read_only=True) as connection:
        return connection.execute(
            "select order_date, orders_placed, ordering_customers, gross_revenue "
            "from experience.daily_orders order by order_date"
        ).fetchall()


def test_daily_runs_through_airflow_build_the_hand_computed_mart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_HOME", str(tmp_path / "cxw"))
    settings = Settings.from_env()
    database = create_orders_db(tmp_path / "shop" / "orders.db")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_CONN_ORDERS_DB": f"sqlite:///{database}",
        "CXW_TASK_RETRIES": "0",
    }

    # Day one: only order 102 still has its day-one version (100 and 101 changed on day two).
    run_day(settings, date(2026, 1, 1), env)
    assert daily_orders(settings) == [(date(2026, 1, 1), 1, 1, Decimal("48.00"))]

    # Day two: 100 (delivered) and 101 (cancelled: not counted) arrive with 103.
    run_day(settings, date(2026, 1, 2), env)
    expected = [
        (date(2026, 1, 1), 2, 2, Decimal("113.00")),  # 100 (65.00) + 102 (48.00)
        (date(2026, 1, 2), 1, 1, Decimal("35.00")),  # 103
    ]
    assert daily_orders(settings) == expected

    # Rerunning day two replaces its batches: same lake, same mart.
    lake_files = sorted(settings.lake_dir.rglob("*.parquet"))
    run_day(settings, date(2026, 1, 2), env)
    assert sorted(settings.lake_dir.rglob("*.parquet")) == lake_files
    assert daily_orders(settings) == expected
    assert (tmp_path / "airflow" / "airflow.db").exists(), "ran through the test's Airflow home"
