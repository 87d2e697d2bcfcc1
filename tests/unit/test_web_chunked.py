"""A GA4 export day far larger than the chunk size lands every event once, in bounded
memory: the day is read, validated and written chunk by chunk (one row group each)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CHUNK = 4_000
BIG_DAY, ONE_CHUNK_DAY, TINY_DAY = date(2026, 3, 20), date(2026, 3, 10), date(2026, 3, 1)


def write_day(folder: Path, day: date, events: int) -> Path:
    """A GA4 export of ``day`` with ``events`` events. A field appears only in the last
    events (null before): the day's one schema must still hold it with its type."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000
    path = folder / f"events_{day:%Y%m%d}.jsonl"
    with path.open("w") as handle:
        for i in range(events):
            row = {
                "event_date": f"{day:%Y%m%d}",
                "event_timestamp": start + i * 1_000,
                "event_name": "page_view",
                "event_params": [
                    {"key": "ga_session_id", "value": {"int_value": 1_700_000_000 + i // 10}},
                    {"key": "page_location",
                     "value": {"string_value": f"https://shop.example/p/{i}"}},
                ],
                "user_id": None,
                "user_pseudo_id": f"{i % 5000}.456",
                "device": {"category": "desktop", "operating_system": "Linux",
                           "web_info": {"browser": "Firefox"}},
                "geo": {"country": "Germany", "city": "Berlin"},
                "items": [],
                "stream_id": "4178093526",
                "platform": "WEB",
                "late_field": i if i >= events - 3 else None,
            }
            handle.write(json.dumps(row) + "\n")
    return path


# Lands a tiny day (warming up pandas, pyarrow and GX), then a day of exactly one chunk,
# then the big day, and prints the peak resident memory (VmHWM) above the warm baseline
# after each: the big day's peak must stay near the one-chunk day's, however big it is.
MEASURE = """
import json, sys
from datetime import UTC, datetime, timedelta
from cxw.pipeline import land_web

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

def land(day):
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    later = start + timedelta(days=30)
    return land_web(start, start + timedelta(days=1), now=later)

land(sys.argv[1])
baseline = peak_mb()
one = land(sys.argv[2])
one_chunk = peak_mb() - baseline
big = land(sys.argv[3])
print(json.dumps({"one": one, "big": big, "one_chunk_mb": one_chunk,
                  "big_mb": peak_mb() - baseline}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_a_day_far_larger_than_the_chunk_lands_once_in_bounded_memory(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "ga4"
    exports.mkdir()
    write_day(exports, TINY_DAY, 50)
    write_day(exports, ONE_CHUNK_DAY, CHUNK)
    big_events = 12 * CHUNK + 123  # thirteen chunks, the last a short one
    write_day(exports, BIG_DAY, big_events)
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(exports))
    monkeypatch.setenv("CXW_WEB_CHUNK_EVENTS", str(CHUNK))

    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *(str(day) for day in (TINY_DAY, ONE_CHUNK_DAY,
                                                                 BIG_DAY))],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["big"] == {f"events_{BIG_DAY:%Y%m%d}.jsonl": big_events}

    (landed,) = (cxw_home / "lake" / "raw" / "web" / "events").glob(f"{BIG_DAY:%Y%m%d}T*.parquet")
    batch = pq.ParquetFile(landed)
    assert batch.metadata.num_rows == big_events
    assert batch.metadata.num_row_groups == 13, "one row group per chunk"
    table = batch.read(columns=["event_timestamp", "late_field", "_source_file"])
    assert len(set(table["event_timestamp"].to_pylist())) == big_events, "each event once"
    # A field first seen in the last chunk keeps its type and values (nulls before).
    assert str(table.schema.field("late_field").type) == "int64"
    assert table["late_field"].drop_null().to_pylist() == [big_events - 3 + i for i in range(3)]

    # Thirteen times the events of the one-chunk day, about the same peak memory: a
    # whole-day read holds every event at once (measured: ~10x the one-chunk peak).
    # Generous margin: 3x, plus 30 MiB for allocator noise.
    assert measured["big_mb"] < 3 * measured["one_chunk_mb"] + 30, measured
