"""A sale day (ten times the usual GA4 volume) lands and builds within the memory of a
normal day: the same task functions the DAGs call, each day in its own process, its
peak resident memory measured (sampled, process and children). No timing assertions."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from benchmarks.run import in_child, midnight
from cxw import duckdb_connection, pipeline
from cxw.settings import Settings
from cxw_demo.generate import generate

START, END = date(2026, 10, 1), date(2026, 10, 10)
NORMAL_DAY, SALE_DAY = date(2026, 10, 5), date(2026, 10, 8)


def land_and_build(day: date) -> dict:
    """Land the GA4 export of ``day`` (and, as the task does, the two days before), build
    the warehouse over it; the events landed per file, and the lake's rows for the day."""
    landed = pipeline.land_web(midnight(day), midnight(day + timedelta(days=1)))
    pipeline.build_warehouse(day)
    lake = Settings.from_env().lake_dir / "web" / "events"
    with duckdb_connection.connect() as connection:
        rows, distinct = connection.execute(
            "select count(*), count(distinct (event_timestamp, event_name, user_pseudo_id)) "
            "from read_parquet($files, union_by_name = true) where event_date = $day",
            {"files": [str(path) for path in lake.glob("*.parquet")],
             "day": day.strftime("%Y%m%d")},
        ).fetchone()
    return {"landed": landed, "rows": rows, "distinct": distinct}


@pytest.fixture(scope="module")
def sale_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sale")
    generate(out, 200, START, END, seed=3, spike_day=SALE_DAY)
    return out


def lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def test_a_sale_day_is_ten_times_a_normal_day(sale_company: Path) -> None:
    counts = {path.name: lines(path) for path in sorted((sale_company / "ga4").glob("*.jsonl"))}
    sale = counts.pop(f"events_{SALE_DAY:%Y%m%d}.jsonl")
    usual = sorted(counts.values())[len(counts) // 2]
    assert sale >= 7 * usual, (sale, counts)


def test_a_sale_day_lands_once_and_builds_within_a_normal_days_memory(
    sale_company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(sale_company / "ga4"))
    monkeypatch.setenv("CXW_EMAIL_SALT", "sale-test")
    peaks = {}
    results = {}
    for label, day in (("normal", NORMAL_DAY), ("sale", SALE_DAY)):
        monkeypatch.setenv("CXW_HOME", str(tmp_path / label))
        results[label], peaks[label] = in_child(land_and_build, day)

    sale_file = f"events_{SALE_DAY:%Y%m%d}.jsonl"
    events = lines(sale_company / "ga4" / sale_file)
    sale = results["sale"]
    assert sale["landed"][sale_file] == events
    assert sale["rows"] == sale["distinct"] == events, "every event landed once"
    # Generous: a sale day may cost a little more, never a multiple of a normal day.
    assert peaks["sale"] <= 1.5 * peaks["normal"], peaks
