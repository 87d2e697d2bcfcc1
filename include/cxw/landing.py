"""Landing a batch: validate it, then publish it to the raw layer or quarantine it.

Nothing already published changes when a batch is rejected; the next good batch still
goes through.

File-based sources land one batch per file, and a catch-up brings hundreds of small
files. Great Expectations costs ~0.2 s per validation whatever the rows (it builds a
metric graph per expectation), so ``land_together`` validates a run's files as one
frame and only when that fails validates them one by one, to quarantine just the bad
ones with their own report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cxw.errors import PermanentError
from cxw.lake import BATCH_ID, Window, add_batch_columns, batch_path, write_table_atomic
from cxw.schema import PARSE_ERRORS, coerce
from cxw.settings import Settings
from cxw.validation import ValidationReport, suite_path, validate_frame

log = logging.getLogger(__name__)

# A catch-up's files are validated together in groups of about this many rows (bounded
# memory; one GX validation per group instead of per file).
GROUP_ROWS = 100_000


class BatchRejected(PermanentError):
    """A batch failed its expectation suite and was quarantined (retrying reads the same
    rows again: permanent until the source is fixed)."""

    def __init__(self, message: str, report: ValidationReport, quarantine_path: Path) -> None:
        super().__init__(message)
        self.report = report
        self.quarantine_path = quarantine_path

    @property
    def summary(self) -> str:
        """One line: the message's first line and the rules that failed."""
        rules = ", ".join(
            f"{failure.expectation}({failure.kwargs.get('column', '')})"
            for failure in self.report.failures
        )
        return f"{str(self).splitlines()[0]} rules: {rules}"


class FilesRejected(PermanentError):
    """Some files of a file-based source failed (quarantined or unreadable) in one run.

    Files are independent batches, so one bad file does not hold the others back: the
    good ones land, and the run fails afterwards naming every bad one.
    """

    def __init__(self, source: str, failures: list[Exception]) -> None:
        super().__init__(
            f"{source}: {len(failures)} file(s) rejected (the run's other files landed):\n\n"
            + "\n\n".join(str(failure) for failure in failures)
        )
        self.failures = failures


def land_batch(
    records: pd.DataFrame,
    *,
    source: str,
    entity: str,
    columns: Mapping[str, str],
    window: Window,
    origin: str,
    settings: Settings,
) -> Path:
    """Type, validate and publish one batch; return the published file.

    ``columns`` maps the contract's columns to their kinds (see ``cxw.schema``); other
    columns the source sent are kept as they are. ``origin`` names where the rows came
    from (a file, a page, a query) so a rejection says where to look.
    """
    batch = typed_batch(records, columns, window, origin)
    return land_table(
        batch.table,
        batch.validation_frame,
        source=source,
        entity=entity,
        window=window,
        origin=origin,
        settings=settings,
    )


@dataclass(frozen=True)
class PendingBatch:
    """One batch read from its source and typed, not validated yet (see ``land_table``)."""

    table: pa.Table
    validation_frame: pd.DataFrame
    window: Window
    origin: str

    @property
    def rows(self) -> int:
        return self.table.num_rows


def typed_batch(
    records: pd.DataFrame, columns: Mapping[str, str], window: Window, origin: str
) -> PendingBatch:
    """Type ``records`` by the contract's ``columns``: what ``land_batch`` lands."""
    typed = coerce(records, columns)
    table = pa.Table.from_pandas(typed.drop(columns=[PARSE_ERRORS]), preserve_index=False)
    return PendingBatch(table, typed, window, origin)


def groups(batches: Iterable[PendingBatch], max_rows: int = GROUP_ROWS) -> Iterator[list]:
    """Consecutive batches in groups of at most ``max_rows`` rows (a bigger batch alone)."""
    group: list[PendingBatch] = []
    rows = 0
    for batch in batches:
        if group and rows + batch.rows > max_rows:
            yield group
            group, rows = [], 0
        group.append(batch)
        rows += batch.rows
    if group:
        yield group


def land_together(
    batches: list[PendingBatch], *, source: str, entity: str, settings: Settings
) -> list[Path | BatchRejected]:
    """Validate ``batches`` (of one entity) as one frame and publish each as its own batch.

    If the frame fails, each batch is validated alone: the good ones are published, the bad
    ones quarantined with their own report. Returns, per batch in order, its published
    file or its ``BatchRejected``.
    """
    if len(batches) == 1:
        return [_land_or_reject(batches[0], source, entity, settings)]
    loaded_at = datetime.now(UTC)
    frame = pd.concat(
        [b.validation_frame.assign(**{BATCH_ID: b.window.batch_id}) for b in batches],
        ignore_index=True,
    )
    report = validate_frame(
        frame,
        suite_path(source, entity),
        now=loaded_at,
        results_store=settings.gx_results_dir,
        batch_identifier=f"{batches[0].window.batch_id}..{batches[-1].window.batch_id}",
        run_name="landing",
    )
    if report.success:
        return [
            write_table_atomic(
                add_batch_columns(b.table, b.window, loaded_at),
                batch_path(settings.lake_dir, source, entity, b.window.batch_id),
            )
            for b in batches
        ]
    log.warning(
        "%s.%s: %d batches failed together; validating them one by one",
        source,
        entity,
        len(batches),
    )
    return [_land_or_reject(batch, source, entity, settings) for batch in batches]


def _land_or_reject(
    batch: PendingBatch, source: str, entity: str, settings: Settings
) -> Path | BatchRejected:
    try:
        return land_table(
            batch.table,
            batch.validation_frame,
            source=source,
            entity=entity,
            window=batch.window,
            origin=batch.origin,
            settings=settings,
        )
    except BatchRejected as rejected:
        return rejected


def land_table(
    table: pa.Table,
    validation_frame: pd.DataFrame,
    *,
    source: str,
    entity: str,
    window: Window,
    origin: str,
    settings: Settings,
) -> Path:
    """Validate ``validation_frame`` and publish ``table`` as one batch, or quarantine it.

    For sources whose raw records are nested (GA4) and too many to validate cell by
    cell: ``table`` is what lands, ``validation_frame`` a flat projection of it that the
    suite checks, one row per row of ``table`` in the same order (so an offending row
    of the frame is the same row of the table). ``land_batch`` is the case where both
    are the same rows.
    """
    if len(validation_frame) != table.num_rows:
        raise ValueError(
            f"{source}.{entity}: validation frame has {len(validation_frame)} rows, "
            f"the batch {table.num_rows}; they must describe the same rows"
        )
    loaded_at = datetime.now(UTC)
    batch = add_batch_columns(table, window, loaded_at)
    report = validate_frame(
        validation_frame.assign(**{BATCH_ID: window.batch_id}),
        suite_path(source, entity),
        now=loaded_at,
        results_store=settings.gx_results_dir,  # for the GX Data Docs (build_reports)
        batch_identifier=window.batch_id,
        run_name="landing",
    )
    if report.success:
        target = batch_path(settings.lake_dir, source, entity, window.batch_id)
        return write_table_atomic(batch, target)

    where = settings.quarantine_dir / source / entity / window.batch_id
    _quarantine(batch, validation_frame, report, where)
    message = (
        f"{source}.{entity}: batch {window.batch_id} from {origin} failed suite "
        f"'{report.suite_name}' ({len(report.failures)} failed expectation(s), "
        f"{report.row_count} rows); quarantined at {where}\n"
        + "\n".join(failure.describe() for failure in report.failures)
    )
    raise BatchRejected(message, report, where)


def _quarantine(
    batch: pa.Table, validation_frame: pd.DataFrame, report: ValidationReport, where: Path
) -> None:
    """Keep every row of a rejected batch, with its parse errors and validation result,
    where an engineer can look at it; nothing in the raw layer changes."""
    if PARSE_ERRORS in validation_frame.columns:
        errors = pa.array(validation_frame[PARSE_ERRORS].astype(object), pa.large_string())
        batch = batch.append_column(PARSE_ERRORS, errors)
    write_table_atomic(batch, where / "data.parquet")
    (where / "validation.json").write_text(json.dumps(report.raw, indent=2, default=str))
