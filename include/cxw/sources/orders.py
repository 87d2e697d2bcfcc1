"""Orders: the shop's operational SQL database (SQLite embedded, PostgreSQL supported).

Each table is read incrementally by ``updated_at`` (``refunds`` by ``created_at``) over
the run's window widened by an overlap, because clocks drift and transactions commit out
of order; the staging models keep the latest version of each row. Reads are read-only
and go in bounded keyset batches so the shop's tables are never locked for long.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

OVERLAP = timedelta(hours=1)
# A table's first landed window reads everything before its end: rows last changed before
# the sync began (long-standing customers, the catalogue) would otherwise never land.
HISTORY_START = datetime(1970, 1, 1, tzinfo=UTC)
BATCH_SIZE = 10_000
NULL_ID = -(2**62)


@dataclass(frozen=True)
class Table:
    name: str
    cursor_column: str
    columns: dict[str, str]


TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table(
            "customers",
            "updated_at",
            {
                "id": "int",
                "email": "str",
                "first_name": "str",
                "last_name": "str",
                "country": "str",
                "marketing_opt_in": "bool",
                "created_at": "timestamp",
                "updated_at": "timestamp",
            },
        ),
        Table(
            "products",
            "updated_at",
            {
                "id": "int",
                "sku": "str",
                "title": "str",
                "category": "str",
                "price": "money",
                "updated_at": "timestamp",
            },
        ),
        Table(
            "orders",
            "updated_at",
            {
                "id": "int",
                "customer_id": "int",
                "status": "str",
                "currency": "str",
                "subtotal": "money",
                "shipping": "money",
                "tax": "money",
                "total": "money",
                "placed_at": "timestamp",
                "promised_delivery_date": "date",
                "shipped_at": "timestamp",
                "delivered_at": "timestamp",
                "updated_at": "timestamp",
            },
        ),
        Table(
            "order_items",
            "updated_at",
            {
                "id": "int",
                "order_id": "int",
                "product_id": "int",
                "quantity": "int",
                "unit_price": "money",
                "updated_at": "timestamp",
            },
        ),
        Table(
            "refunds",
            "created_at",
            {
                "id": "int",
                "order_id": "int",
                "amount": "money",
                "reason": "str",
                "created_at": "timestamp",
            },
        ),
    )
}


def is_first_sync(landed: dict[str, Any] | None, batch_id: str) -> bool:
    """Whether this window is the table's first landed one (or a rerun of it), given the
    table's sync state: then it reads the whole history, every time, so reruns agree."""
    return not landed or landed.get("first_batch_id") == batch_id


def connect(url: str) -> sa.Engine:
    """An engine that can only read: SQLite opened read-only, PostgreSQL sessions read-only."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = parsed.database
        return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    engine = sa.create_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        engine = engine.execution_options(postgresql_readonly=True)
    return engine


def _bound(engine: sa.Engine, moment: datetime) -> datetime | str:
    # SQLite keeps timestamps as ISO text: compare text with text in the same format.
    if engine.dialect.name == "sqlite":
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.replace(tzinfo=None)


def read_changed_rows(
    engine: sa.Engine,
    table: Table,
    start: datetime,
    end: datetime,
    batch_size: int = BATCH_SIZE,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of ``table`` whose cursor column lies in ``[start, end)``, in
    batches of at most ``batch_size`` rows, ordered by (cursor, id)."""
    quote = engine.dialect.identifier_preparer.quote
    name, cursor = quote(table.name), quote(table.cursor_column)
    query = sa.text(
        f"select * from {name} "  # noqa: S608 - identifiers come from TABLES, values are bound
        f"where {cursor} >= :start and {cursor} < :end "
        f"and ({cursor} > :after_cursor "
        f"or ({cursor} = :after_cursor and coalesce(id, :null_id) > :after_id)) "
        f"order by {cursor}, coalesce(id, :null_id) limit :limit"
    )
    params = {
        "start": _bound(engine, start),
        "end": _bound(engine, end),
        "after_cursor": _bound(engine, start),
        # Rows without an id sort first instead of vanishing: validation must see them.
        "null_id": NULL_ID,
        "after_id": NULL_ID - 1,
        "limit": batch_size,
    }
    with engine.connect() as connection:
        while True:
            rows = connection.execute(query, params)
            frame = pd.DataFrame(rows.fetchall(), columns=list(rows.keys()))
            if frame.empty:
                return
            yield frame
            if len(frame) < batch_size:
                return
            last = frame.iloc[-1]
            params["after_cursor"] = last[table.cursor_column]
            params["after_id"] = NULL_ID if pd.isna(last["id"]) else int(last["id"])


def extract_table(
    engine: sa.Engine, table: Table, start: datetime, end: datetime, full_history: bool = False
) -> pd.DataFrame:
    """All changed rows of one table for the window ``[start - OVERLAP, end)``, or every
    row changed before ``end`` with ``full_history`` (a table's first sync)."""
    read_from = HISTORY_START if full_history else start - OVERLAP
    batches = list(read_changed_rows(engine, table, read_from, end))
    if not batches:
        return pd.DataFrame(columns=list(table.columns))
    return pd.concat(batches, ignore_index=True)
