"""Shared fixtures: every test gets its own CXW_HOME so nothing touches the user's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

# The modules that take longest, longest first (their test time in a clean-clone CI run
# on 2026-11-30: 3,391 s of tests over two workers, 1,898 s of wall time). `make test`
# hands modules to the workers in collection order (`--dist loadfile
# --no-loadscope-reorder`), so these start first and no worker starts a five-minute
# module while the other has nothing left: by default xdist starts the modules with the
# most tests first, which left these one-test modules to the end.
LONGEST_FIRST = [
    "tests/e2e/test_demo_pipeline.py",  # 723 s
    "tests/integration/test_celery_cluster.py",  # 375 s
    "tests/e2e/test_handmade_sources.py",  # 311 s
    "tests/test_benchmark_smoke.py",  # 309 s
    "tests/dbt/test_day_by_day_incremental.py",  # 247 s
    "tests/integration/test_postgres_warehouse.py",  # 174 s
    "tests/integration/test_reruns.py",  # 138 s
    "tests/dbt/test_semantic_layer.py",  # 135 s
    "tests/test_spike_day.py",  # 120 s
    "tests/dbt/test_service_incremental.py",  # 108 s
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first, in ``LONGEST_FIRST`` order; the rest as collected."""
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def cxw_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cxw"
    monkeypatch.setenv("CXW_HOME", str(home))
    return home


def require_service(name: str, available: bool, reason: str) -> None:
    """Skip where a machine service (PostgreSQL, Redis) is absent; fail in CI, which has it."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable here: {reason}")


POSTGRES = {
    "host": os.environ.get("CXW_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("CXW_TEST_PG_PORT", "5432")),
    "dbname": os.environ.get("CXW_TEST_PG_DATABASE", "test"),
    "user": os.environ.get("CXW_TEST_PG_USER", "postgres"),
}


@pytest.fixture
def postgres_schema() -> Iterator[tuple[dict, str]]:
    """A fresh schema in the machine's PostgreSQL (the `test` database, trust auth),
    dropped afterwards: (connection keywords, schema name)."""
    import psycopg2

    try:
        connection = psycopg2.connect(**POSTGRES, connect_timeout=3)
    except psycopg2.OperationalError as error:
        require_service("PostgreSQL", False, f"{POSTGRES['host']}:{POSTGRES['port']}: {error}")
    schema = f"cxw_test_{uuid.uuid4().hex[:12]}"
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"create schema {schema}")
    try:
        yield POSTGRES, schema
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"drop schema {schema} cascade")
        connection.close()
