"""Great Expectations checks of the built marts, before they are published.

One suite per mart table in ``expectations/marts/<schema>/<table>.json``. Tables are
read from the freshly built warehouse read-only as pandas DataFrames (GX cannot validate
DuckDB through SQLAlchemy; see traps.md), only the columns their suite reads; a mart
bigger than ``CXW_MART_VALIDATION_CHUNK_ROWS`` a chunk at a time, so memory does not grow
with the marts. A failure stops the publish: the last good warehouse stays published.

A day's build changes a few marts, and reading a whole mart into pandas for GX costs far
more than DuckDB hashing it: a mart whose content (columns, types, every row) and suite
are those of its last passing validation (``validated.json`` beside the results) is not
validated again, since the same suite on the same rows gives the same verdict (mart
suites have no run-time parameters).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cxw import duckdb_connection, validation
from cxw.settings import EXPECTATIONS_DIR, Settings
from cxw.validation import ValidationReport, checked_columns, validate_frame

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pandas as pd

log = logging.getLogger(__name__)

MART_SUITES_DIR = EXPECTATIONS_DIR / "marts"
DUCKDB_VECTOR_ROWS = 2048  # what DuckDB's fetch_df_chunk counts in
VALIDATED = "validated.json"  # table -> fingerprint of its last passing validation
# The code that turns a suite into a verdict (the validation module and this one, which
# decides what rows a suite sees): a change to it validates every mart again.
CHECKING_CODE = hashlib.sha256(
    Path(validation.__file__).read_bytes() + Path(__file__).read_bytes()
).hexdigest()


def gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")


class MartsRejected(Exception):
    """At least one mart failed its suite; the message names table, rule and rows."""


def mart_suites() -> dict[str, Path]:
    """``schema.table`` -> its suite file."""
    return {
        f"{path.parent.name}.{path.stem}": path
        for path in sorted(MART_SUITES_DIR.glob("*/*.json"))
    }


def fingerprint(connection: Any, table: str, suite: Path, catalog: str | None = None) -> str | None:
    """What a mart's verdict depends on: its suite, the checking code (this package's
    validation module and Great Expectations' version), its columns and types, and its
    rows (an order-independent sum of row hashes, computed in DuckDB without leaving
    it). A suite with run-time parameters (``$PARAMETER``) has no fingerprint: its
    verdict can change with the run, so it is validated every time. ``catalog``: the
    attached database holding ``table`` (default: the connection's own)."""
    checks = suite.read_text()
    if "$PARAMETER" in checks:
        return None
    columns = _columns(connection, table, catalog)
    qualified = f"{catalog}.{table}" if catalog else table
    rows = connection.execute(
        f"select count(*), sum(hash(mart)::hugeint) from {qualified} as mart"  # noqa: S608
    ).fetchone()
    text = repr((columns, rows and (rows[0], str(rows[1])), gx_version(), CHECKING_CODE))
    return hashlib.sha256((text + checks).encode()).hexdigest()


def _columns(connection: Any, table: str, catalog: str | None = None) -> list[tuple[str, str]]:
    """``table``'s columns and their types, in order."""
    schema, name = table.split(".")
    return connection.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = coalesce(?, current_database()) and table_schema = ? "
        "and table_name = ? order by ordinal_position",
        [catalog, schema, name],
    ).fetchall()


def _validated_copy(
    connection: Any, table: str, suite: Path, validated: str | None
) -> str | None:
    """The published copy of ``table`` (``published.<table>``) if it is exactly the
    content of the mart's last passing validation (its fingerprint is ``validated``) and
    has the built mart's columns and types: its rows are known to pass the suite, so only
    the built rows not in it need GX. None if there is no such copy."""
    attached = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = 'published' and table_schema || '.' || table_name = ?",
        [table],
    ).fetchone()[0]
    if not validated or not attached:
        return None
    if _columns(connection, table, "published") != _columns(connection, table):
        return None
    if fingerprint(connection, table, suite, "published") != validated:
        return None
    return f"published.{table}"


# The expectations that judge each row on its own (a row's verdict depends on that row
# alone), and the uniqueness rules, which ``validation.duplicated_keys`` checks over the
# whole mart: a suite of these alone can be checked on part of a mart's rows at a time.
ROW_BY_ROW = {
    "expect_column_to_exist",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_between",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_pair_values_a_to_be_greater_than_b",
    *validation.UNIQUENESS,
}


def judged_row_by_row(suite: Path) -> bool:
    """Whether every expectation of ``suite`` is in ``ROW_BY_ROW``, without ``mostly`` (a
    share of the rows) or a ``row_condition``."""
    return all(
        expectation["type"] in ROW_BY_ROW
        and not {"mostly", "row_condition"} & set(expectation.get("kwargs") or {})
        for expectation in json.loads(suite.read_text())["expectations"]
    )


def _select(connection: Any, table: str, suite: Path) -> str:
    """The query reading the mart for its suite: only the columns the suite reads, if
    they are there (else every column, for GX to report the missing ones)."""
    columns = checked_columns(suite)
    present = {column for (column,) in connection.execute(
        f"select column_name from (describe {table})"  # noqa: S608 - from the catalog
    ).fetchall()}
    if columns is None or not set(columns) <= present:
        return f"select * from {table}"  # noqa: S608 - from the catalog
    quoted = ", ".join('"' + column.replace('"', '""') + '"' for column in columns)
    return f"select {quoted} from {table}"  # noqa: S608


def _frames(connection: Any, select: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The query's rows as pandas frames of about ``chunk_rows`` rows (whole DuckDB
    vectors of 2,048 rows), converted as ``.df()`` converts them; at least one frame."""
    result = connection.execute(select)
    vectors = max(1, -(-chunk_rows // DUCKDB_VECTOR_ROWS))
    frame = result.fetch_df_chunk(vectors)
    while True:
        yield frame
        frame = result.fetch_df_chunk(vectors)
        if frame.empty:
            return


def validate_mart(
    connection: Any, table: str, suite: Path, *, now: datetime, results_store: Path,
    batch: str, chunk_rows: int, validated_copy: str | None = None,
) -> ValidationReport:
    """Validate one mart with its suite.

    - With ``validated_copy`` (a copy of the mart as it last passed, ``_validated_copy``),
      GX checks only the built rows whose checked values are not in that copy: the suite's
      row rules give a row the same verdict as before, so a day that adds or changes a
      few rows validates those. Its uniqueness rules are checked over the whole mart.
    - A mart (or the rows to check) of more than ``chunk_rows`` rows is read and validated
      in chunks (each a GX batch ``<batch>#<n>``), so memory holds one chunk whatever the
      mart's size, with its uniqueness rules, which a chunk alone cannot check, once more
      over the whole table in DuckDB (``validation.duplicated_keys``).
    - A suite with an expectation about the table as a whole (its row count, its column
      list) or about a share of its rows (``mostly``) gets every row at once, every time
      (``judged_row_by_row``)."""
    (rows,) = connection.execute(f"select count(*) from {table}").fetchone()  # noqa: S608
    select = _select(connection, table, suite)
    if not judged_row_by_row(suite) or (validated_copy is None and rows <= chunk_rows):
        return validate_frame(
            connection.sql(select).df(), suite, now=now, results_store=results_store,
            batch_identifier=batch, run_name="marts",
        )
    checked = f"in chunks of at most {chunk_rows} rows"
    if validated_copy is not None:
        select = f"{select} except {_select(connection, validated_copy, suite)}"
        (new,) = connection.execute(f"select count(*) from ({select})").fetchone()  # noqa: S608
        checked = (
            f"the {new} rows whose checked values are not in the mart as it last passed "
            f"({validated_copy}), {checked}"
        )
    reports = [
        validate_frame(
            frame, suite, now=now, results_store=results_store,
            batch_identifier=f"{batch}#{number}", run_name="marts",
        )
        for number, frame in enumerate(_frames(connection, select, chunk_rows), start=1)
    ]
    across = validation.duplicated_keys(
        connection, table, [], suite, checked="across the whole mart"
    )
    failures = [
        failure for report in [*reports, *([across] if across else [])]
        for failure in report.failures
    ]
    raw = {
        "success": not failures,
        "suite_name": reports[0].suite_name,
        "checked": f"{checked}; uniqueness across the whole mart",
        "row_count": rows,
        "chunks": [report.raw for report in reports],
        "across": across.raw if across else None,
    }
    return ValidationReport(reports[0].suite_name, not failures, rows, failures, raw)


def validate_marts(
    warehouse_path: Path, results_dir: Path, gx_results: Path | None = None,
    *, every: bool = False, chunk_rows: int | None = None, published_path: Path | None = None,
) -> dict[str, ValidationReport]:
    """Validate every built mart that has a suite and changed since its last passing
    validation (``every``: changed or not); write each result to ``results_dir``; raise
    ``MartsRejected`` if any fails. Returns the reports of the marts validated. Marts not
    built (their source has no data yet) are skipped. Each GX result is also kept in
    ``gx_results`` for the GX Data Docs; by default in ``gx`` beside ``results_dir``,
    which for the pipeline's ``reports/validation/marts`` is the settings' store
    (``Settings.gx_results_dir``). A mart of more than ``chunk_rows`` rows (default: the
    settings' ``mart_validation_chunk_rows``) is validated in chunks; with
    ``published_path`` (the published warehouse, where the marts that last passed are),
    a changed mart's rows already in its published copy are not checked again
    (``validate_mart``)."""
    now = datetime.now(UTC)
    chunk_rows = chunk_rows or Settings.from_env().mart_validation_chunk_rows
    gx_results = gx_results or results_dir.parent / "gx"
    batch = f"warehouse_{now.strftime('%Y%m%dT%H%M%S')}"
    record_path = results_dir / VALIDATED
    passed = {} if every or not record_path.exists() else json.loads(record_path.read_text())
    reports: dict[str, ValidationReport] = {}
    fingerprints: dict[str, str | None] = {}
    unchanged = []
    with duckdb_connection.connect(warehouse_path, read_only=True) as connection:
        built = {
            f"{schema}.{table}"
            for schema, table in connection.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = current_database()"
            ).fetchall()
        }
        if published_path is not None and published_path.exists():
            try:
                connection.execute("attach ? as published (read_only)", [str(published_path)])
            except duckdb.Error as error:  # held read-write by someone, or unreadable
                log.warning("published warehouse not readable, every changed mart is "
                            "validated whole: %s", str(error).splitlines()[0])
        for table, suite in mart_suites().items():
            if table not in built:
                log.warning("mart %s was not built; its suite is skipped", table)
                continue
            fingerprints[table] = fingerprint(connection, table, suite)
            if fingerprints[table] is not None and passed.get(table) == fingerprints[table]:
                unchanged.append(table)
                continue
            reports[table] = validate_mart(
                connection, table, suite, now=now, results_store=gx_results, batch=batch,
                chunk_rows=chunk_rows,
                validated_copy=_validated_copy(connection, table, suite, passed.get(table)),
            )
    if unchanged:
        log.info("marts unchanged since their last passing validation, not validated "
                 "again: %s", ", ".join(unchanged))
    results_dir.mkdir(parents=True, exist_ok=True)
    for table, report in reports.items():
        (results_dir / f"{table}.json").write_text(json.dumps(report.raw, indent=2, default=str))
    passed = {table: fingerprints[table] for table in unchanged} | {
        table: fingerprints[table] for table, report in reports.items() if report.success
    }
    record_path.write_text(json.dumps(passed, indent=1, sort_keys=True))
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
