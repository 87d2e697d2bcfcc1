"""GA4 daily export files: nested records kept, 3-day re-read, bad events quarantined."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxw.landing import FilesRejected
from cxw.ledger import RejectedLedger, last_runs
from cxw.pipeline import land_web
from cxw.settings import Settings
from cxw.sources import web
from cxw.sources.location import Location

DAY = date(2026, 3, 10)
YEAR_2999_US = int(datetime(2999, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)


def micros(day: date, second: int) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + second) * 1_000_000


def event(day: date, second: int = 60, **overrides: Any) -> dict[str, Any]:
    """One GA4 export row as BigQuery writes it (a subset, plus fields we do not name)."""
    row: dict[str, Any] = {
        "event_date": f"{day:%Y%m%d}",
        "event_timestamp": micros(day, second),
        "event_name": "page_view",
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": 1_700_000_000 + second}},
            {"key": "page_location", "value": {"string_value": "https://shop.example/"}},
        ],
        "event_bundle_sequence_id": 7,  # sent by GA4, not in our contract: kept
        "user_id": None,
        "user_pseudo_id": "123.456",
        "device": {
            "category": "desktop",
            "operating_system": "Linux",
            "language": "en-gb",  # an extra member of a known struct: kept
            "web_info": {"browser": "Firefox", "browser_version": None},
        },
        "geo": {"country": "Germany", "city": "Berlin"},
        "traffic_source": {"source": "google", "medium": "organic", "name": "(organic)"},
        "collected_traffic_source": None,
        "ecommerce": None,
        "items": [],
        "stream_id": "4178093526",
        "platform": "WEB",
    }
    row.update(overrides)
    return row


def engaged(day: date, second: int, value: dict[str, Any]) -> dict[str, Any]:
    row = event(day, second)
    row["event_params"] = row["event_params"] + [{"key": "session_engaged", "value": value}]
    return row


def write_day(folder: Path, day: date, rows: list[dict[str, Any]], gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    path = folder / f"events_{day:%Y%m%d}.jsonl{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


def run(day: date) -> dict[str, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return land_web(start, start + timedelta(days=1))


def lake_files(home: Path) -> dict[str, pa.Table]:
    folder = Settings.from_env().lake_dir / "web" / "events"
    return {path.name: pq.read_table(path) for path in sorted(folder.glob("*"))}


def without_load_time(table: pa.Table) -> pa.Table:
    return table.drop_columns(["_loaded_at"])


@pytest.fixture
def exports(cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ga4"
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(folder))
    return folder


def test_gz_and_plain_days_land_nested_with_a_stable_schema(exports: Path) -> None:
    before, yesterday = DAY - timedelta(days=2), DAY - timedelta(days=1)
    write_day(exports, before, [event(before)], gz=True)
    write_day(exports, yesterday, [event(yesterday, collected_traffic_source={"gclid": "x"})])
    write_day(
        exports,
        DAY,
        [engaged(DAY, 60, {"int_value": 1}), engaged(DAY, 61, {"string_value": "1"})],
        gz=True,
    )

    assert run(DAY) == {
        f"events_{before:%Y%m%d}.jsonl.gz": 1,
        f"events_{yesterday:%Y%m%d}.jsonl": 1,
        f"events_{DAY:%Y%m%d}.jsonl.gz": 2,
    }
    tables = list(lake_files(exports).values())
    assert len(tables) == 3, "one batch per export day"
    for table in tables:
        for field in web.SCHEMA:
            if not pa.types.is_struct(field.type):
                assert table.schema.field(field.name).type == field.type, field.name
    today = tables[-1].to_pylist()
    engaged_values = [
        param["value"]
        for row in today
        for param in row["event_params"]
        if param["key"] == "session_engaged"
    ]
    assert engaged_values == [
        {"string_value": None, "int_value": 1, "float_value": None, "double_value": None},
        {"string_value": "1", "int_value": None, "float_value": None, "double_value": None},
    ], "kept as sent; staging normalises"
    assert today[0]["event_bundle_sequence_id"] == 7
    assert today[0]["device"]["language"] == "en-gb"
    assert today[0]["device"]["web_info"] == {"browser": "Firefox", "browser_version": None}
    assert today[0]["_source_file"] == f"events_{DAY:%Y%m%d}.jsonl.gz"
    assert tables[1].to_pylist()[0]["collected_traffic_source"]["gclid"] == "x"


def test_rereading_three_days_replaces_their_batches(exports: Path) -> None:
    days = [DAY - timedelta(days=offset) for offset in (2, 1, 0, -1)]
    for day in days:
        write_day(exports, day, [event(day)])
    run(DAY)
    # Google rewrites yesterday's table with a late event; the next day's run re-reads it.
    write_day(exports, days[1], [event(days[1]), event(days[1], 90)])
    assert run(days[3]) == {
        f"events_{days[1]:%Y%m%d}.jsonl": 2,
        f"events_{days[2]:%Y%m%d}.jsonl": 1,
        f"events_{days[3]:%Y%m%d}.jsonl": 1,
    }
    first = lake_files(exports)
    assert [table.num_rows for table in first.values()] == [1, 2, 1, 1], "replaced, not added"

    run(days[3])
    again = lake_files(exports)
    assert again.keys() == first.keys()
    for name, table in first.items():
        assert without_load_time(again[name]).equals(without_load_time(table)), name


def last_run() -> dict[str, Any]:
    return last_runs(Settings.from_env())["web"]


def test_sparse_days_land_the_existing_ones_a_late_latest_day_is_waited_for(
    exports: Path,
) -> None:
    # Window [Mar 8, Mar 11): read days Mar 6..Mar 10 (two re-read days before it).
    # Files for Mar 6 and Mar 9 only: Mar 7 and Mar 8 had no traffic; Mar 10 is the
    # latest day, and at 05:00 on Mar 11 its export may still come (deadline 12 h).
    first, last = DAY - timedelta(days=2), DAY + timedelta(days=1)
    write_day(exports, DAY - timedelta(days=4), [event(DAY - timedelta(days=4))])
    write_day(exports, DAY - timedelta(days=1), [event(DAY - timedelta(days=1))])
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC)

    with pytest.raises(web.ExportLate, match="2026-03-10 is not in"):
        land_web(start, end, now=end + timedelta(hours=5))
    assert sorted(lake_files(exports)) == [
        "20260306T000000_20260307T000000.parquet",
        "20260309T000000_20260310T000000.parquet",
    ], "the days that exist landed before the run waits for the late one"
    assert last_run()["warnings"] == [
        "no export for 2026-03-07: taken as a day without traffic",
        "no export for 2026-03-08: taken as a day without traffic",
        "no export for 2026-03-10 yet (the latest day): waiting for it",
    ]

    # At 13:00 the deadline (12 h after the day) has passed: the day had no traffic.
    assert land_web(start, end, now=end + timedelta(hours=13)) == {
        "events_20260306.jsonl": 1,
        "events_20260309.jsonl": 1,
    }
    assert last_run()["warnings"][-1] == "no export for 2026-03-10: taken as a day without traffic"


def test_two_exports_for_one_day_reject_that_day_only(exports: Path) -> None:
    yesterday = DAY - timedelta(days=1)
    write_day(exports, yesterday, [event(yesterday)])
    write_day(exports, DAY, [event(DAY)])
    write_day(exports, DAY, [event(DAY, 61)], gz=True)
    with pytest.raises(FilesRejected, match="two exports for 2026-03-10") as caught:
        run(DAY)
    assert "events_20260310.jsonl and events_20260310.jsonl.gz" in str(caught.value)
    assert list(lake_files(exports)) == ["20260309T000000_20260310T000000.parquet"]
    assert list(last_run()["rejected"]) == ["events_20260310"]

    (exports / "events_20260310.jsonl").unlink()  # the operator keeps one
    assert run(DAY) == {"events_20260309.jsonl": 1, "events_20260310.jsonl.gz": 1}
    assert RejectedLedger(Settings.from_env(), "web").entries() == {}


def test_a_misnamed_export_is_warned_about(exports: Path) -> None:
    write_day(exports, DAY, [event(DAY)])
    (exports / "events_2026-03-09.jsonl").write_text(json.dumps(event(DAY)) + "\n")
    assert run(DAY) == {"events_20260310.jsonl": 1}
    (warning,) = [w for w in last_run()["warnings"] if "looks like" in w]
    assert "events_2026-03-09.jsonl looks like a GA4 export but is not named" in warning


def test_bad_events_are_quarantined_naming_file_rule_and_row(exports: Path) -> None:
    yesterday = DAY - timedelta(days=1)
    write_day(exports, yesterday, [event(yesterday)])
    write_day(exports, DAY, [event(DAY)])
    run(DAY)
    published = (
        Settings.from_env().lake_dir
        / "web"
        / "events"
        / (f"{DAY:%Y%m%d}T000000_{DAY + timedelta(days=1):%Y%m%d}T000000.parquet")
    )
    before = published.read_bytes()

    bad_file = write_day(
        exports,
        DAY,
        [
            event(DAY),
            event(DAY, 61, user_pseudo_id=None),
            event(DAY, 62, event_timestamp=YEAR_2999_US),
        ],
    )
    with pytest.raises(FilesRejected) as caught:
        run(DAY)

    message = str(caught.value)
    assert str(bad_file) in message
    assert "expect_column_values_to_not_be_null(column='user_pseudo_id')" in message
    assert "'_row_number': 2" in message
    assert "expect_column_values_to_be_between(column='_event_at'" in message
    assert "'_row_number': 3" in message and "2999-01-01" in message
    assert published.read_bytes() == before, "the published day stays as it was"
    assert len(lake_files(exports)) == 2, "the good day was still landed"
    (rejected,) = caught.value.failures
    quarantined = pq.read_table(rejected.quarantine_path / "data.parquet")
    assert quarantined.num_rows == 3 and "event_params" in quarantined.column_names


def test_bigquery_style_quoted_integers_read_as_integers() -> None:
    row = event(DAY)
    numeric = web.parse_events((json.dumps(row) + "\n").encode())
    row["event_timestamp"] = str(row["event_timestamp"])
    for param in row["event_params"]:
        if "int_value" in param["value"]:
            param["value"]["int_value"] = str(param["value"]["int_value"])
    quoted = web.parse_events((json.dumps(row) + "\n").encode())
    assert quoted.schema == numeric.schema
    assert quoted.equals(numeric)


def test_session_id_comes_from_params_and_empty_days_have_the_schema() -> None:
    rows = [event(DAY, 60), event(DAY, 61, event_params=[]), event(DAY, 62, event_params=None)]
    table = web.parse_events("".join(json.dumps(row) + "\n" for row in rows).encode())
    assert web.session_ids(table["event_params"]).to_pylist() == [1_700_000_060, None, None]

    empty = web.parse_events(b"")
    assert empty.schema == web.SCHEMA and empty.num_rows == 0
    export = web.ExportFile(DAY, "events_20260310.jsonl", Location("/nowhere"))
    assert list(web.validation_frame(empty, export).columns)[:2] == [
        "event_date",
        "event_timestamp",
    ]


def test_an_event_date_that_is_no_calendar_date_is_a_parse_error_naming_it() -> None:
    rows = [event(DAY, 60), event(DAY, 61, event_date="20261345"), event(DAY, 62, event_date=None)]
    rows += [event(DAY, 63, event_date="20260230"), event(DAY, 64, event_date="20261345")]
    table = web.parse_events("".join(json.dumps(row) + "\n" for row in rows).encode())
    export = web.ExportFile(DAY, "events_20260310.jsonl", Location("/nowhere"))
    frame = web.validation_frame(table, export, first_row=11)
    assert [None if pd.isna(e) else e for e in frame["_parse_errors"]] == [
        None,
        "event_date='20261345'",
        None,  # a missing date is the not-null rule's, not a parse error
        "event_date='20260230'",
        "event_date='20261345'",
    ]
    assert frame["_row_number"].tolist() == [11, 12, 13, 14, 15]
    assert frame["_export_date"].tolist() == ["20260310"] * 5


@pytest.mark.parametrize("read_block", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("chunk_events", [1, 2, 3, 50])
def test_chunks_hold_chunk_events_non_blank_lines_whatever_the_read_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_block: int, chunk_events: int
) -> None:
    """Blank and whitespace-only lines (CRLF too) are not events; the last line need not
    end with a newline; a chunk never cuts a line, wherever the read blocks end."""
    monkeypatch.setattr(web, "READ_BLOCK", read_block)
    lines = [b'{"a": 1}\n', b"\n", b"  \r\n", b'{"b": 2}\r\n', b"\t\n", b'{"c": 3}\n']
    content = b"".join(lines * 5) + b"\x0c\n\n" + b'{"z": 26}'  # 16 events, no final newline
    (tmp_path / "events_20260310.jsonl").write_bytes(content)
    export = web.ExportFile(DAY, "events_20260310.jsonl", Location(str(tmp_path)))

    chunks = list(web._line_chunks(export, chunk_events))

    assert b"".join(chunk for chunk, _ in chunks) == content
    assert [last for _, last in chunks] == [False] * (len(chunks) - 1) + [True]
    events = [sum(1 for line in chunk.split(b"\n") if line.strip()) for chunk, _ in chunks]
    assert all(count == chunk_events for count in events[:-1])
    assert 0 < events[-1] <= chunk_events and sum(events) == 16
    assert all(chunk.endswith(b"\n") for chunk, _ in chunks[:-1])


def test_export_location_setting_is_required(
    cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", "")  # empty means unset
    with pytest.raises(ValueError, match="CXW_WEB_EXPORT_PATH"):
        run(DAY)


def test_an_unreadable_file_is_quarantined_with_its_bytes_skipped_then_revalidated(
    exports: Path,
) -> None:
    exports.mkdir(parents=True)
    broken = exports / f"events_{DAY:%Y%m%d}.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(FilesRejected, match="cannot be read") as caught:
        run(DAY)
    assert str(broken) in str(caught.value)
    assert isinstance(caught.value.failures[0], web.UnreadableExport)
    kept = Settings.from_env().quarantine_dir / "web" / "events" / "unreadable" / broken.name
    assert (kept / broken.name).read_bytes() == b"not gzip at all"
    assert "Not a gzipped file" in (kept / "reason.txt").read_text()

    # Unchanged: skipped with a warning, not failed again.
    assert run(DAY) == {}
    assert "cannot be read" in last_run()["skipped"][broken.name]
    # Fixed: validated again and landed, and the ledger forgets it.
    write_day(exports, DAY, [event(DAY)], gz=True)
    assert run(DAY) == {broken.name: 1}
    assert RejectedLedger(Settings.from_env(), "web").entries() == {}


def test_one_re_read_setting_for_the_extractor_and_the_dbt_models() -> None:
    import yaml

    from cxw.settings import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert web.REREAD_DAYS == project["vars"]["web_reread_days"] == 2
    for model in ("staging/web/stg_web__events.sql",
                  "intermediate/experience/int_web_sessions_aggregated.sql"):
        sql = (DBT_PROJECT_DIR / "models" / model).read_text()
        assert "{%- set lookback_days = var('web_reread_days') -%}" in sql, model
