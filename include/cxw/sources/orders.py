"""Orders: the shop's operational SQL database (SQLite embedded, PostgreSQL supported).

Each table is read incrementally by ``updated_at`` (``refunds`` by ``created_at``) over
the run's window widened by an overlap, because clocks drift and transactions commit out
of order; the staging models keep the latest version of each row. Reads are read-only
and go in bounded keyset batches so the shop's tables are never locked for long.

Bounded memory: a table's window is read in chunks of about ``CXW_ORDERS_CHUNK_ROWS``
rows (keyset pages joined). A window that fits in one chunk (most days) is one
``PendingBatch``; a bigger one (a first sync, a backfill) is a ``StreamedBatch`` landed
chunk by chunk, one row group each, with the key's uniqueness checked across the chunks
(``cxw.landing.land_chunks``). Only one chunk is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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
    StreamedBatch,
    is_first_window,
    typed_batch,
)

SOURCE = "orders"
OVERLAP = timedelta(hours=1)
BATCH_SIZE = 10_000
CHUNK_ROWS = 100_000  # Settings.orders_chunk_rows
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


def read_entity(
    engine: sa.Engine, table: Entity, start: datetime, end: datetime, full_history: bool = False
) -> pd.DataFrame:
    """All changed rows of one table for the window ``[start - OVERLAP, end)``, or every
    row changed before ``end`` with ``full_history`` (a table's first sync)."""
    read_from = HISTORY_START if full_history else start - OVERLAP
    batches = list(read_changed_rows(engine, table, read_from, end))
    if not batches:
        return pd.DataFrame(columns=list(table.columns))
    return pd.concat(batches, ignore_index=True)


def read_chunks(
    engine: sa.Engine, table: Entity, start: datetime, end: datetime, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """``read_changed_rows`` in chunks of ``chunk_rows`` rows or a little more (keyset
    pages of at most ``BATCH_SIZE`` rows joined), in the same order."""
    pages: list[pd.DataFrame] = []
    rows = 0
    for page in read_changed_rows(engine, table, start, end, min(BATCH_SIZE, chunk_rows)):
        pages.append(page)
        rows += len(page)
        if rows >= chunk_rows:
            yield pd.concat(pages, ignore_index=True)
            pages, rows = [], 0
    if pages:
        yield pd.concat(pages, ignore_index=True)


def batches(
    engine: sa.Engine, window: Window, previous: Previous, chunk_rows: int = CHUNK_ROWS
) -> Iterator[Batch]:
    """One batch per table for ``window``, read when landed: the rows changed in the
    window and its overlap, or (the table's first window) its whole history. A table's
    rows beyond one chunk of ``chunk_rows`` are a ``StreamedBatch``."""
    for table in ENTITIES.values():
        full_history = is_first_window(previous(table.name), window)

        def read(
            table: Entity = table, full_history: bool = full_history
        ) -> PendingBatch | StreamedBatch:
            read_from = HISTORY_START if full_history else window.start - OVERLAP
            chunks = read_chunks(engine, table, read_from, window.end, chunk_rows)
            with _naming_missing_tables(table):
                first = next(chunks, None)
            origin = f"orders database table '{table.name}' ({table.cursor} in window)"
            if first is None or len(first) < chunk_rows:
                rows = pd.DataFrame(columns=list(table.columns)) if first is None else first
                return typed_batch(rows, table.columns, window, origin)
            held = [first]  # released once typed: only one chunk is held at a time

            def typed() -> Iterator[PendingBatch]:
                while held:
                    yield typed_batch(held.pop(), table.columns, window, origin)
                for rows in chunks:
                    yield typed_batch(rows, table.columns, window, origin)

            return StreamedBatch(typed, window, origin)

        yield Batch(table, table.name, read)


@contextmanager
def _naming_missing_tables(table: Entity) -> Iterator[None]:
    """A missing table or column as ``SourceTableMissing`` naming it; other database
    errors (a lost connection and the like) as they are: transient, retried."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        if not _is_missing_relation(error):
            raise
        raise SourceTableMissing(
            f"orders.{table.name}: cannot read table {table.name!r} from the orders "
            f"database (AIRFLOW_CONN_ORDERS_DB): {one_line(error.orig or error)}"
        ) from error


def _is_missing_relation(error: sa.exc.DBAPIError) -> bool:
    """SQLite's "no such table/column", PostgreSQL's "... does not exist"."""
    text = str(error.orig or error).lower()
    return "no such table" in text or "no such column" in text or "does not exist" in text
