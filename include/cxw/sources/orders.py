"""Orders: the shop's operational SQL database (SQLite embedded, PostgreSQL supported).

Each table is read incrementally by ``updated_at`` (``refunds`` by ``created_at``) over
the run's window widened by an overlap, because clocks drift and transactions commit out
of order; the staging models keep the latest version of each row. Reads are read-only
and go in bounded keyset batches so the shop's tables are never locked for long.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from cxw.errors import PermanentError
from cxw.lake import Window
from cxw.ledger import one_line
from cxw.sources import (
    HISTORY_START,
    Batch,
    Entity,
    PendingBatch,
    Previous,
    is_first_window,
    typed_batch,
)

SOURCE = "orders"
OVERLAP = timedelta(hours=1)
BATCH_SIZE = 10_000
NULL_ID = -(2**62)


class SourceTableMissing(PermanentError):
    """An orders table or column the contract names is not in the database."""


def _table(name: str, cursor: str, columns: dict[str, str]) -> Entity:
    return Entity(name, columns, key=("id",), cursor=cursor)


#: One entity per table, read by its cursor column. A table's first landed window reads
#: everything before its end: rows last changed before the sync began (long-standing
#: customers, the catalogue) would otherwise never land.
ENTITIES: dict[str, Entity] = {
    table.name: table
    for table in (
        _table(
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
        _table(
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
        _table(
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
        _table(
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
        _table(
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
    table: Entity,
    start: datetime,
    end: datetime,
    batch_size: int = BATCH_SIZE,
) -> Iterator[pd.DataFrame]:
    """Yield the rows of ``table`` whose cursor column lies in ``[start, end)``, in
    batches of at most ``batch_size`` rows, ordered by (cursor, id)."""
    quote = engine.dialect.identifier_preparer.quote
    name, cursor = quote(table.name), quote(str(table.cursor))
    query = sa.text(
        f"select * from {name} "  # noqa: S608 - identifiers come from ENTITIES, values are bound
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
            params["after_cursor"] = last[str(table.cursor)]
            params["after_id"] = NULL_ID if pd.isna(last["id"]) else int(last["id"])


def extract_table(
    engine: sa.Engine, table: Entity, start: datetime, end: datetime, full_history: bool = False
) -> pd.DataFrame:
    """All changed rows of one table for the window ``[start - OVERLAP, end)``, or every
    row changed before ``end`` with ``full_history`` (a table's first sync)."""
    read_from = HISTORY_START if full_history else start - OVERLAP
    batches = list(read_changed_rows(engine, table, read_from, end))
    if not batches:
        return pd.DataFrame(columns=list(table.columns))
    return pd.concat(batches, ignore_index=True)


def batches(engine: sa.Engine, window: Window, previous: Previous) -> Iterator[Batch]:
    """One batch per table for ``window``, read when landed: the rows changed in the
    window and its overlap, or (the table's first window) its whole history."""
    for table in ENTITIES.values():
        full_history = is_first_window(previous(table.name), window)

        def read(table: Entity = table, full_history: bool = full_history) -> PendingBatch:
            try:
                rows = extract_table(engine, table, window.start, window.end, full_history)
            except sa.exc.DBAPIError as error:
                if not _is_missing_relation(error):
                    raise  # a lost connection and the like: transient, retried
                raise SourceTableMissing(
                    f"orders.{table.name}: cannot read table {table.name!r} from the orders "
                    f"database (AIRFLOW_CONN_ORDERS_DB): {one_line(error.orig or error)}"
                ) from error
            origin = f"orders database table '{table.name}' ({table.cursor} in window)"
            return typed_batch(rows, table.columns, window, origin)

        yield Batch(table, table.name, read)


def _is_missing_relation(error: sa.exc.DBAPIError) -> bool:
    """SQLite's "no such table/column", PostgreSQL's "... does not exist"."""
    text = str(error.orig or error).lower()
    return "no such table" in text or "no such column" in text or "does not exist" in text
