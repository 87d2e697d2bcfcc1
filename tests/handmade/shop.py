"""The hand-made orders databases (see README.md beside this file): the orders database's
one schema, the demo's ``orders_schema.sql``, then the rows of a story's days."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cxw_demo.orders_db import SCHEMA_SQL

HANDMADE = Path(__file__).parent


def create_orders_db(path: Path, *days: str) -> Path:
    """(Re)create a SQLite orders database at ``path`` holding ``days``, the names of hand-made
    row files applied in order (``"tiny_shop"``; ``"orders_day1"``, ``"orders_day2"``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.executescript(SCHEMA_SQL.read_text())
    apply_days(path, *days)
    return path


def apply_days(path: Path, *days: str) -> None:
    """Applies the hand-made row files ``days`` to the orders database at ``path``."""
    with sqlite3.connect(path) as connection:
        for day in days:
            connection.executescript((HANDMADE / f"{day}.sql").read_text())
