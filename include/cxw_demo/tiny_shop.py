"""The hand-made tiny shop: an orders database whose mart numbers are known by hand."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SQL = Path(__file__).with_name("tiny_shop.sql")


def create_orders_db(path: Path) -> Path:
    """(Re)create the tiny shop's SQLite orders database at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.executescript(SQL.read_text())
    return path
