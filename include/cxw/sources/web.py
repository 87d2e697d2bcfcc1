"""Web analytics: Google Analytics 4 BigQuery daily export files (sources.md §2).

One file per day, ``events_YYYYMMDD.jsonl`` or ``.jsonl.gz``. Google rewrites a day's
table for up to 72 hours, so a run for the window ``[D, D+1)`` reads the export of D
and of the two days before. Each export day is its own batch (its window is that day),
so reading a day again replaces its batch instead of adding a second copy.

Missing files: a day without traffic has no file at all, and the latest day's export may
simply be late. So the days that exist land; the latest day of the window, while it is
missing and less than ``CXW_WEB_LATE_DEADLINE_HOURS`` after its end, is waited for
(``ExportLate``, a transient error: the run is retried); after that deadline, and for any
older day, a missing file counts as a day without traffic, with a warning. Two exports of
one day (``.jsonl`` and ``.jsonl.gz``) reject that day only.

Records keep GA4's nested structure as Arrow types. The fields the contract names are
read with one fixed Arrow type (``SCHEMA``), so every day's Parquet agrees on them:
``event_params.value`` is always the four-member struct whichever members a file fills
(``session_engaged`` as int 1 lands in ``int_value``, as "1" in ``string_value``, as
sent). Every other field is inferred and kept as sent; a field that is null throughout
a file is stored as a string column rather than Arrow's ``null`` type, so the next day's
file, where it has values, still has a compatible column.

Reading is pyarrow's multi-threaded JSON reader (no per-event Python), each line
parsed once. Validation runs on a flat projection of the scalar columns, one row per
event, built in Arrow (``validation_checks``) and handed to GX as one pandas frame for
all the files validated together (``cxw.landing.land_together``).

Bounded memory: a file is read in chunks of ``CXW_WEB_CHUNK_EVENTS`` lines. A day that
fits in one chunk is one ``PendingBatch``, validated with the run's other files. A
bigger day is a ``StreamedBatch``: a first pass over its chunks finds the one Arrow type
of every field (pyarrow's streaming reader fixes its schema on the first block, so a
field first seen later would fail it), a second pass types each chunk alike and lands
it as one row group of the day's batch file. Only one chunk is ever in memory.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import yaml

from cxw.lake import Window
from cxw.schema import PARSE_ERRORS
from cxw.settings import DBT_PROJECT_DIR
from cxw.sources import (
    Batch,
    Entity,
    PendingBatch,
    Rejected,
    StreamedBatch,
    Unreadable,
    frame_of,
)
from cxw.sources.location import Location

SOURCE = "web"


def _reread_days() -> int:
    """The dbt project's ``web_reread_days`` var: one setting for the extractor and the
    incremental web models."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return int(project["vars"]["web_reread_days"])


#: Days before the window's first day that are read again (Google rewrites for 72 h).
REREAD_DAYS = _reread_days()
SUFFIXES = (".jsonl", ".jsonl.gz")
SOURCE_FILE = "_source_file"
# JSON blocks handed to the reader's threads. A day at 50,000 customers is ~20 MB: in
# 4 MiB blocks both cores parse it (0.076 s); 16 MiB blocks left one idle (0.094 s) and
# 1 MiB blocks cost more per block (0.078 s). Over 92 days' landing: 0.79x the wall time
# of 16 MiB blocks and no read-ahead (cxw.landing.read_ahead), same CPU.
BLOCK_SIZE = 4 << 20


def _struct(**fields: pa.DataType) -> pa.StructType:
    return pa.struct(list(fields.items()))


PARAM_VALUE = _struct(
    string_value=pa.string(),
    int_value=pa.int64(),
    float_value=pa.float64(),
    double_value=pa.float64(),
)
USER_PROPERTY_VALUE = _struct(
    string_value=pa.string(),
    int_value=pa.int64(),
    float_value=pa.float64(),
    double_value=pa.float64(),
    set_timestamp_micros=pa.int64(),
)
#: The contract's fields with their one Arrow type; other fields are inferred.
SCHEMA = pa.schema(
    [
        ("event_date", pa.string()),
        ("event_timestamp", pa.int64()),
        ("event_name", pa.string()),
        ("event_params", pa.list_(_struct(key=pa.string(), value=PARAM_VALUE))),
        ("user_id", pa.string()),
        ("user_pseudo_id", pa.string()),
        ("user_properties", pa.list_(_struct(key=pa.string(), value=USER_PROPERTY_VALUE))),
        (
            "device",
            _struct(
                category=pa.string(),
                operating_system=pa.string(),
                web_info=_struct(browser=pa.string()),
            ),
        ),
        ("geo", _struct(country=pa.string(), city=pa.string())),
        ("traffic_source", _struct(source=pa.string(), medium=pa.string(), name=pa.string())),
        (
            "collected_traffic_source",
            _struct(
                manual_source=pa.string(),
                manual_medium=pa.string(),
                manual_campaign_name=pa.string(),
            ),
        ),
        ("ecommerce", _struct(transaction_id=pa.string(), purchase_revenue=pa.float64())),
        (
            "items",
            pa.list_(
                _struct(
                    item_id=pa.string(),
                    item_name=pa.string(),
                    item_category=pa.string(),
                    price=pa.float64(),
                    quantity=pa.int64(),
                )
            ),
        ),
        ("stream_id", pa.string()),
        ("platform", pa.string()),
    ]
)
#: Scalar columns the suite checks, besides ``ga_session_id`` taken from the params.
FLAT_COLUMNS = [
    "event_date",
    "event_timestamp",
    "event_name",
    "user_pseudo_id",
    "user_id",
    "stream_id",
    "platform",
]


#: One entity, the day's events; the flat columns the suite checks (nested ones as sent).
EVENTS = Entity(
    "events",
    {
        "event_date": "str",
        "event_timestamp": "int",
        "event_name": "str",
        "user_pseudo_id": "str",
        "user_id": "str",
        "stream_id": "str",
        "platform": "str",
        "ga_session_id": "int",
    },
    key=(),
    cursor="event_timestamp",
)
ENTITIES = {EVENTS.name: EVENTS}


class UnreadableExport(Unreadable):
    """A file that is not newline-delimited JSON of the GA4 export shape."""


@dataclass(frozen=True)
class ExportFile:
    """The export of one day, as found in the export location."""

    day: date
    name: str
    location: Location

    @property
    def path(self) -> str:
        return self.location.describe(self.name)

    @property
    def window(self) -> Window:
        """The batch window: the export day, so its batch id is the same on every read."""
        start = datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return Window(start, start + timedelta(days=1))


def days_to_read(window: Window) -> list[date]:
    """Every day the window touches and the ``REREAD_DAYS`` before it, oldest first."""
    first = window.start.date()
    last = max(first, (window.end - timedelta(microseconds=1)).date())
    days = (last - first).days + 1 + REREAD_DAYS
    start = first - timedelta(days=REREAD_DAYS)
    return [start + timedelta(days=offset) for offset in range(days)]


@dataclass
class ExportScan:
    """What the export location holds for a window's days: one file per day found, the
    days with two exports (``{day: names}``, which one is newer cannot be told from the
    names, so the day is rejected), and the days without any file."""

    found: list[ExportFile]
    duplicates: dict[date, list[str]]
    missing: list[date]


def scan_exports(location: Location, window: Window) -> ExportScan:
    """The export files to read for ``window`` (its days and the re-read days before)."""
    scan = ExportScan([], {}, [])
    for day in days_to_read(window):
        names = [f"events_{day:%Y%m%d}{suffix}" for suffix in SUFFIXES]
        present = [name for name in names if location.exists(name)]
        if len(present) > 1:
            scan.duplicates[day] = present
        elif present:
            scan.found.append(ExportFile(day, present[0], location))
        else:
            scan.missing.append(day)
    return scan


def latest_day(window: Window) -> date:
    """The last day of ``window``: the one whose export may still be on its way."""
    return days_to_read(window)[-1]


def is_late(day: date, now: datetime, deadline_hours: float) -> bool:
    """Whether a missing export of ``day`` may still come: it is less than
    ``deadline_hours`` since the day ended. After that the day counts as one without
    traffic (BigQuery writes no daily table for a day without events)."""
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return now < day_end + timedelta(hours=deadline_hours)


LOOKALIKE_PREFIX = "events_"


def misnamed_exports(names: list[str]) -> list[str]:
    """Files that look like GA4 exports but whose name the pipeline does not read
    (``events_2026-03-15.jsonl``, ``events_20260315.json``)."""
    expected = re.compile(r"^events_\d{8}\.jsonl(\.gz)?$")
    return [
        name
        for name in names
        if name.lower().startswith(LOOKALIKE_PREFIX) and not expected.match(name)
    ]


class ExportLate(RuntimeError):
    """The latest day's export is not there yet but may still come (a transient error:
    the run is retried until the deadline, after which the day counts as empty)."""


def parse_events(content: bytes) -> pa.Table:
    """Newline-delimited GA4 events to Arrow, the contract's fields typed as ``SCHEMA``."""
    return _stable(_parse(content, SCHEMA))


def _parse(content: bytes, schema: pa.Schema) -> pa.Table:
    """The events read with ``schema``'s types (other fields inferred)."""
    if not content or content.isspace():  # ``strip`` would copy a whole chunk
        # A day without events is an empty file; the reader refuses empty input.
        return schema.empty_table()
    try:
        return _read_json(content, schema)
    except pa.ArrowInvalid as error:
        if "changed from number to string" not in str(error):
            raise
        # BigQuery's JSON export writes INT64 values as strings to keep their 64-bit
        # precision: read the integers as text, then cast them back.
        return _read_json(content, _integers_as_text(schema))


def _read_json(content: bytes, schema: pa.Schema) -> pa.Table:
    return pajson.read_json(
        io.BytesIO(content),
        read_options=pajson.ReadOptions(block_size=BLOCK_SIZE),
        parse_options=pajson.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="infer"
        ),
    )


def _integers_as_text(schema: pa.Schema) -> pa.Schema:
    return pa.schema([field.with_type(_map_type(field.type, _int_to_text)) for field in schema])


def _int_to_text(kind: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_integer(kind) else kind


def _null_to_text(kind: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_null(kind) else kind


def _map_type(kind: pa.DataType, leaf: Callable[[pa.DataType], pa.DataType]) -> pa.DataType:
    """``kind`` with ``leaf`` applied to every non-nested type inside it."""
    if pa.types.is_struct(kind):
        return pa.struct([field.with_type(_map_type(field.type, leaf)) for field in kind])
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        item = kind.value_field.with_type(_map_type(kind.value_type, leaf))
        return pa.large_list(item) if pa.types.is_large_list(kind) else pa.list_(item)
    return leaf(kind)


def _stable(table: pa.Table, nulls_as_text: bool = True) -> pa.Table:
    """The same types for the contract's fields in every file, no ``null``-typed
    columns, and the contract's fields first (in ``SCHEMA`` order), extras after.
    Without ``nulls_as_text`` all-null fields keep Arrow's ``null`` type (a chunk of a
    bigger day, whose other chunks may say what the field holds)."""
    target = _stable_schema(table.schema, nulls_as_text)
    table = table.cast(target)
    extras = [name for name in table.column_names if name not in SCHEMA.names]
    return table.select(SCHEMA.names + extras)


def _stable_schema(schema: pa.Schema, nulls_as_text: bool = True) -> pa.Schema:
    leaf = _null_to_text if nulls_as_text else _same
    return pa.schema(
        [
            field.with_type(_with_extras(SCHEMA.field(field.name).type, field.type, leaf))
            if field.name in SCHEMA.names
            else field.with_type(_map_type(field.type, leaf))
            for field in schema
        ]
    )


def _same(kind: pa.DataType) -> pa.DataType:
    return kind


def _with_extras(
    known: pa.DataType, sent: pa.DataType, leaf: Callable[[pa.DataType], pa.DataType]
) -> pa.DataType:
    """``known``, where a struct also keeps the members a file sent beyond the
    contract's (``device.language``), typed as inferred (all-null ones as text)."""
    if pa.types.is_struct(known) and pa.types.is_struct(sent):
        members = {field.name: field for field in known}
        merged = [
            field.with_type(_with_extras(members[field.name].type, field.type, leaf))
            if field.name in members
            else field.with_type(_map_type(field.type, leaf))
            for field in sent
        ]
        return pa.struct(merged)
    if pa.types.is_list(known) and pa.types.is_list(sent):
        return pa.list_(
            known.value_field.with_type(_with_extras(known.value_type, sent.value_type, leaf))
        )
    return known


def session_ids(params: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each event's ``ga_session_id`` param (``int_value``), null where it has none."""
    if isinstance(params, pa.ChunkedArray):
        params = params.combine_chunks()
    flat = pc.list_flatten(params)
    parents = pc.list_parent_indices(params).to_numpy()
    keys = pc.struct_field(flat, "key")
    is_session = pc.fill_null(pc.equal(keys, "ga_session_id"), False)
    chosen = is_session.to_numpy(zero_copy_only=False)
    position = np.full(len(params), -1, dtype=np.int64)
    position[parents[chosen]] = np.flatnonzero(chosen)
    ints = pc.struct_field(pc.struct_field(flat, "value"), "int_value")
    return pc.take(ints, pa.array(position, mask=position < 0))


def validation_checks(table: pa.Table, export: ExportFile, first_row: int = 1) -> pa.Table:
    """The flat columns the suite checks, one row per event of ``table``, with helpers:
    ``_event_at`` (the timestamp as a time, for the plausibility check), ``_export_date``
    (the file's day, which ``event_date`` must equal), ``_row_number`` (1-based record
    in the file, so an offending row can be found; ``first_row`` is the first row of a
    chunk) and ``_parse_errors``. Built in Arrow (no per-row Python): ``frame_of``
    turns it into the frame GX validates, once for all the files validated together."""
    rows = table.num_rows
    flat = table.select(FLAT_COLUMNS)
    # A cast, not pd.to_datetime: a timestamp in the year 2999 must become a time the
    # range check rejects, not an out-of-bounds error for nanoseconds.
    helpers = {
        "ga_session_id": session_ids(table["event_params"]),
        "_event_at": pc.cast(flat["event_timestamp"], pa.timestamp("us", tz="UTC")),
        "_export_date": pa.repeat(pa.scalar(f"{export.day:%Y%m%d}"), rows),
        "_row_number": pa.array(np.arange(first_row, first_row + rows, dtype=np.int64)),
        PARSE_ERRORS: _event_date_errors(flat["event_date"]),
    }
    for name, column in helpers.items():
        flat = flat.append_column(name, column)
    return flat


def validation_frame(table: pa.Table, export: ExportFile, first_row: int = 1) -> pd.DataFrame:
    """``validation_checks`` as the pandas frame GX validates."""
    return frame_of(validation_checks(table, export, first_row))


def _event_date_errors(event_date: pa.ChunkedArray) -> pa.Array:
    """``event_date='20261345'`` where the text is not a calendar date, else null. A file
    holds a few distinct dates: each is parsed once, not once per event."""
    bad = pa.array(
        [text for text in pc.unique(event_date).drop_null().to_pylist() if not _is_date(text)],
        pa.string(),
    )
    if not len(bad):
        return pa.nulls(len(event_date), pa.string())
    reprs = pa.array([repr(text) for text in bad.to_pylist()], pa.string())
    quoted = pc.take(reprs, pc.index_in(event_date, bad))
    message = pc.binary_join_element_wise("event_date=", quoted, "")
    return pc.if_else(pc.is_in(event_date, bad), message, pa.scalar(None, pa.string()))


def _is_date(text: str) -> bool:
    """Whether ``text`` is a calendar date as ``%Y%m%d`` (as pandas reads that format)."""
    if len(text) == 8 and text.isascii() and text.isdigit() and text[:4] != "0000":
        try:
            date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return False
        return True
    return not pd.isna(pd.to_datetime(text, format="%Y%m%d", errors="coerce"))


# -- reading a day in bounded chunks ---------------------------------------------------


#: Decompressed bytes read at a time when cutting a file into chunks.
READ_BLOCK = 1 << 20
#: A blank line (one ``bytes.strip`` leaves empty), found after the newline before it.
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c]*(?=\n)")


def _line_chunks(export: ExportFile, chunk_events: int) -> Iterator[tuple[bytes, bool]]:
    """The file's lines (decompressed), ``chunk_events`` non-blank lines at a time, each
    with whether it is the last chunk (an empty file is one empty chunk). The file is
    read in blocks of whole lines, and lines are only counted (blank ones are not
    events) and cut one by one where a chunk may end: a day smaller than a chunk costs
    no Python per line."""
    with export.location.open(export.name) as raw, (
        gzip.open(raw) if export.name.endswith(".gz") else nullcontext(raw)
    ) as stream:
        ready: bytes | None = None
        parts: list[bytes] = []
        events = 0  # the events in ``parts``; while not ``exact``, its lines (at least)
        exact = True
        for block in _whole_lines(stream):
            lines = block.count(b"\n")
            if block.endswith(b"\n") and events + lines < chunk_events:  # no chunk ends here
                parts.append(block)
                events += lines
                exact = False
                continue
            if not exact:
                events = sum(_events_in(part) for part in parts)
                exact = True
            for line in _lines(block):
                parts.append(line)
                if line.strip():
                    events += 1
                if events == chunk_events:
                    if ready is not None:
                        yield ready, False
                    ready, parts, events = b"".join(parts), [], 0
        if ready is not None:
            yield ready, not parts
        if parts or ready is None:
            yield b"".join(parts), True


def _events_in(lines: bytes) -> int:
    """The non-blank lines of ``lines`` (whole lines, each ending with a newline)."""
    return lines.count(b"\n") - len(_BLANK_LINE.findall(b"\n" + lines))


def _lines(block: bytes) -> list[bytes]:
    """``block``'s lines with their ends, cut at ``\\n`` only (as reading a file does)."""
    lines = [line + b"\n" for line in block.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _whole_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """``stream`` in blocks of about ``READ_BLOCK`` bytes, each ending at a line end
    (the last one at the end of the file, which need not end a line)."""
    tail = b""
    while block := stream.read(READ_BLOCK):
        block = tail + block
        end = block.rfind(b"\n") + 1
        tail = block[end:]
        if end:
            yield block[:end]
    if tail:
        yield tail


def _unreadable(export: ExportFile, error: Exception) -> UnreadableExport:
    return UnreadableExport(f"GA4 export {export.path} cannot be read: {error}")


def _with_source_file(table: pa.Table, export: ExportFile) -> pa.Table:
    return table.append_column(
        SOURCE_FILE, pa.repeat(pa.scalar(export.name, pa.string()), table.num_rows)
    )


def read_day(export: ExportFile, chunk_events: int) -> PendingBatch | StreamedBatch:
    """The export day as one batch: a ``PendingBatch`` if it fits in one chunk of
    ``chunk_events`` events, else a ``StreamedBatch`` landed chunk by chunk. The whole
    file is read once here (a first pass), so an unreadable file is found before any of
    it lands."""
    origin = f"GA4 export file {export.path}"
    schemas: list[pa.Schema] = []
    try:
        for content, last in _line_chunks(export, chunk_events):
            raw = _parse(content, SCHEMA)
            if not schemas and last:
                table = _with_source_file(_stable(raw), export)  # the whole day: one chunk
                return PendingBatch(table, validation_checks(table, export), export.window, origin)
            schemas.append(_stable(raw, nulls_as_text=False).schema)
    except (OSError, EOFError, pa.ArrowInvalid) as error:
        raise _unreadable(export, error) from error
    read_as = pa.unify_schemas(schemas, promote_options="permissive")
    target = _stable_schema(read_as)

    def chunks() -> Iterator[PendingBatch]:
        first_row = 1
        for content, _ in _line_chunks(export, chunk_events):
            table = _with_source_file(_parse(content, read_as).cast(target), export)
            yield PendingBatch(
                table, validation_checks(table, export, first_row), export.window, origin
            )
            first_row += table.num_rows

    return StreamedBatch(chunks, export.window, origin)


def batches(
    location: Location,
    window: Window,
    *,
    late: bool,
    warn: Callable[[str], None],
    chunk_events: int,
) -> Iterator[Batch | Rejected]:
    """One batch per export day of ``window`` and the re-read days before it. Two
    exports of one day reject that day; a missing day is warned about (the latest
    one, while ``late``, as still awaited)."""
    scan = scan_exports(location, window)
    for name in misnamed_exports(location.names()):
        warn(
            f"{location.describe(name)} looks like a GA4 export but is not named "
            "events_YYYYMMDD.jsonl[.gz]: not read (rename it to load it)"
        )
    for day, names in scan.duplicates.items():
        reason = (
            f"web.events: two exports for {day}: {' and '.join(names)} in {location.url}; "
            "which is newer cannot be told, so the day is rejected: keep one"
        )
        yield Rejected(EVENTS, f"events_{day:%Y%m%d}", reason, UnreadableExport(reason))
    latest = latest_day(window)
    for day in scan.missing:
        if day == latest and late:
            warn(f"no export for {day} yet (the latest day): waiting for it")
        else:
            warn(f"no export for {day}: taken as a day without traffic")
    for export in scan.found:
        yield Batch(
            EVENTS,
            export.name,
            lambda export=export: read_day(export, chunk_events),
            export.path,
            location.checksum(export.name),
            lambda export=export: location.read_bytes(export.name),
            clears=(f"events_{export.day:%Y%m%d}",),  # a day once exported twice
        )
