from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from cxw import landing
from cxw.lake import Window
from cxw.landing import BatchRejected, land_batch, land_batches, read_ahead
from cxw.settings import Settings
from cxw.sources import Batch, PendingBatch, Rejected, Unreadable
from cxw.sources.orders import ENTITIES

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def orders_rows(**overrides: object) -> pd.DataFrame:
    row = {
        "id": "100",
        "customer_id": "1",
        "status": "paid",
        "currency": "EUR",
        "subtotal": "50.00",
        "shipping": "5.00",
        "tax": "10.00",
        "total": "65.00",
        "placed_at": "2026-01-01 10:00:00",
        "promised_delivery_date": "2026-01-04",
        "shipped_at": None,
        "delivered_at": None,
        "updated_at": "2026-01-01 10:00:00",
        "gift_wrap": "yes",  # a field the contract does not name: kept
    }
    row.update(overrides)
    return pd.DataFrame([row])


def land(frame: pd.DataFrame, settings: Settings) -> Path:
    return land_batch(
        frame,
        source="orders",
        entity="orders",
        columns=ENTITIES["orders"].columns,
        window=WINDOW,
        origin="test rows",
        settings=settings,
    )


def test_good_batch_is_published_with_extra_fields(cxw_home: Path) -> None:
    settings = Settings.from_env()
    path = land(orders_rows(), settings)
    assert path == settings.lake_dir / "orders" / "orders" / f"{WINDOW.batch_id}.parquet"
    frame = pd.read_parquet(path)
    assert frame["gift_wrap"].tolist() == ["yes"]
    assert frame["total"].tolist() == [65.0]
    assert "_parse_errors" not in frame.columns


def test_bad_batch_is_quarantined_with_a_clear_message(cxw_home: Path) -> None:
    settings = Settings.from_env()
    published = land(orders_rows(), settings)
    before = published.read_bytes()

    bad = pd.concat([orders_rows(id="101"), orders_rows(id="102", status="lost", total="-1")])
    with pytest.raises(BatchRejected) as caught:
        land(bad, settings)

    message = str(caught.value)
    assert "orders.orders" in message and "test rows" in message
    assert "expect_column_values_to_be_in_set" in message and "'lost'" in message
    assert "expect_column_values_to_be_between" in message
    assert "'id': 102" in message, "the offending record is named"
    assert published.read_bytes() == before, "what was published stays as it was"
    quarantined = caught.value.quarantine_path
    assert len(pd.read_parquet(quarantined / "data.parquet")) == 2, "nothing is lost"
    assert json.loads((quarantined / "validation.json").read_text())["success"] is False


def test_unparseable_and_future_values_are_rejected(cxw_home: Path) -> None:
    settings = Settings.from_env()
    with pytest.raises(BatchRejected, match="_parse_errors"):
        land(orders_rows(total="sixty"), settings)
    with pytest.raises(BatchRejected, match="placed_at"):
        land(orders_rows(placed_at="2999-01-01 00:00:00"), settings)


def test_missing_required_column_is_rejected(cxw_home: Path) -> None:
    with pytest.raises(BatchRejected, match="expect_column_to_exist.*customer_id"):
        land(orders_rows().drop(columns=["customer_id"]), Settings.from_env())


def test_rejection_message_masks_emails_and_leaves_out_raw_records(cxw_home: Path) -> None:
    rows = pd.DataFrame([{
        "id": None, "email": "ada@example.com", "first_name": "Ada", "last_name": "L",
        "country": "GB", "marketing_opt_in": "1", "created_at": "2026-01-01 09:00:00",
        "updated_at": "2026-01-01 09:00:00", "_record": '{"secret": "whole raw row"}',
    }])
    with pytest.raises(BatchRejected) as caught:
        land_batch(rows, source="orders", entity="customers", columns=ENTITIES["customers"].columns,
                   window=WINDOW, origin="test rows", settings=Settings.from_env())
    message = str(caught.value)
    assert "expect_column_values_to_not_be_null" in message and "<masked>" in message
    assert "ada@example.com" not in message and "whole raw row" not in message


def test_every_source_has_one_shape() -> None:
    """Each source module declares its entities as data and yields batches for a window:
    what the one landing path (``land_batches``) needs, and all it needs."""
    import inspect

    from cxw.sources import Entity, helpdesk, orders, surveys, web

    for module in (helpdesk, orders, surveys, web):
        assert module.__name__.rsplit(".", 1)[-1] == module.SOURCE
        assert module.ENTITIES and all(
            isinstance(entity, Entity) and name == entity.name
            for name, entity in module.ENTITIES.items()
        ), module.SOURCE
        assert inspect.isgeneratorfunction(module.batches), module.SOURCE


def test_the_sync_state_entry_keeps_the_first_window_and_never_moves_back() -> None:
    from datetime import timedelta

    from cxw.landing import landed_entry

    first = landed_entry(WINDOW, 3, None, {"cursor": "c1"})
    assert first["first_batch_id"] == first["batch_id"] == WINDOW.batch_id
    assert first["cursor"] == "c1" and first["rows"] == 3
    earlier = Window(WINDOW.start - timedelta(days=5), WINDOW.end - timedelta(days=5))
    backfill = landed_entry(earlier, 1, first, {})
    assert backfill["first_batch_id"] == WINDOW.batch_id, "the first landed window stays"
    assert backfill["landed_until"] == WINDOW.end.isoformat(), "a backfill does not move it back"


def test_files_are_read_one_ahead_of_their_landing() -> None:
    """While the landing path holds one file, the next one's read has started; each read
    hands back its own file's rows, or its error, in the order offered. A file still
    rejected with the same content (``skip``) is not read at all."""
    entity = ENTITIES["orders"]
    next_read_started = threading.Event()

    started = []

    def reader(name: str) -> object:
        def read() -> str:
            started.append(name)
            if name == "b.csv":
                next_read_started.set()
            if name == "c.csv":
                raise Unreadable("c.csv is not CSV")
            return f"rows of {name}"

        return read

    duplicate = Rejected(entity, "d.csv", "two exports", Unreadable("two exports"))
    offered = [
        Batch(entity, "a.csv", reader("a.csv")),
        Batch(entity, "b.csv", reader("b.csv")),
        duplicate,
        Batch(entity, "c.csv", reader("c.csv")),
        Batch(entity, "e.csv", reader("e.csv")),
    ]
    handed = []
    for item, read in read_ahead(offered, skip=lambda batch: batch.unit == "e.csv"):
        if item.unit == "a.csv":
            # Landing a.csv: b.csv is already being read, without being asked for.
            assert next_read_started.wait(timeout=10)
        if read is None:
            handed.append((item.unit, None))
            continue
        try:
            handed.append((item.unit, read()))
        except Unreadable as error:
            handed.append((item.unit, str(error)))
    assert handed == [
        ("a.csv", "rows of a.csv"),
        ("b.csv", "rows of b.csv"),
        ("d.csv", None),
        ("c.csv", "c.csv is not CSV"),
        ("e.csv", None),
    ]
    assert started == ["a.csv", "b.csv", "c.csv"]


def test_a_failed_landing_stops_reading_ahead_at_once(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When landing a group of files fails, the read-ahead thread is gone by the time the
    error reaches the caller (not when the error is garbage-collected), and no file after
    the one being read is read."""
    entity = ENTITIES["orders"]
    reads = []

    def reader(name: str) -> object:
        def read() -> PendingBatch:
            reads.append(name)
            # More rows than a group holds: each file is a group of its own.
            rows = pa.table({"id": pa.array(range(landing.GROUP_ROWS + 1))})
            return PendingBatch(rows, pd.DataFrame({"id": [name]}), WINDOW, name)

        return read

    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the lake is read-only")

    monkeypatch.setattr(landing, "land_together", failing)
    offered = [Batch(entity, f"{n}.csv", reader(f"{n}.csv"), checksum=n) for n in "abcd"]
    with pytest.raises(RuntimeError, match="read-only") as failure:
        land_batches("orders", WINDOW, lambda run: offered, settings=Settings.from_env(),
                     files=True)
    assert failure.value is not None  # the error (and its frames) still held here
    assert not [t for t in threading.enumerate() if t.name.startswith("read-ahead")]
    # a.csv was landing; b.csv was read to see that a.csv's group had ended; c.csv was
    # asked for ahead of it, and read only if its thread started before the failure
    # cancelled it (a race the machine's load decides); d.csv never.
    assert reads in (["a.csv", "b.csv"], ["a.csv", "b.csv", "c.csv"])
