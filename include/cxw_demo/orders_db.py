"""Writes the shop's orders database (sources.md §3) as a SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cxw_demo.config import CURRENCY
from cxw_demo.timestamps import sql_timestamps
from cxw_demo.world import World, orders_as_of

SCHEMA_SQL = Path(__file__).with_name("orders_schema.sql")
INSERT_ROWS = 50_000


def _money(cents: pd.Series) -> list[float]:
    return [round(value / 100, 2) for value in cents.to_numpy(dtype=np.int64).tolist()]


def _rows(*columns: Iterable[object]) -> list[tuple[object, ...]]:
    return list(zip(*columns, strict=True))


def _customers_as_of(customers: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """Customers signed up before ``cutoff``, with the opt-in they had then."""
    customers = customers[customers["created_at"] < cutoff].copy()
    not_yet = customers["updated_at"].to_numpy() >= cutoff
    customers["marketing_opt_in"] = np.where(
        not_yet, customers["opt_in_at_signup"], customers["marketing_opt_in"]
    )
    customers["updated_at"] = np.where(not_yet, customers["created_at"], customers["updated_at"])
    return customers


def _products_as_of(products: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    products = products.copy()
    first_seen = products["updated_at"].min()
    products["updated_at"] = np.where(
        products["updated_at"] < cutoff, products["updated_at"], first_seen
    )
    return products


def write_orders_db(world: World, path: Path, as_of: int | None = None) -> dict[str, int]:
    """(Re)create the SQLite orders database at ``path`` as it stood just before ``as_of``
    (unix; default: the end of the range). Returns row counts per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    cutoff = world.config.end_ts if as_of is None else min(as_of, world.config.end_ts)
    customers = _customers_as_of(world.customers, cutoff)
    products = _products_as_of(world.products, cutoff)
    orders, refunds = orders_as_of(world.orders, world.refunds, cutoff)
    items = world.order_items[world.order_items["order_id"].isin(orders["id"])]
    # Each table's rows are made and inserted a slice at a time: Python tuples take ~10x
    # the frames' memory, so a whole table's at once dominated a large company's peak.
    tables: dict[str, tuple[pd.DataFrame, Callable[[pd.DataFrame], list[tuple[object, ...]]]]]
    tables = {
        "customers": (customers, lambda part: _rows(
            part["id"].tolist(),
            part["email"].tolist(),
            part["first_name"].tolist(),
            part["last_name"].tolist(),
            part["country"].tolist(),
            part["marketing_opt_in"].astype(int).tolist(),
            sql_timestamps(part["created_at"]),
            sql_timestamps(part["updated_at"]),
        )),
        "products": (products, lambda part: _rows(
            part["id"].tolist(),
            part["sku"].tolist(),
            part["title"].tolist(),
            part["category"].tolist(),
            _money(part["price_cents"]),
            sql_timestamps(part["updated_at"]),
        )),
        "orders": (orders, lambda part: _rows(
            part["id"].tolist(),
            part["customer_id"].tolist(),
            part["status"].tolist(),
            [CURRENCY] * len(part),
            _money(part["subtotal_cents"]),
            _money(part["shipping_cents"]),
            _money(part["tax_cents"]),
            _money(part["total_cents"]),
            sql_timestamps(part["placed_at"]),
            part["promised_delivery_date"].dt.strftime("%Y-%m-%d").tolist(),
            sql_timestamps(part["shipped_at"]),
            sql_timestamps(part["delivered_at"]),
            sql_timestamps(part["updated_at"]),
        )),
        "order_items": (items, lambda part: _rows(
            part["id"].tolist(),
            part["order_id"].tolist(),
            part["product_id"].tolist(),
            part["quantity"].tolist(),
            _money(part["unit_price_cents"]),
            sql_timestamps(part["updated_at"]),
        )),
        "refunds": (refunds, lambda part: _rows(
            part["id"].tolist(),
            part["order_id"].tolist(),
            _money(part["amount_cents"]),
            part["reason"].tolist(),
            sql_timestamps(part["created_at"]),
        )),
    }
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA_SQL.read_text())
        for table, (frame, rows_of) in tables.items():
            for start in range(0, len(frame), INSERT_ROWS):
                rows = rows_of(frame.iloc[start : start + INSERT_ROWS])
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"insert into {table} values ({marks})", rows)  # noqa: S608
        connection.commit()
    finally:
        connection.close()
    return {table: len(frame) for table, (frame, _) in tables.items()}
