"""The marts on PostgreSQL: the same landed lake, built with dbt on the machine's
PostgreSQL and on DuckDB, gives the same marts: the headline numbers, service_impact
and every mart table row by row (floating point to 1e-9 relative, everything else
exact). The lake lands in two windows; PostgreSQL builds after each (the second run
builds the incremental models incrementally), DuckDB once from the whole lake, so the
incremental PostgreSQL build is checked against a full DuckDB build."""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from cxw import pipeline, warehouse, warehouse_postgres
from cxw.settings import Settings
from cxw.warehouse_postgres import PostgresWarehouse
from cxw_demo.config import DEFAULT_AGENT_EMAIL, ORDER_FIELD_ID
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer

# Long enough for a cohort's third month (retention_month_3), short enough to land fast.
START, SPLIT, END = date(2026, 3, 1), date(2026, 5, 10), date(2026, 6, 6)
CUSTOMERS = 80
EXTRACTORS = (
    pipeline.land_helpdesk,
    pipeline.land_web,
    pipeline.land_orders,
    pipeline.land_surveys,
)
REL_TOL = 1e-9
MART_SCHEMA = re.compile(r"\b(service|experience)\.")

# The headline numbers (cli.KEY_NUMBERS, computed as reports.key_numbers does) in SQL
# that DuckDB and PostgreSQL both run.
HEADLINES = {
    "tickets": "select count(*) from service.tickets",
    "first_reply_minutes_median": (
        "select percentile_cont(0.5) within group (order by first_reply_minutes) "
        "from service.tickets"
    ),
    "first_reply_sla_breach_rate": (
        "select avg(case when is_first_reply_sla_breached then 1.0 "
        "when not is_first_reply_sla_breached then 0.0 end) from service.tickets"
    ),
    "csat_pct": (
        "select 100.0 * count(*) filter (where csat_score >= 4) "
        "/ nullif(count(csat_score), 0) from service.tickets"
    ),
    "customers": "select count(*) from experience.customers",
    "nps": (
        "select 100.0 * (count(*) filter (where nps_category = 'promoter') "
        "- count(*) filter (where nps_category = 'detractor')) "
        "/ nullif(count(nps_category), 0) from experience.customers"
    ),
    "repeat_purchase_rate": (
        "select avg(case when is_repeat_customer then 1.0 else 0.0 end) "
        "filter (where order_count >= 1) from experience.customers"
    ),
    "retention_month_3": (
        "select 1.0 * sum(active_customers) / nullif(sum(cohort_size), 0) "
        "from experience.cohort_retention where months_since_first_order = 3"
    ),
}


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


def land(sources: Path, start: date, end: date, patch: pytest.MonkeyPatch) -> None:
    """Extract every source for ``[start, end]`` as the DAG tasks do (no Airflow here:
    this test is about the warehouse), the helpdesk served on loopback."""
    token = secrets.token_urlsafe(12)
    now = int(midnight(end + timedelta(days=1)).timestamp())
    with HelpdeskServer(sources / "helpdesk", token=token, now=now) as server:
        patch.setenv(
            "AIRFLOW_CONN_HELPDESK_API",
            f"http://{quote(DEFAULT_AGENT_EMAIL, safe='')}:{token}@127.0.0.1:"
            f"{server.url.rsplit(':', 1)[1]}?order_field_id={ORDER_FIELD_ID}",
        )
        for extract in EXTRACTORS:
            extract(midnight(start), midnight(end + timedelta(days=1)))


def comparable(value: Any) -> Any:
    """A sort key part: floats rounded below the tolerance, nulls first."""
    if value is None:
        return (0, "")
    if isinstance(value, float):
        return (1, f"{value:.6e}")
    return (1, str(value))


def query_duckdb(path: Path) -> Callable[[str], tuple[list[str], list[tuple]]]:
    def run(query: str) -> tuple[list[str], list[tuple]]:
        with duckdb.connect(str(path), read_only=True) as connection:
            result = connection.execute(query)
            return [column[0] for column in result.description], result.fetchall()

    return run


def query_postgres(target: PostgresWarehouse) -> Callable[[str], tuple[list[str], list[tuple]]]:
    def run(query: str) -> tuple[list[str], list[tuple]]:
        connection = target.connect()
        try:
            with connection.cursor() as cursor:
                # The marts' schemas carry the build's prefix here.
                cursor.execute(MART_SCHEMA.sub(rf"{target.schema_prefix}\1.", query))
                return [column.name for column in cursor.description], cursor.fetchall()
        finally:
            connection.close()

    return run


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=REL_TOL, abs_tol=1e-12)
    return left == right


def differences(
    name: str, duck_rows: Sequence[tuple], pg_rows: Sequence[tuple], columns: Sequence[str]
) -> Iterator[str]:
    if len(duck_rows) != len(pg_rows):
        yield f"{name}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on PostgreSQL"
        return
    duck_sorted = sorted(duck_rows, key=lambda row: [comparable(value) for value in row])
    pg_sorted = sorted(pg_rows, key=lambda row: [comparable(value) for value in row])
    for duck_row, pg_row in zip(duck_sorted, pg_sorted, strict=True):
        for column, left, right in zip(columns, duck_row, pg_row, strict=True):
            if not same(left, right):
                yield f"{name}.{column}: DuckDB {left!r}, PostgreSQL {right!r} in {duck_row!r}"


def timed(seconds: dict[str, float], name: str, work: Callable[[], Any]) -> None:
    began = time.perf_counter()
    work()
    seconds[name] = round(time.perf_counter() - began, 1)


def test_marts_on_postgres_match_duckdb(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_schema: tuple[dict, str],
) -> None:
    connection, schema = postgres_schema
    target = PostgresWarehouse(
        host=connection["host"],
        port=connection["port"],
        user=connection["user"],
        database=connection["dbname"],
        schema=schema,
        schema_prefix=f"{schema}_",
    )
    monkeypatch.setenv("CXW_HOME", str(tmp_path / "cxw"))
    monkeypatch.setenv("CXW_EMAIL_SALT", "postgres-test-salt")
    sources = tmp_path / "sources"
    generate(sources, CUSTOMERS, START, END, seed=11)
    monkeypatch.setenv("AIRFLOW_CONN_ORDERS_DB", f"sqlite:///{sources / 'shop.db'}")
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(sources / "ga4"))
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(sources / "surveys"))
    settings = Settings.from_env()

    seconds: dict[str, float] = {}
    try:
        timed(
            seconds, "land 1", lambda: land(sources, START, SPLIT - timedelta(days=1), monkeypatch)
        )
        timed(
            seconds,
            "postgres full build",
            lambda: warehouse_postgres.build_on_postgres(
                settings, SPLIT - timedelta(days=1), target
            ),
        )
        timed(seconds, "land 2", lambda: land(sources, SPLIT, END, monkeypatch))
        timed(
            seconds,
            "postgres incremental build",
            lambda: warehouse_postgres.build_on_postgres(settings, END, target),
        )
        # The unit tests on PostgreSQL too (the scheduled build leaves them out).
        timed(
            seconds,
            "postgres unit tests",
            lambda: warehouse.unit_tests(
                settings, env=target.dbt_env(), target_dir=warehouse_postgres.BUILD_TARGET_DIR
            ),
        )
        timed(seconds, "duckdb full build", lambda: warehouse.build(settings, END))
        print(f"\nseconds: {seconds}")

        on_duckdb = query_duckdb(settings.warehouse_path)
        on_postgres = query_postgres(target)

        headlines = {}
        for key, query in HEADLINES.items():
            duck_value = on_duckdb(query)[1][0][0]
            pg_value = on_postgres(query)[1][0][0]
            headlines[key] = (duck_value, pg_value)
            assert duck_value is not None, f"{key}: the demo data should give a value"
            assert same(
                None if duck_value is None else float(duck_value),
                None if pg_value is None else float(pg_value),
            ), f"{key}: DuckDB {duck_value}, PostgreSQL {pg_value}"
        print("headline numbers (DuckDB, PostgreSQL):", headlines)

        impact_query = "select * from experience.service_impact order by service_segment"
        impact_columns, duck_impact = on_duckdb(impact_query)
        assert len(duck_impact) == 4
        assert not list(
            differences("service_impact", duck_impact, on_postgres(impact_query)[1], impact_columns)
        )

        duck_counts = warehouse.mart_row_counts(settings.warehouse_path)
        assert len(duck_counts) >= 10, duck_counts
        problems = []
        pg_counts = {}
        for table in duck_counts:
            columns, duck_rows = on_duckdb(f"select * from {table}")
            pg_columns, pg_rows = on_postgres(f"select * from {table}")
            pg_counts[table] = len(pg_rows)
            assert pg_columns == columns, f"{table}: columns differ"
            problems += list(differences(table, duck_rows, pg_rows, columns))[:5]
        assert pg_counts == duck_counts
        assert not problems, "\n".join(problems)
    finally:
        warehouse_postgres.drop_schemas(target)
