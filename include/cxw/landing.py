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
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxw import duckdb_connection
from cxw.errors import PermanentError
from cxw.lake import BATCH_ID, Window, add_batch_columns, batch_path, write_table_atomic
from cxw.ledger import RejectedLedger, RunRecord, one_line, quarantine_unreadable
from cxw.schema import PARSE_ERRORS
from cxw.settings import Settings
from cxw.sources import (
    Batch,
    PendingBatch,
    Rejected,
    StreamedBatch,
    Unreadable,
    frame_of,
    typed_batch,
)
from cxw.state import SyncState
from cxw.validation import ValidationReport, duplicate_keys, suite_path, validate_frame

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
            f"{failure.expectation}"
            f"({failure.kwargs.get('column') or ','.join(failure.kwargs.get('column_list', []))})"
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


def groups(
    batches: Iterable[tuple[Batch, PendingBatch]], max_rows: int = GROUP_ROWS
) -> Iterator[list[tuple[Batch, PendingBatch]]]:
    """Consecutive batches in groups of at most ``max_rows`` rows (a bigger batch alone)."""
    group: list[tuple[Batch, PendingBatch]] = []
    rows = 0
    for batch in batches:
        if group and rows + batch[1].rows > max_rows:
            yield group
            group, rows = [], 0
        group.append(batch)
        rows += batch[1].rows
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
    frame = _together(batches)
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


def _together(batches: list[PendingBatch]) -> pd.DataFrame:
    """One validation frame for ``batches``, each row with its batch id. Batches whose
    checks are Arrow tables are concatenated in Arrow and turned into pandas once."""
    if all(isinstance(b.checks, pa.Table) for b in batches):
        tables = [
            b.checks.append_column(
                BATCH_ID, pa.repeat(pa.scalar(b.window.batch_id), b.checks.num_rows)
            )
            for b in batches
        ]
        return frame_of(pa.concat_tables(tables, promote_options="permissive"))
    return pd.concat(
        [b.validation_frame.assign(**{BATCH_ID: b.window.batch_id}) for b in batches],
        ignore_index=True,
    )


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


# -- a batch too big to hold: landed chunk by chunk -------------------------------------


def land_chunks(batch: StreamedBatch, *, source: str, entity: str, settings: Settings) -> int:
    """Validate and publish a streamed batch as ONE batch file, one row group per chunk;
    returns its rows. Every chunk is validated by the suite (every row is seen), and the
    suite's uniqueness rules, which a chunk alone cannot check for the whole batch, once
    more over the written file before it is published (``duplicate_keys``). If any check
    fails, the whole batch is quarantined, with the failed results, and ``BatchRejected``
    raised."""
    loaded_at = datetime.now(UTC)
    suite = suite_path(source, entity)
    target = batch_path(settings.lake_dir, source, entity, batch.window.batch_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    failed: list[ValidationReport] = []
    rows = chunks = 0
    across: ValidationReport | None = None
    writer: pq.ParquetWriter | None = None
    try:
        for chunks, chunk in enumerate(batch.chunks(), start=1):
            report = validate_frame(
                chunk.validation_frame.assign(**{BATCH_ID: batch.window.batch_id}),
                suite,
                now=loaded_at,
                results_store=settings.gx_results_dir,
                batch_identifier=f"{batch.window.batch_id}#{chunks}",
                run_name="landing",
            )
            if not report.success:
                failed.append(report)
            table = add_batch_columns(chunk.table, batch.window, loaded_at)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            elif not table.schema.equals(writer.schema, check_metadata=False):
                table = table.cast(writer.schema)  # a column all null in the first chunk
            writer.write_table(table)
            rows += table.num_rows
        if writer is not None:
            writer.close()
            writer = None
        if chunks > 1 and batch.latest_copy_of:
            rows = keep_latest_copies(Path(tmp), batch.latest_copy_of, settings)
        if chunks > 1:
            across = duplicate_keys(Path(tmp), suite, settings)
        if not failed and across is None:
            os.replace(tmp, target)
            return rows
        where = settings.quarantine_dir / source / entity / batch.window.batch_id
        where.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, where / "data.parquet")
        reports = [*failed, *([across] if across else [])]
        (where / "validation.json").write_text(
            json.dumps([report.raw for report in reports], indent=2, default=str)
        )
    except BaseException:
        if writer is not None:
            writer.close()
        Path(tmp).unlink(missing_ok=True)
        raise
    failures = [failure for report in reports for failure in report.failures]
    checks = [f"in {len(failed)} chunk(s)"] if failed else []
    checks += [f"across its {chunks} chunks"] if across else []
    message = (
        f"{source}.{entity}: batch {batch.window.batch_id} from {batch.origin} failed suite "
        f"'{reports[0].suite_name}' {' and '.join(checks)} ({len(failures)} failed "
        f"expectation(s), {rows} rows); quarantined at {where}\n"
        + "\n".join(failure.describe() for failure in failures)
    )
    raw = {"reports": [report.raw for report in reports]}
    combined = ValidationReport(reports[0].suite_name, False, rows, failures, raw)
    raise BatchRejected(message, combined, where)


def keep_latest_copies(parquet: Path, key: tuple[str, ...], settings: Settings) -> int:
    """Rewrite the written batch ``parquet`` keeping, of each ``key`` repeated in it, only
    the last copy in file order (chunk order); rows with a null key part all stay, for the
    suite to judge. Returns its rows. DuckDB finds the earlier copies from the key columns
    alone; only a batch with repeats is rewritten, a row group at a time with its own
    schema, so the usual batch costs one scan of its key."""
    columns = [f'"{column}"' for column in key]  # the entity's declared key
    with duckdb_connection.connect(settings=settings) as connection:
        earlier = connection.execute(
            "select file_row_number from read_parquet(?, file_row_number = true) "  # noqa: S608
            f"where {' and '.join(f'{column} is not null' for column in columns)} "
            f"qualify row_number() over (partition by {', '.join(columns)} "
            "order by file_row_number desc) > 1",
            [str(parquet)],
        ).fetchnumpy()["file_row_number"]
    source = pq.ParquetFile(parquet)
    if not len(earlier):
        return source.metadata.num_rows
    rewritten = parquet.with_name(f"{parquet.name}.latest")
    offset = 0
    with pq.ParquetWriter(rewritten, source.schema_arrow) as writer:
        for group in range(source.num_row_groups):
            table = source.read_row_group(group)
            numbers = pa.array(range(offset, offset + table.num_rows), pa.int64())
            writer.write_table(table.filter(pc.invert(pc.is_in(numbers, pa.array(earlier)))))
            offset += table.num_rows
    os.replace(rewritten, parquet)
    return offset - len(earlier)


# -- the one landing path of every source -------------------------------------------------

#: File sources keep their sync state per file, under this key.
FILES = "files"


def landed_entry(
    window: Window, rows: int, previous: Mapping[str, Any] | None, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """What the sync state records of a unit (an entity or a file) once its batch has
    landed, the same for every source: the window landed and its rows, the unit's first
    landed window (whose reruns read the whole history), the latest window end landed so
    far (a backfill of an old window does not move it back), and the source's extras
    (a cursor and pages read, a file's checksum)."""
    earlier = (previous or {}).get("landed_until")
    until = window.end.isoformat()
    if earlier and datetime.fromisoformat(earlier) > window.end:
        until = earlier
    return {
        "first_batch_id": (previous or {}).get("first_batch_id", window.batch_id),
        "batch_id": window.batch_id,
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "rows": rows,
        "landed_at": datetime.now(UTC).isoformat(),
        "landed_until": until,
        **extra,
    }


class SourceRun:
    """One extract run of one source: its window, the sync state of what landed before,
    its rejected-file ledger and its run record (what ``cxw status`` summarises)."""

    def __init__(self, source: str, window: Window, settings: Settings, files: bool) -> None:
        self.source = source
        self.window = window
        self.settings = settings
        self.files = files
        self.state = SyncState(settings, source)
        self.ledger = RejectedLedger(settings, source)
        self.record = RunRecord(source, window.batch_id)
        self.failures: list[Exception] = []
        self._files: dict[str, Any] = dict(self.state.get(FILES, {})) if files else {}
        self._unsaved = False

    def save_files(self) -> None:
        """Save the sync state of the files landed since the last save, in one write (the
        state of every file is one document: saving it per file of a catch-up of hundreds
        cost a growing write per file)."""
        if self._unsaved:
            self.state.save(FILES, self._files)
            self._unsaved = False

    def previous(self, unit: str) -> Mapping[str, Any] | None:
        """The sync state of ``unit`` (an entity, or a file for file sources)."""
        return self._files.get(unit) if self.files else self.state.get(unit)

    def warn(self, message: str) -> None:
        self.record.warn(message)

    def reject(self, unit: str, reason: str, error: Exception,
               checksum: str | None = None, where: Path | None = None) -> None:
        self.ledger.record(unit, checksum, reason, where)
        self.record.rejected[unit] = reason
        self.failures.append(error)

    def landed(
        self, batch: Batch, pending: PendingBatch | StreamedBatch, rows: int, save: bool = True
    ) -> None:
        """Settle a landed batch: its ledger entries cleared, then its sync state saved
        (a file's, with ``save=False``, by the next ``save_files``)."""
        for unit in (batch.unit, *batch.clears):
            self.ledger.clear(unit)
        extra = {**pending.state, **({"sha256": batch.checksum} if batch.checksum else {})}
        entry = landed_entry(pending.window, rows, self.previous(batch.unit), extra)
        if self.files:
            self._files[batch.unit] = entry
            self._unsaved = True
            if save:
                self.save_files()
        else:
            self.state.save(batch.unit, entry)
        self.record.landed[batch.unit] = rows
        log.info("%s.%s: landed %d rows from %s", self.source, batch.entity.name, rows,
                 pending.origin)

    def still_rejected(self, batch: Batch) -> dict[str, Any] | None:
        """The ledger's entry if the batch is a file rejected before with the same
        content (then it is skipped, not read), else None."""
        return self.ledger.still_rejected(batch.unit, batch.checksum) if batch.checksum else None

    def read(
        self, batch: Batch, read: Callable[[], PendingBatch | StreamedBatch] | None = None
    ) -> PendingBatch | StreamedBatch | None:
        """The batch's rows, or None if it is skipped (still rejected with the same
        content) or unreadable (then quarantined with its bytes). ``read`` is the batch's
        read already started (``read_ahead``), for a batch already found not to be still
        rejected; without it the ledger is checked, then ``batch.read`` called."""
        if read is None:
            earlier = self.still_rejected(batch)
            if earlier:
                self.record.skipped[batch.unit] = earlier["reason"]
                self.warn(
                    f"{batch.path or batch.unit} skipped: rejected on "
                    f"{earlier['rejected_at'][:10]} and unchanged since ({earlier['reason']}); "
                    "fix or replace the file to load it"
                )
                return None
            read = batch.read
        try:
            return read()
        except Unreadable as error:
            content = batch.content() if batch.content else b""
            where = quarantine_unreadable(
                self.settings, self.source, batch.entity.name, batch.unit, content, str(error)
            )
            self.reject(batch.unit, one_line(error), error, batch.checksum, where)
            return None


def land_batches(
    source: str,
    window: Window,
    batches: Callable[[SourceRun], Iterable[Batch | Rejected]],
    *,
    settings: Settings,
    files: bool = False,
) -> dict[str, int]:
    """The one landing path of every source: read each batch ``batches(run)`` offers,
    validate it, publish it to the lake or quarantine it, and save its sync state only
    once it has landed. Returns the rows landed per unit.

    A rejected batch does not hold the others back: they land, and the rejections are
    raised at the end (one as itself, several as ``FilesRejected``; a file source's
    always as ``FilesRejected``). File sources (``files``) validate consecutive files
    together (``land_together``); other sources land batch by batch, so a failure leaves
    the state at the last landed batch. The run record is saved whatever happens."""
    run = SourceRun(source, window, settings, files)
    entities: set[str] = set()

    def readable() -> Iterator[tuple[Batch, PendingBatch]]:
        offered = (
            read_ahead(batches(run), skip=run.still_rejected)
            if files else ((batch, None) for batch in batches(run))
        )
        with closing(offered):  # a failed landing stops the read ahead at once
            for batch, read in offered:
                entities.add(batch.entity.name)
                if isinstance(batch, Rejected):
                    run.reject(batch.unit, batch.reason, batch.error)
                    continue
                pending = run.read(batch, read)
                if isinstance(pending, StreamedBatch):
                    _settle(run, batch, pending, _land_streamed(pending, source, batch, settings))
                elif pending is not None:
                    yield batch, pending

    items = readable()
    try:
        chunks = groups(items) if files else ([item] for item in items)
        for group in chunks:
            entity = group[0][0].entity.name
            results = land_together(
                [pending for _, pending in group], source=source, entity=entity,
                settings=settings,
            )
            try:  # the group's files landed: their state is saved once, after
                for (batch, pending), result in zip(group, results, strict=True):
                    _settle(run, batch, pending, result, save=False)
            finally:
                run.save_files()
    except Exception as error:
        run.record.error = one_line(error)
        raise
    finally:
        items.close()
        run.record.save(settings)
    if run.failures and (files or len(run.failures) > 1):
        # A file source's files are of its one entity: name it ("web.events").
        label = f"{source}.{'/'.join(sorted(entities))}" if files else source
        raise FilesRejected(label, run.failures)
    if run.failures:
        raise run.failures[0]
    return run.record.landed


def read_ahead(
    offered: Iterable[Batch | Rejected],
    skip: Callable[[Batch], object] = lambda batch: None,
) -> Iterator[tuple[Batch | Rejected, Callable[[], PendingBatch | StreamedBatch] | None]]:
    """Each offered item with its read (None for a ``Rejected`` and for a batch ``skip``
    says is not to be read), the next batch's read already started in a thread while
    this one is landed. Files are independent, and reading one (its bytes, the JSON or
    CSV parser) and landing another (validation, the Parquet writer) each spend most of
    their time outside the GIL, so on two cores they overlap. One batch is read ahead:
    memory holds at most one more. Closing the iterator cancels a read not started and
    waits for the one running (at most one file)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
    try:
        waiting: tuple[Batch | Rejected, Callable[[], Any] | None] | None = None
        for item in offered:
            read = (
                pool.submit(item.read).result
                if isinstance(item, Batch) and not skip(item) else None
            )
            if waiting is not None:
                yield waiting
            waiting = (item, read)
        if waiting is not None:
            yield waiting
    finally:
        pool.shutdown(cancel_futures=True)


def _land_streamed(
    pending: StreamedBatch, source: str, batch: Batch, settings: Settings
) -> int | BatchRejected:
    try:
        return land_chunks(pending, source=source, entity=batch.entity.name, settings=settings)
    except BatchRejected as rejected:
        return rejected


def _settle(
    run: SourceRun,
    batch: Batch,
    pending: PendingBatch | StreamedBatch,
    result: Path | int | BatchRejected,
    save: bool = True,
) -> None:
    if isinstance(result, BatchRejected):
        run.reject(batch.unit, one_line(result), result, batch.checksum, result.quarantine_path)
        return
    rows = result if isinstance(result, int) else pending.rows  # type: ignore[union-attr]
    run.landed(batch, pending, rows, save)
