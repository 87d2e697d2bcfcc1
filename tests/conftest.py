"""Shared fixtures: every test gets its own CXW_HOME so nothing touches the user's data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


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
