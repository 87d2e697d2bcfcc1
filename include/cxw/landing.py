"""Landing a batch: validate it, then publish it to the raw layer or quarantine it.

Nothing already published changes when a batch is rejected; the next good batch still
goes through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cxw.lake import Window, add_batch_columns, batch_path, write_table_atomic
from cxw.schema import PARSE_ERRORS, coerce
from cxw.settings import Settings
from cxw.validation import ValidationReport, suite_path, validate_frame


class BatchRejected(Exception):
    """A batch failed its expectation suite and was quarantined."""

    def __init__(self, message: str, report: ValidationReport, quarantine_path: Path) -> None:
        super().__init__(message)
        self.report = report
        self.quarantine_path = quarantine_path


class FilesRejected(Exception):
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
    typed = coerce(records, columns)
    table = pa.Table.from_pandas(typed.drop(columns=[PARSE_ERRORS]), preserve_index=False)
    return land_table(
        table, typed, source=source, entity=entity, window=window, origin=origin, settings=settings
    )


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
        validation_frame,
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
