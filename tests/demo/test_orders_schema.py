"""The orders DDL loads into SQLite and PostgreSQL, and the generated rows fit it in both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cxw_demo.orders_db import SCHEMA_SQL

TABLES = ("customers", "products", "orders", "order_items", "refunds")


def test_ddl_loads_into_sqlite():
    with sqlite3.connect(":memory:") as db:
        db.executescript(SCHEMA_SQL.read_text())
        names = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
    assert names == set(TABLES)


def test_ddl_and_rows_load_into_postgresql(postgres_schema, small_dataset):
    import psycopg2

    out: Path = small_dataset[0]
    postgres, schema = postgres_schema
    with psycopg2.connect(**postgres) as connection, connection.cursor() as cursor:
        cursor.execute(f"set search_path to {schema}")
        cursor.execute(SCHEMA_SQL.read_text())
        with sqlite3.connect(out / "shop.db") as source:
            for table in TABLES:
                rows = source.execute(f"select * from {table}").fetchall()  # noqa: S608
                if table == "customers":  # SQLite keeps booleans as 0/1
                    rows = [(*row[:5], bool(row[5]), *row[6:]) for row in rows]
                marks = ", ".join(["%s"] * len(rows[0]))
                cursor.executemany(f"insert into {table} values ({marks})", rows)  # noqa: S608
        cursor.execute("select count(*), sum(total) from orders")
        count, total = cursor.fetchone()
    with sqlite3.connect(out / "shop.db") as source:
        expected = source.execute("select count(*), round(sum(total), 2) from orders").fetchone()
    assert count == expected[0] and float(total) == pytest.approx(expected[1])
