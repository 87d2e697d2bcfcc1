"""Surveys: the survey platform's CSV exports (sources.md §4).

Files are the unit: every ``responses_YYYYMMDD.csv`` in the drop location that has not
been loaded, whatever its date, is one batch (its window is the export day in its name,
so its batch id is the same on every load). A file counts as loaded by name AND SHA-256
of its bytes, recorded in the sync state only after its batch has landed: a file
re-delivered with other content is loaded again and replaces its batch; an unchanged
one is skipped, so running again is a no-op. A response exported again in a later file
is kept in both batches; staging keeps the latest ``submitted_at`` per ``response_id``.

Files are read as sent: UTF-8 with or without a byte-order mark, RFC 4180 quoting
(commas, doubled quotes and line breaks inside comments), every value as text until
``cxw.schema.coerce`` types the contract's columns; extra columns are kept. Only empty
fields are missing values: a comment reading "NA" or "null" stays text.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from cxw.lake import Window
from cxw.sources import Batch, Entity, PendingBatch, Previous, Unreadable, typed_batches
from cxw.sources.location import Location

SOURCE = "surveys"
#: The contract's columns and their kinds (see ``cxw.schema``).
COLUMNS: dict[str, str] = {
    "response_id": "str",
    "survey_type": "str",
    "submitted_at": "timestamp",
    "respondent_email": "str",
    "customer_id": "int",
    "ticket_id": "int",
    "order_id": "int",
    "score": "int",
    "comment": "str",
}
#: Every file is one batch of responses; staging keeps the latest per ``response_id``.
RESPONSES = Entity("responses", COLUMNS, key=("response_id",))
ENTITIES = {RESPONSES.name: RESPONSES}
FILE_NAME = re.compile(r"^responses_(\d{8})\.csv$")
SOURCE_FILE = "_source_file"


class UnreadableExport(Unreadable):
    """A file that is not CSV text (bad encoding, unbalanced quotes)."""


@dataclass(frozen=True)
class SurveyExport:
    """One export file with the bytes that were checksummed (and are the ones parsed)."""

    name: str
    day: date
    path: str
    content: bytes

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def window(self) -> Window:
        start = datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return Window(start, start + timedelta(days=1))


def export_names(location: Location) -> list[tuple[str, date]]:
    """The export files in the drop location with their export day, oldest first."""
    exports = []
    for name in location.names():
        match = FILE_NAME.match(name)
        if match:
            exports.append((name, datetime.strptime(match.group(1), "%Y%m%d").date()))
    return sorted(exports, key=lambda export: (export[1], export[0]))


#: A name that looks like an export but does not follow ``responses_YYYYMMDD.csv``
#: (``responses_2026-03-15.csv``, ``Responses_20260315.CSV``): warned about, not read.
LOOKALIKE = re.compile(r"^responses.*\.csv$", re.IGNORECASE)


def misnamed_exports(names: list[str]) -> list[str]:
    """Files that look like survey exports but whose name the pipeline does not read."""
    return [name for name in names if LOOKALIKE.match(name) and not FILE_NAME.match(name)]


def pending_exports(location: Location, previous: Previous) -> Iterator[SurveyExport]:
    """Export files whose name and checksum are not in the sync state (``previous``)."""
    for name, day in export_names(location):
        export = SurveyExport(name, day, location.describe(name), location.read_bytes(name))
        if (previous(name) or {}).get("sha256") != export.checksum:
            yield export


#: Consecutive export files read and typed together (``typed_batches``) up to about this
#: many bytes; each file is still its own batch.
TYPED_TOGETHER_BYTES = 32 * 2**20


def batches(
    location: Location, previous: Previous, warn: Callable[[str], None]
) -> Iterator[Batch]:
    """One batch per export file not loaded yet (whatever the run's window: files are
    the unit), its window the export day."""
    for name in misnamed_exports(location.names()):
        warn(
            f"{location.describe(name)} looks like a survey export but is not named "
            "responses_YYYYMMDD.csv: not read (rename it to load it)"
        )
    for exports in _together(pending_exports(location, previous)):
        typed = _TypedTogether(exports)
        for export in exports:
            yield Batch(RESPONSES, export.name, functools.partial(typed.batch, export),
                        export.path, export.checksum, lambda export=export: export.content)


def _together(exports: Iterator[SurveyExport]) -> Iterator[list[SurveyExport]]:
    """Consecutive exports in groups of about ``TYPED_TOGETHER_BYTES`` (a bigger one alone)."""
    group: list[SurveyExport] = []
    size = 0
    for export in exports:
        if group and size + len(export.content) > TYPED_TOGETHER_BYTES:
            yield group
            group, size = [], 0
        group.append(export)
        size += len(export.content)
    if group:
        yield group


class _TypedTogether:
    """The batches of a group of exports, parsed file by file (an unreadable file fails
    alone) and typed in one pass when the first of them is read."""

    def __init__(self, exports: list[SurveyExport]) -> None:
        self.exports = exports
        self.read: dict[str, PendingBatch | UnreadableExport] | None = None

    def batch(self, export: SurveyExport) -> PendingBatch:
        if self.read is None:
            self.read = {}
            readable: list[tuple[SurveyExport, pd.DataFrame]] = []
            for each in self.exports:
                try:
                    readable.append((each, read_responses(each)))
                except UnreadableExport as error:
                    self.read[each.name] = error
            parts = [(rows, each.window, f"survey export file {each.path}")
                     for each, rows in readable]
            typed = typed_batches(parts, COLUMNS)
            self.read.update(zip([each.name for each, _ in readable], typed, strict=True))
        result = self.read.pop(export.name)  # each batch is read once: let it go after
        if isinstance(result, UnreadableExport):
            raise result
        return result


def read_responses(export: SurveyExport) -> pd.DataFrame:
    """The file's rows as text, plus ``_source_file``; columns as sent."""
    try:
        text = export.content.decode("utf-8-sig")  # strips a byte-order mark if present
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.EmptyDataError:
        # No header at all: an empty frame, so the suite reports the missing columns.
        frame = pd.DataFrame()
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise UnreadableExport(f"survey export {export.path} cannot be read: {error}") from error
    frame[SOURCE_FILE] = export.name
    return frame
