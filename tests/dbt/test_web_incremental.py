"""A GA4 day rewritten with fewer sessions leaves no stale session in the incremental
web models (Google rewrites a day for up to 72 hours; a rewrite can drop sessions).

Day 2026-03-10 first lands with sessions 1 and 2 (one page view each); the export is
rewritten without session 2 and landed again. The incremental build that follows must
hold session 1 only, as a full rebuild would. Only the web source is landed, so the
build covers the web models alone (the others are excluded: no landed data).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from cxw import pipeline
from tests.unit.test_web_source import DAY, event, write_day


def sessions(warehouse: str) -> list[str]:
    with duckdb.connect(warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select session_key from experience.sessions order by 1"
        ).fetchall()
    return [key for (key,) in rows]


def test_a_rewritten_day_with_fewer_sessions_leaves_no_stale_session(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "ga4"
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(exports))
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    end = datetime(2026, 3, 11, tzinfo=UTC)
    # event(DAY, second) carries ga_session_id 1_700_000_000 + second.
    write_day(exports, DAY, [event(DAY, 60), event(DAY, 61)])
    pipeline.land_web(start, end)
    warehouse = pipeline.build_warehouse(date(2026, 3, 10))
    assert sessions(warehouse) == ["123.456-1700000060", "123.456-1700000061"]

    write_day(exports, DAY, [event(DAY, 60)])  # the rewrite drops session ...061
    pipeline.land_web(start, end)
    pipeline.build_warehouse(date(2026, 3, 10))
    assert sessions(warehouse) == ["123.456-1700000060"]


def test_a_later_login_stitches_the_devices_older_sessions(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # int_web_visitors_stitched is incremental: a login landed weeks after a device's
    # anonymous session (far outside the GA4 re-read window) must still stitch that old
    # session to the customer in experience.sessions, and leave another device's alone.
    # (Once the model was built before any login, its max(loaded_at) was null and no later
    # login was ever picked up.)
    exports = tmp_path / "ga4"
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(exports))
    later = date(2026, 3, 30)
    write_day(exports, DAY, [event(DAY, 60), event(DAY, 70, user_pseudo_id="999.1")])
    pipeline.land_web(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    warehouse = pipeline.build_warehouse(DAY)
    write_day(exports, later, [event(later, 80, user_id="7")])
    pipeline.land_web(datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    pipeline.build_warehouse(later)
    with duckdb.connect(warehouse, read_only=True) as connection:
        rows = connection.execute(
            "select session_key, customer_id from experience.sessions order by 1"
        ).fetchall()
    assert rows == [
        ("123.456-1700000060", 7),
        ("123.456-1700000080", 7),
        ("999.1-1700000070", None),
    ]
