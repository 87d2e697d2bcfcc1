"""One extractor module per source system, all of one shape.

A source module declares its entities as data (``Entity``: name, contract columns, key,
cursor) and has a ``batches(...)`` function that, given its configuration (a client, an
engine, a file location: built by ``cxw.pipeline`` from settings and connections and
passed in), the run's window and the sync state of what landed before, yields one
``Batch`` per batch to land. A batch is read only when the landing path asks for it
(``Batch.read``), so a source never holds more than the batch being landed.

Where the rows go (validation, the lake, the sync state, the rejected-file ledger) is
``cxw.landing.land_batches``'s job, the same for every source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from cxw.lake import Window
from cxw.schema import PARSE_ERRORS, coerce

#: Where an entity's first landed window starts reading: everything changed before the
#: sync began (long-standing customers, agents, old tickets) lands with it.
HISTORY_START = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entity:
    """A raw entity of a source: its contract columns (kinds as in ``cxw.schema``), the
    columns that identify a row, and the field an incremental read follows (None: a
    snapshot, or a file that is its own unit)."""

    name: str
    columns: Mapping[str, str]
    key: tuple[str, ...]
    cursor: str | None = None


class Unreadable(ValueError):
    """A source file that cannot be parsed at all (bad encoding, broken JSON): it is
    quarantined with its bytes as received."""


#: The sync state of what landed before, by unit (entity or file name); None if never.
Previous = Callable[[str], "Mapping[str, Any] | None"]


@dataclass
class Batch:
    """One batch a source offers for a run, read when the landing path asks for it.

    ``unit`` names it in the sync state and the rejected-file ledger: the entity for
    API and database sources, the file for file sources. ``checksum`` (files) lets the
    landing path skip a file still rejected with the same content before reading it;
    ``content`` gives the bytes to quarantine if ``read`` raises ``Unreadable``.
    ``clears`` are other ledger entries the batch settles once landed; ``path`` is where a
    file is, as a user would look for it."""

    entity: Entity
    unit: str
    read: Callable[[], PendingBatch | StreamedBatch]
    path: str | None = None
    checksum: str | None = None
    content: Callable[[], bytes] | None = None
    clears: tuple[str, ...] = ()


@dataclass
class Rejected:
    """A unit a source rejects before reading it (two exports of one day)."""

    entity: Entity
    unit: str
    reason: str
    error: Exception = field(repr=False)


def is_first_window(previous: Mapping[str, Any] | None, window: Window) -> bool:
    """Whether ``window`` is the unit's first landed one (or a rerun of it): then it
    reads the whole history from ``HISTORY_START``, every time, so reruns agree."""
    return not previous or previous.get("first_batch_id") == window.batch_id


@dataclass(frozen=True)
class PendingBatch:
    """One batch read from its source and typed, not validated yet (see ``land_table``)."""

    table: pa.Table
    #: What the suite checks, one row per row of ``table``: a DataFrame, or an Arrow
    #: table turned into one only when validated (``validation_frame``), so the batches
    #: of a run validated together become one frame, not one each (``land_together``).
    checks: pd.DataFrame | pa.Table
    window: Window
    origin: str
    #: Extra fields for the unit's sync state once landed (a cursor, pages read).
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def validation_frame(self) -> pd.DataFrame:
        if isinstance(self.checks, pd.DataFrame):
            return self.checks
        return frame_of(self.checks)

    @property
    def rows(self) -> int:
        return self.table.num_rows


def frame_of(checks: pa.Table) -> pd.DataFrame:
    """The pandas frame GX validates, from Arrow: integers as nullable ``Int64``, text
    as pandas' Arrow-backed ``str``, times as ``datetime64[us, UTC]`` (the dtypes the
    suites are written for)."""
    return checks.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def typed_batch(
    records: pd.DataFrame,
    columns: Mapping[str, str],
    window: Window,
    origin: str,
    state: Mapping[str, Any] | None = None,
) -> PendingBatch:
    """Type ``records`` by the contract's ``columns``: what ``land_batch`` lands."""
    typed = coerce(records, columns)
    table = pa.Table.from_pandas(typed.drop(columns=[PARSE_ERRORS]), preserve_index=False)
    return PendingBatch(table, typed, window, origin, state or {})


def typed_batches(
    parts: Sequence[tuple[pd.DataFrame, Window, str]], columns: Mapping[str, str]
) -> list[PendingBatch]:
    """``typed_batch`` of each (records, window, origin) part, the same batches, typed in
    one pass per set of parts sent with the same columns: typing costs ~30 ms per frame
    whatever its rows (a pandas call per column), which a catch-up of hundreds of small
    files paid per file. Parts with other columns (an extra or a missing one) are typed
    apart, so each batch keeps exactly the columns its file sent."""
    alike: dict[tuple[str, ...], list[int]] = {}
    for number, (records, _, _) in enumerate(parts):
        alike.setdefault(tuple(records.columns), []).append(number)
    typed: dict[int, PendingBatch] = {}
    for numbers in alike.values():
        frames = [parts[number][0] for number in numbers]
        together = coerce(
            pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], columns
        )
        start = 0
        for number, frame in zip(numbers, frames, strict=True):
            part = together.iloc[start : start + len(frame)].reset_index(drop=True)
            start += len(frame)
            table = pa.Table.from_pandas(part.drop(columns=[PARSE_ERRORS]), preserve_index=False)
            typed[number] = PendingBatch(table, part, parts[number][1], parts[number][2])
    return [typed[number] for number in range(len(parts))]


@dataclass(frozen=True)
class StreamedBatch:
    """One batch read in chunks (a GA4 export day of any size): ``chunks()`` yields it
    as consecutive ``PendingBatch`` pieces of the same window, each typed alike, so only
    one chunk is in memory at a time."""

    chunks: Callable[[], Iterator[PendingBatch]]
    window: Window
    origin: str
    #: Extra fields for the unit's sync state once landed; a source whose cursor is
    #: known only after its last chunk (a helpdesk export) fills it in as it reads.
    state: Mapping[str, Any] = field(default_factory=dict)
    #: The key whose repeats keep only their last copy, in chunk order, whichever chunks
    #: they fall in (an export that serves an item again when it changed while being
    #: read). Without it, a key repeated across chunks fails the suite's uniqueness rule.
    latest_copy_of: tuple[str, ...] | None = None
