from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxw.lake import Window
from cxw.sources import is_first_window, orders
from tests.handmade.shop import create_orders_db


@pytest.fixture
def shop(tmp_path: Path) -> sa.Engine:
    engine = orders.connect(f"sqlite:///{create_orders_db(tmp_path / 'orders.db', 'tiny_shop')}")
    yield engine
    engine.dispose()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_extracts_rows_changed_in_window_plus_overlap(shop: sa.Engine) -> None:
    table = orders.ENTITIES["orders"]
    day_one = orders.read_entity(shop, table, utc(2026, 1, 1), utc(2026, 1, 2))
    assert day_one["id"].tolist() == [102]  # 100 and 101 changed again on day two
    day_two = orders.read_entity(shop, table, utc(2026, 1, 2), utc(2026, 1, 3))
    # 102 was updated at 23:30 on day one: the day-two read reaches back an hour for
    # rows committed late; staging keeps the latest version of each row.
    assert sorted(day_two["id"].tolist()) == [100, 101, 102, 103]


def test_paging_in_bounded_batches_returns_every_row_once(shop: sa.Engine) -> None:
    table = orders.ENTITIES["order_items"]
    batches = list(orders.read_changed_rows(shop, table, utc(2026, 1, 1), utc(2026, 1, 3), 1))
    assert [len(batch) for batch in batches] == [1, 1, 1, 1]
    ids = [int(i) for batch in batches for i in batch["id"]]
    assert ids == [1000, 1001, 1002, 1003]


def test_paging_keeps_rows_that_share_a_cursor_value(tmp_path: Path) -> None:
    path = create_orders_db(tmp_path / "orders.db", "tiny_shop")
    with sqlite3.connect(path) as connection:
        connection.execute("update products set updated_at = '2026-01-05 00:00:00'")
    engine = orders.connect(f"sqlite:///{path}")
    table = orders.ENTITIES["products"]
    batches = list(orders.read_changed_rows(engine, table, utc(2026, 1, 5), utc(2026, 1, 6), 1))
    engine.dispose()
    assert sorted(int(i) for batch in batches for i in batch["id"]) == [1, 2]


def test_refunds_use_created_at_and_empty_windows_give_typed_columns(shop: sa.Engine) -> None:
    assert orders.ENTITIES["refunds"].cursor == "created_at"
    empty = orders.read_entity(shop, orders.ENTITIES["refunds"], utc(2026, 1, 1), utc(2026, 1, 2))
    assert empty.empty
    assert list(empty.columns) == list(orders.ENTITIES["refunds"].columns)


def test_connection_is_read_only(shop: sa.Engine) -> None:
    with pytest.raises(sa.exc.OperationalError, match="readonly"), shop.begin() as connection:
        connection.execute(sa.text("delete from orders"))


def test_first_window_reads_the_whole_history_later_ones_only_the_window(
    tmp_path: Path,
) -> None:
    path = create_orders_db(tmp_path / "orders.db", "tiny_shop")
    with sqlite3.connect(path) as connection:  # a long-standing customer, unchanged since
        connection.execute("update customers set updated_at = '2025-03-01 00:00:00' where id = 3")
    engine = orders.connect(f"sqlite:///{path}")
    table = orders.ENTITIES["customers"]
    first = orders.read_entity(engine, table, utc(2026, 1, 1), utc(2026, 1, 2), True)
    later = orders.read_entity(engine, table, utc(2026, 1, 1), utc(2026, 1, 2))
    engine.dispose()
    assert sorted(first["id"].tolist()) == [1, 3]
    assert later["id"].tolist() == [1]
    b1 = Window(utc(2026, 1, 1), utc(2026, 1, 2))
    b2 = Window(utc(2026, 1, 2), utc(2026, 1, 3))
    assert is_first_window(None, b1)
    assert is_first_window({"first_batch_id": b1.batch_id}, b1), "a rerun reads it all again"
    assert not is_first_window({"first_batch_id": b1.batch_id}, b2)


def test_a_missing_table_is_one_line_naming_table_and_setting(
    tmp_path: Path, cxw_home: Path
) -> None:
    from cxw import pipeline
    from cxw.errors import PermanentError

    path = create_orders_db(tmp_path / "orders.db", "tiny_shop")
    with sqlite3.connect(path) as connection:
        connection.execute("drop table refunds")
    with pytest.raises(PermanentError) as caught:
        pipeline.land_orders(utc(2026, 1, 1), utc(2026, 1, 3), f"sqlite:///{path}")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "orders.refunds: cannot read table 'refunds' from the orders database "
        "(AIRFLOW_CONN_ORDERS_DB): no such table: refunds"
    )
