"""Great Expectations checks for every batch before it is published.

Suites are JSON files in ``expectations/`` (reviewable, versioned), one per entity:
``expectations/<source>/<entity>.json``. A batch is validated as a pandas DataFrame
(GX cannot validate DuckDB through SQLAlchemy; see traps.md). Suites may refer to
run-time parameters (``{"$PARAMETER": "latest_plausible_at"}``) for checks that depend
on the load time.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from cxw.lake import BATCH_COLUMNS
from cxw.settings import EXPECTATIONS_DIR

# GX phones home for usage statistics unless told not to; this pipeline runs offline.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)

SAMPLE_ROWS = 3
RAW_RECORD = "_record"  # the record as the source sent it (JSON sources)
# How far in the future a source timestamp may lie before it counts as absurd.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass
class FailedExpectation:
    expectation: str
    kwargs: dict[str, Any]
    unexpected_count: int | None
    sample: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items() if k != "batch_id")
        count = "" if self.unexpected_count is None else f" ({self.unexpected_count} rows)"
        lines = [f"  - {self.expectation}({args}){count}"]
        lines += [f"      offending row: {row}" for row in self.sample]
        return "\n".join(lines)


@dataclass
class ValidationReport:
    suite_name: str
    success: bool
    row_count: int
    failures: list[FailedExpectation]
    raw: dict[str, Any]


def suite_path(source: str, entity: str) -> Path:
    return EXPECTATIONS_DIR / source / f"{entity}.json"


def load_suite(path: Path):
    import great_expectations as gx

    spec = json.loads(path.read_text())
    suite = gx.ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta") or {}
    )
    # GX logs and drops an expectation it cannot build (a typo in its type or kwargs):
    # a suite that silently checks less than it says is worse than no suite.
    loaded = {expectation.expectation_type for expectation in suite.expectations}
    dropped = [e["type"] for e in spec["expectations"] if e["type"] not in loaded]
    if len(suite.expectations) != len(spec["expectations"]) or dropped:
        raise ValueError(f"suite {path} has expectations GX cannot build: {dropped}")
    return suite


def suite_parameters(now: datetime) -> dict[str, Any]:
    """Run-time values suites refer to as ``{"$PARAMETER": name}``."""
    return {"latest_plausible_at": pd.Timestamp(now + CLOCK_SKEW)}


def validate_frame(frame: pd.DataFrame, suite_file: Path, now: datetime) -> ValidationReport:
    """Validate ``frame`` against the suite stored in ``suite_file``.

    ``now`` is the load time: timestamps later than it (plus clock skew) are rejected.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(load_suite(suite_file))
    batch_definition = (
        context.data_sources.add_pandas("cxw")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = gx.ValidationDefinition(data=batch_definition, suite=suite, name=suite.name)
    result = definition.run(
        batch_parameters={"dataframe": frame.reset_index(drop=True)},
        expectation_parameters=suite_parameters(now),
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": []},
    )
    failures = []
    for item in result.results:
        if item.success:
            continue
        details = item.result or {}
        indexes = details.get("unexpected_index_list") or []
        sample_index = [i for i in indexes[:SAMPLE_ROWS] if isinstance(i, int)]
        sample = _rows(frame.reset_index(drop=True), sample_index)
        failures.append(
            FailedExpectation(
                expectation=item.expectation_config.type,
                kwargs=dict(item.expectation_config.kwargs),
                unexpected_count=details.get("unexpected_count"),
                sample=sample,
            )
        )
    return ValidationReport(
        suite_name=suite.name,
        success=bool(result.success),
        row_count=len(frame),
        failures=failures,
        raw=result.describe_dict(),
    )


def _rows(frame: pd.DataFrame, index: list[int]) -> list[dict[str, Any]]:
    """Offending rows for the error message: without the batch columns and the whole raw
    record, and with personal data (emails) masked, since messages end up in task logs."""
    hidden = [c for c in [*BATCH_COLUMNS, RAW_RECORD] if c in frame.columns]
    rows = frame.iloc[index].drop(columns=hidden)
    for column in rows.columns:
        if "email" in column.lower():
            rows[column] = rows[column].where(rows[column].isna(), "<masked>")
    return json.loads(rows.to_json(orient="records", date_format="iso", default_handler=str))
