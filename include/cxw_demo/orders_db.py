"""Writes the shop's orders database (sources.md §3) as a SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cxw_demo.config import CURRENCY
from cxw_demo.timestamps import sql_timestamps
from cxw_demo.world import World, orders_as_of

SCHEMA_SQL = Path(__file__).with_name("orders_schema.sql")


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
    tables: dict[str, list[tuple[object, ...]]] = {
        "customers": _rows(
            customers["id"].tolist(),
            customers["email"].tolist(),
            customers["first_name"].tolist(),
            customers["last_name"].tolist(),
            customers["country"].tolist(),
            customers["marketing_opt_in"].astype(int).tolist(),
            sql_timestamps(customers["created_at"]),
            sql_timestamps(customers["updated_at"]),
        ),
        "products": _rows(
            products["id"].tolist(),
            products["sku"].tolist(),
            products["title"].tolist(),
            products["category"].tolist(),
            _money(products["price_cents"]),
            sql_timestamps(products["updated_at"]),
        ),
        "orders": _rows(
            orders["id"].tolist(),
            orders["customer_id"].tolist(),
            orders["status"].tolist(),
            [CURRENCY] * len(orders),
            _money(orders["subtotal_cents"]),
            _money(orders["shipping_cents"]),
            _money(orders["tax_cents"]),
            _money(orders["total_cents"]),
            sql_timestamps(orders["placed_at"]),
            orders["promised_delivery_date"].dt.strftime("%Y-%m-%d").tolist(),
            sql_timestamps(orders["shipped_at"]),
            sql_timestamps(orders["delivered_at"]),
            sql_timestamps(orders["updated_at"]),
        ),
        "order_items": _rows(
            items["id"].tolist(),
            items["order_id"].tolist(),
            items["product_id"].tolist(),
            items["quantity"].tolist(),
            _money(items["unit_price_cents"]),
            sql_timestamps(items["updated_at"]),
        ),
        "refunds": _rows(
            refunds["id"].tolist(),
            refunds["order_id"].tolist(),
            _money(refunds["amount_cents"]),
            refunds["reason"].tolist(),
            sql_timestamps(refunds["created_at"]),
        ),
    }
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA_SQL.read_text())
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                connection.executemany(f"insert into {table} values ({marks})", rows)  # noqa: S608
        connection.commit()
    finally:
        connection.close()
    return {table: len(rows) for table, rows in tables.items()}
