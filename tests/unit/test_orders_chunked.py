"""An orders table far larger than the chunk size lands every row once, in bounded
memory (read with keyset pages, validated and written chunk by chunk, one row group
each), and the key's uniqueness still holds over the whole batch: a duplicate id in two
chunks rejects and quarantines that table's batch while the other tables land."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cxw.lake import Window
from cxw.sources import PendingBatch, StreamedBatch, orders
from cxw_demo.orders_db import SCHEMA_SQL as SCHEMA

CHUNK = 5_000
START = datetime(2026, 1, 1, tzinfo=UTC)
END = START + timedelta(days=3)


def shop(path: Path, orders_rows: int, *, duplicate_of: int | None = None) -> str:
    """An orders database of the demo schema with ``orders_rows`` orders (ids 1..n, one
    changed every second) and two customers. With ``duplicate_of``, the orders
    table has no primary key and that id appears once more, changed last."""
    ddl = SCHEMA.read_text()
    if duplicate_of is not None:  # a source without the constraint (a view, a replica)
        ddl = ddl.replace("create table orders (\n    id bigint primary key",
                          "create table orders (\n    id bigint")
    with sqlite3.connect(path) as connection:
        connection.executescript(ddl)
        connection.executemany(
            "insert into customers values (?, ?, 'Ada', 'Lovelace', 'DE', 1, ?, ?)",
            [(i, f"c{i}@example.com", "2025-12-01 00:00:00", "2026-01-01 00:00:00")
             for i in (1, 2)],
        )
        ids = [*range(1, orders_rows + 1), *([duplicate_of] if duplicate_of else [])]
        connection.executemany(
            "insert into orders values (?, ?, 'paid', 'EUR', 40.5, 4.9, 8.1, 53.5, ?, "
            "'2026-01-05', null, null, ?)",
            [
                (order_id, 1 + order_id % 2, "2026-01-01 00:00:00",
                 f"{START + timedelta(seconds=row):%Y-%m-%d %H:%M:%S}")
                for row, order_id in enumerate(ids)
            ],
        )
    return f"sqlite:///{path}"


def test_a_window_within_one_chunk_is_one_batch_a_bigger_one_is_streamed(
    tmp_path: Path,
) -> None:
    engine = orders.connect(shop(tmp_path / "orders.db", 25))
    window = Window(START, END)
    try:
        read = {b.unit: b.read for b in orders.batches(engine, window, lambda _: None, 25 + 1)}
        assert isinstance(read["orders"](), PendingBatch)
        assert isinstance(read["refunds"](), PendingBatch)  # empty: typed columns
        read = {b.unit: b.read for b in orders.batches(engine, window, lambda _: None, 10)}
        streamed = read["orders"]()
        assert isinstance(streamed, StreamedBatch)
        chunks = list(streamed.chunks())
    finally:
        engine.dispose()
    assert [chunk.rows for chunk in chunks] == [10, 10, 5]
    ids = [i for chunk in chunks for i in chunk.table["id"].to_pylist()]
    assert ids == list(range(1, 26))


# Lands a tiny table (warming up pandas, pyarrow, SQLAlchemy and GX) and loads DuckDB
# (the batch-wide key check's, ~40 MiB of library whatever the rows), then lands a table
# of exactly one chunk, then the big one, and prints the peak resident memory (VmHWM)
# above the warm baseline after each: the big table's must stay near the one-chunk one's.
MEASURE = """
import json, sys
from datetime import datetime
from cxw.duckdb_connection import connect
from cxw.pipeline import land_orders

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

start, end = (datetime.fromisoformat(moment) for moment in sys.argv[1:3])
land_orders(start, end, sys.argv[3])
connect().execute("select 1").fetchall()
baseline = peak_mb()
one = land_orders(start, end, sys.argv[4])
one_chunk = peak_mb() - baseline
big = land_orders(start, end, sys.argv[5])
print(json.dumps({"one": one, "big": big, "one_chunk_mb": one_chunk,
                  "big_mb": peak_mb() - baseline}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_an_orders_table_far_larger_than_the_chunk_lands_once_in_bounded_memory(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_rows = 30 * CHUNK + 123  # thirty-one chunks, the last a short one
    urls = [shop(tmp_path / f"{name}.db", rows)
            for name, rows in (("tiny", 50), ("one", CHUNK), ("big", big_rows))]
    monkeypatch.setenv("CXW_ORDERS_CHUNK_ROWS", str(CHUNK))

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, START.isoformat(), END.isoformat(), *urls],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["one"]["orders"] == CHUNK
    assert measured["big"] == {"customers": 2, "products": 0, "orders": big_rows,
                               "order_items": 0, "refunds": 0}

    (landed,) = (cxw_home / "lake" / "raw" / "orders" / "orders").glob("*.parquet")
    batch = pq.ParquetFile(landed)
    assert batch.metadata.num_rows == big_rows
    assert batch.metadata.num_row_groups == 31, "one row group per chunk"
    ids = batch.read(columns=["id"])["id"].to_pylist()
    assert sorted(ids) == list(range(1, big_rows + 1)), "every row once"

    # Thirty times the rows of the one-chunk table, about the same peak memory: a
    # whole-window read holds every row at once (measured by hand: ~9x the one-chunk
    # peak). Generous margin: 3x, plus 30 MiB for allocator noise.
    assert measured["big_mb"] < 3 * measured["one_chunk_mb"] + 30, measured


def test_a_duplicate_key_across_chunks_rejects_the_batch_the_other_tables_land(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxw.landing import BatchRejected
    from cxw.ledger import one_line
    from cxw.pipeline import land_orders

    monkeypatch.setenv("CXW_ORDERS_CHUNK_ROWS", "50")
    url = shop(tmp_path / "orders.db", 120, duplicate_of=7)  # id 7 in chunks 1 and 3
    with pytest.raises(BatchRejected) as caught:
        land_orders(START, END, url)

    reason = one_line(caught.value)
    assert "\n" not in reason
    assert reason.startswith("orders.orders: batch ")
    assert "failed suite 'orders.orders' across its 3 chunks" in reason
    assert "chunk(s)" not in reason, "no chunk alone fails: only the whole batch"
    assert reason.endswith("rules: expect_column_values_to_be_unique(id)")
    assert "offending row: {'id': 7, 'copies': 2}" in str(caught.value)

    lake = cxw_home / "lake"
    assert not list((lake / "raw" / "orders" / "orders").glob("*.parquet"))
    (quarantined,) = (lake / "quarantine" / "orders" / "orders").glob("*/data.parquet")
    assert pq.ParquetFile(quarantined).metadata.num_rows == 121, "every row kept"
    results = json.loads((quarantined.parent / "validation.json").read_text())
    assert results[-1]["results"][0]["duplicated_keys"] == [{"id": 7, "copies": 2}]
    assert len(list((lake / "raw" / "orders" / "customers").glob("*.parquet"))) == 1
    ledger = json.loads((cxw_home / "state" / "rejected-orders.json").read_text())
    assert set(ledger) == {"orders"}, "only the orders table is rejected"
    assert ledger["orders"]["reason"] == reason
