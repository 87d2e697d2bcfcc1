"""Great Expectations checks of the built marts, before they are published.

One suite per mart table in ``expectations/marts/<schema>/<table>.json``. Tables are
read from the freshly built warehouse read-only as pandas DataFrames (GX cannot validate
DuckDB through SQLAlchemy; see traps.md). A failure stops the publish: the last good
warehouse stays published.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from cxw import duckdb_connection
from cxw.settings import EXPECTATIONS_DIR
from cxw.validation import ValidationReport, validate_frame

log = logging.getLogger(__name__)

MART_SUITES_DIR = EXPECTATIONS_DIR / "marts"


class MartsRejected(Exception):
    """At least one mart failed its suite; the message names table, rule and rows."""


def mart_suites() -> dict[str, Path]:
    """``schema.table`` -> its suite file."""
    return {
        f"{path.parent.name}.{path.stem}": path
        for path in sorted(MART_SUITES_DIR.glob("*/*.json"))
    }


def validate_marts(
    warehouse_path: Path, results_dir: Path, gx_results: Path | None = None
) -> dict[str, ValidationReport]:
    """Validate every built mart that has a suite; write each result to ``results_dir``;
    raise ``MartsRejected`` if any fails. Marts not built (their source has no data yet)
    are skipped. Each GX result is also kept in ``gx_results`` for the GX Data Docs;
    by default in ``gx`` beside ``results_dir``, which for the pipeline's
    ``reports/validation/marts`` is the settings' store (``Settings.gx_results_dir``)."""
    now = datetime.now(UTC)
    gx_results = gx_results or results_dir.parent / "gx"
    batch = f"warehouse_{now.strftime('%Y%m%dT%H%M%S')}"
    reports: dict[str, ValidationReport] = {}
    with duckdb_connection.connect(warehouse_path, read_only=True) as connection:
        built = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        for table, suite in mart_suites().items():
            if table not in built:
                log.warning("mart %s was not built; its suite is skipped", table)
                continue
            frame = connection.sql(f"select * from {table}").df()  # noqa: S608 - from the catalog
            reports[table] = validate_frame(
                frame, suite, now=now, results_store=gx_results, batch_identifier=batch,
                run_name="marts",
            )
    results_dir.mkdir(parents=True, exist_ok=True)
    for table, report in reports.items():
        (results_dir / f"{table}.json").write_text(json.dumps(report.raw, indent=2, default=str))
    failed = [report for report in reports.values() if not report.success]
    if failed:
        raise MartsRejected(
            "mart validation failed; the previous warehouse stays published:\n"
            + "\n".join(
                f"{report.suite_name} ({report.row_count} rows):\n"
                + "\n".join(failure.describe() for failure in report.failures)
                for report in failed
            )
        )
    return reports
