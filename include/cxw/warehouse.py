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

from cxw import comment_sentiment
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
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by all"
        ).fetchall()
    digest.update(repr(columns).encode())
    return digest.hexdigest()


def publish(settings: Settings) -> Path:
    """Copy the built warehouse next to the published one, then swap it in atomically."""
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    with writer_lock(settings):
        with duckdb.connect(str(settings.warehouse_path)) as connection:
            connection.execute("checkpoint")
        shutil.copyfile(settings.warehouse_path, staging)
    os.replace(staging, target)
    log.info("published %s", target)
    return target


def mart_row_counts(path: Path) -> dict[str, int]:
    """Row counts of every mart table in a (published) warehouse, opened read-only."""
    with duckdb.connect(str(path), read_only=True) as connection:
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
