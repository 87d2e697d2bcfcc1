"""The lake: raw batches as Parquet files, written atomically, one file per load window.

Layout: ``<lake>/<source>/<entity>/<batch_id>.parquet``. A batch id is derived from the
load window, so loading the same window again replaces that batch instead of adding a
second copy. Every row carries the batch's window and load time.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ID = "_batch_id"
BATCH_COLUMNS = [BATCH_ID, "_window_start", "_window_end", "_loaded_at"]


@dataclass(frozen=True)
class Window:
    """A half-open load window ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.end < self.start:
            raise ValueError(f"window end {self.end} is before its start {self.start}")

    @property
    def batch_id(self) -> str:
        fmt = "%Y%m%dT%H%M%S"
        return f"{self.start.strftime(fmt)}_{self.end.strftime(fmt)}"


# A batch file's name: its window's start and end, ``20260101T000000_20260102T000000``.
BATCH_FILE_NAME = re.compile(r"\d{8}T\d{6}_(\d{8}T\d{6})")


def latest_data_date(folder: Path) -> date | None:
    """The last day whose data the batches under ``folder`` hold (a source's or the
    whole lake's): the latest window end in their batch ids, minus a moment."""
    ends = [
        datetime.strptime(batch.group(1), "%Y%m%dT%H%M%S")
        for path in folder.rglob("*.parquet")
        # Only batch files: not derived data kept beside them (survey comment sentiment).
        if (batch := BATCH_FILE_NAME.fullmatch(path.stem))
    ]
    return (max(ends) - timedelta(microseconds=1)).date() if ends else None


def batch_path(root: Path, source: str, entity: str, batch_id: str) -> Path:
    return root / source / entity / f"{batch_id}.parquet"


def with_batch_columns(frame: pd.DataFrame, window: Window, loaded_at: datetime) -> pd.DataFrame:
    """Return a copy of ``frame`` with the batch metadata columns added."""
    out = frame.copy()
    out["_batch_id"] = window.batch_id
    out["_window_start"] = pd.Timestamp(window.start)
    out["_window_end"] = pd.Timestamp(window.end)
    out["_loaded_at"] = pd.Timestamp(loaded_at)
    return out


def add_batch_columns(table: pa.Table, window: Window, loaded_at: datetime) -> pa.Table:
    """Arrow twin of ``with_batch_columns`` with the same column types, so a batch
    landed from pandas and one landed from Arrow read back alike."""
    rows = table.num_rows
    moment = pa.timestamp("us", tz="UTC")
    values = {  # one value repeated, built in Arrow (no Python list of ``rows`` items)
        "_batch_id": pa.repeat(pa.scalar(window.batch_id, pa.large_string()), rows),
        "_window_start": pa.repeat(pa.scalar(window.start, moment), rows),
        "_window_end": pa.repeat(pa.scalar(window.end, moment), rows),
        "_loaded_at": pa.repeat(pa.scalar(loaded_at, moment), rows),
    }
    for name, column in values.items():
        table = table.append_column(name, column)
    return table


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` atomically (see ``write_table_atomic``)."""
    return write_table_atomic(pa.Table.from_pandas(frame, preserve_index=False), path)


def write_table_atomic(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` via a temporary file and a rename, so readers never
    see a half-written file and a crash leaves the previous version in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
