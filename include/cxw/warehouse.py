"""The DuckDB warehouse: built by dbt (one writer at a time), published as a read-only copy.

BI tools open ``$CXW_HOME/published/warehouse.duckdb``. It is replaced with a rename, so
a reader that has the old file open keeps reading the old, consistent version, and a
failed build never touches it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import yaml

from cxw import comment_sentiment, duckdb_connection
from cxw.settings import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)

MART_SCHEMAS = ("service", "experience")


class DbtFailed(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its output."""


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """Hold the warehouse's single-writer lock (DuckDB allows one writing process)."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with open(settings.warehouse_path.parent / ".writer.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dbt_command(settings: Settings, *args: str, target_dir: str = "target") -> list[str]:
    dbt = Path(sys.executable).with_name("dbt")
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.home / "dbt" / target_dir),
        "--log-path",
        str(settings.home / "dbt" / "logs"),
    ]


def run_dbt(
    settings: Settings,
    *args: str,
    env: Mapping[str, str] | None = None,
    target_dir: str = "target",
) -> str:
    """Run one dbt command for this ``CXW_HOME``; raise ``DbtFailed`` with its output.
    ``env`` adds to the environment (another profile output: ``CXW_DBT_TARGET``), and
    ``target_dir`` keeps that build's artifacts apart from the DuckDB build's."""
    env = {
        **os.environ,
        **settings.duckdb_environment(),
        **(env or {}),
        "CXW_HOME": str(settings.home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    command = dbt_command(settings, *args, target_dir=target_dir)
    log.info("running %s", " ".join(command[:2]))
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise DbtFailed(f"dbt {args[0]} failed (exit {done.returncode}):\n{tail}")
    return output


def declared_sources() -> list[tuple[str, str]]:
    """Every (source, table) the dbt project reads from the lake."""
    declared = []
    for path in sorted((DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            declared += [(source["name"], table["name"]) for table in source["tables"]]
    return declared


def unlanded_sources(settings: Settings) -> list[tuple[str, str]]:
    """Declared sources with no batch in the lake yet (a source not configured or not
    extracted yet): what depends on them cannot be built."""
    return [
        (source, table)
        for source, table in declared_sources()
        if not any((settings.lake_dir / source / table).glob("*.parquet"))
    ]


def build_arguments(settings: Settings, as_of: date) -> list[str]:
    """The ``dbt build`` command as of the run's data date, leaving out the models that
    depend on a source with no landed data yet (they would fail reading no files)."""
    variables = json.dumps({"as_of_date": as_of.isoformat()})
    missing = unlanded_sources(settings)
    exclude = [f"source:{source}.{table}+" for source, table in missing]
    if missing:
        log.warning("not building models over sources with no landed data: %s", exclude)
    exclusion = ["--exclude", *exclude] if exclude else []
    return ["build", *exclusion, "--vars", variables]


def build(settings: Settings, as_of: date) -> str:
    """``dbt build`` the project into the DuckDB warehouse (see ``build_arguments``)."""
    with writer_lock(settings):
        # Before the build, so the sentiment source is there when surveys are.
        comment_sentiment.score_comments(settings)
        arguments = build_arguments(settings, as_of)
        return run_dbt(settings, *arguments)


def source_freshness(settings: Settings) -> list[dict[str, str | None]]:
    """``dbt source freshness`` over the landed sources (``_loaded_at``; thresholds in
    dbt_project.yml): one entry per source table with its status (pass, warn, error or
    runtime error) and latest load. A stale source is a finding, not a failure: dbt's
    non-zero exit for an error-level source is not raised; dbt failing to check is."""
    landed = [pair for pair in declared_sources() if pair not in unlanded_sources(settings)]
    if not landed:
        return []
    results = settings.home / "dbt" / "freshness" / "sources.json"
    results.unlink(missing_ok=True)
    selection = [f"source:{source}.{table}" for source, table in landed]
    failure = None
    with writer_lock(settings):
        try:
            run_dbt(settings, "source", "freshness", "--select", *selection,
                    target_dir="freshness")
        except DbtFailed as error:
            failure = error
    if not results.exists():
        raise failure or DbtFailed("dbt source freshness wrote no sources.json")
    checked = []
    for result in json.loads(results.read_text())["results"]:
        loaded_at = result.get("max_loaded_at")
        # Batches without rows (a shop without refunds yet) have no _loaded_at: dbt says
        # 0001-01-01 and "error"; the source is not stale, it is empty.
        empty = loaded_at is not None and loaded_at.startswith("0001-01-01")
        checked.append({
            "source": result["unique_id"].split(".", 2)[2],
            "status": "no rows" if empty else result["status"],
            "max_loaded_at": None if empty else loaded_at,
        })
    return sorted(checked, key=lambda entry: entry["source"])


def build_docs(settings: Settings, out_dir: Path) -> Path:
    """dbt docs as one self-contained page (``--static``: opens offline from disk).

    The docs describe the project and the relations built (names, columns, types), not
    the data, so they are generated again only when one of those changed (a dbt process,
    ~10 s per run otherwise). Compiled SQL shown in the docs is that of the run that
    generated them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "dbt-docs.html"
    stamp = out_dir / ".dbt-docs.key"
    with writer_lock(settings):
        key = docs_key(settings)
        if target.exists() and stamp.exists() and stamp.read_text() == key:
            log.info("dbt docs unchanged (same project and relations): kept %s", target)
            return target
        run_dbt(settings, "docs", "generate", "--static")
    shutil.copyfile(settings.home / "dbt" / "target" / "static_index.html", target)
    stamp.write_text(key)
    return target


def docs_key(settings: Settings) -> str:
    """A digest of what dbt docs show: the project's files and the warehouse's relations."""
    digest = hashlib.sha256()
    skipped = {"target", "logs", "dbt_packages"}
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and relative.parts[0] not in skipped:
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    with duckdb_connection.connect(settings.warehouse_path, read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by all"
        ).fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()


# What BI users get: the marts and the tables the semantic layer reads. Never staging or
# intermediate (views over the lake by absolute path, raw emails), never seeds.
PUBLISHED_SCHEMAS = (*MART_SCHEMAS, "semantic")

# DuckDB storage versions, oldest first: the published file is written in the oldest one
# its data types allow, so the DuckDB 1.x drivers inside BI tools open it.
STORAGE_VERSIONS = ("v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0")


class PublishFailed(RuntimeError):
    """The published copy could not be written; the last published file is untouched."""


def publish(settings: Settings) -> Path:
    """Copy the built warehouse's published schemas into a new file next to the published
    one, then swap it in atomically (a rename: a reader holding the old file open keeps
    reading it; a crash before the rename leaves the last published file as it was).

    Only base tables of ``PUBLISHED_SCHEMAS`` are copied, with their constraints and
    their catalog comments (dbt ``persist_docs``), in the oldest storage version that
    takes them."""
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    errors = []
    with writer_lock(settings):
        for version in STORAGE_VERSIONS:
            _remove_database_files(staging)
            try:
                _copy_published_schemas(settings.warehouse_path, staging, version)
            except duckdb.Error as error:
                errors.append(f"{version}: {error}".splitlines()[0])
                continue
            break
        else:
            _remove_database_files(staging)
            raise PublishFailed(
                f"could not write {target.name} in any storage version: {'; '.join(errors)}"
            )
    os.chmod(staging, 0o644)
    os.replace(staging, target)
    log.info("published %s (storage %s)", target, version)
    return target


def _remove_database_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _copy_published_schemas(source: Path, out: Path, storage_version: str) -> None:
    """Write ``out`` in ``storage_version`` with the published schemas' tables of
    ``source``: each table's own DDL (types, primary key, not null), its rows, its comments."""
    with duckdb_connection.connect(source) as connection:
        connection.execute("checkpoint")
        built = connection.execute("select current_database()").fetchone()[0]
        connection.execute(
            f"attach {_literal(str(out))} as published (storage_version '{storage_version}')"
        )
        try:
            tables = connection.execute(
                "select schema_name, table_name, sql, comment from duckdb_tables() "
                "where database_name = ? and list_contains(?, schema_name) and not temporary "
                "order by schema_name, table_name",
                [built, list(PUBLISHED_SCHEMAS)],
            ).fetchall()
            connection.execute("use published")
            for schema in sorted({schema for schema, *_ in tables}):
                connection.execute(f"create schema {_name(schema)}")
            for schema, table, ddl, comment in tables:
                qualified = f"{_name(schema)}.{_name(table)}"
                connection.execute(ddl)
                connection.execute(
                    f"insert into published.{qualified} "  # noqa: S608 - names from the catalog
                    f"select * from {_name(built)}.{qualified}"
                )
                if comment:
                    connection.execute(f"comment on table {qualified} is {_literal(comment)}")
                columns = connection.execute(
                    "select column_name, comment from duckdb_columns() "
                    "where database_name = ? and schema_name = ? and table_name = ? "
                    "and comment is not null",
                    [built, schema, table],
                ).fetchall()
                for column, text in columns:
                    connection.execute(
                        f"comment on column {qualified}.{_name(column)} is {_literal(text)}"
                    )
            connection.execute(f"use {_name(built)}")
            connection.execute("checkpoint published")
        finally:
            connection.execute(f"use {_name(built)}")
            connection.execute("detach published")


def _name(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def mart_row_counts(path: Path) -> dict[str, int]:
    """Row counts of every mart table in a (published) warehouse, opened read-only."""
    with duckdb_connection.connect(path, read_only=True) as connection:
        tables = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (?, ?) order by 1, 2",
            list(MART_SCHEMAS),
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'  # noqa: S608 - names from the catalog
            ).fetchone()[0]
            for schema, table in tables
        }
