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

from cxw.lake import Window, batch_path, with_batch_columns, write_parquet_atomic
from cxw.schema import PARSE_ERRORS, coerce
from cxw.settings import Settings
from cxw.validation import ValidationReport, suite_path, validate_frame


class BatchRejected(Exception):
    """A batch failed its expectation suite and was quarantined."""

    def __init__(self, message: str, report: ValidationReport, quarantine_path: Path) -> None:
        super().__init__(message)
        self.report = report
        self.quarantine_path = quarantine_path


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
    loaded_at = datetime.now(UTC)
    typed = coerce(records, columns)
    batch = with_batch_columns(typed, window, loaded_at)
    report = validate_frame(batch, suite_path(source, entity), now=loaded_at)
    if report.success:
        target = batch_path(settings.lake_dir, source, entity, window.batch_id)
        return write_parquet_atomic(batch.drop(columns=[PARSE_ERRORS]), target)

    where = settings.quarantine_dir / source / entity / window.batch_id
    write_parquet_atomic(batch, where / "data.parquet")
    (where / "validation.json").write_text(json.dumps(report.raw, indent=2, default=str))
    message = (
        f"{source}.{entity}: batch {window.batch_id} from {origin} failed suite "
        f"'{report.suite_name}' ({len(report.failures)} failed expectation(s), "
        f"{report.row_count} rows); quarantined at {where}\n"
        + "\n".join(failure.describe() for failure in report.failures)
    )
    raise BatchRejected(message, report, where)
