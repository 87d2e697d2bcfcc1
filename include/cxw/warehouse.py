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
import re
import shutil
import sys
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from cxw import comment_sentiment, duckdb_connection
from cxw.errors import PermanentError
from cxw.settings import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)

MART_SCHEMAS = ("service", "experience")


class DbtFailed(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its output."""


class OutOfDuckDBMemory(DbtFailed, PermanentError):
    """A model or test needed more than DuckDB's memory limit in an operation DuckDB
    cannot spill to disk: the same build fails the same way until the limit is raised
    (``CXW_DUCKDB_MEMORY_LIMIT``) or fewer threads share it (``CXW_DUCKDB_THREADS``)."""


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


# The run's data date reaches the models through the environment (macros/as_of_date.sql),
# not `--vars`: dbt re-parses the whole project when `--vars` change, every day.
AS_OF_ENV = "CXW_AS_OF_DATE"

# dbt runs inside this process (dbtRunner) rather than as a subprocess: no second Python
# start-up and `import dbt` per command (two partial-parse `dbt parse` calls: 0.54x the
# CPU and 0.51x the wall time of two subprocesses, farm-bench, 2026-11-29). One
# invocation at a time: dbt's flags, adapters and the environment it reads are
# process-wide.
_DBT_INVOCATION = threading.Lock()
_DBT_LEVELS = {"info", "warn", "error"}
# dbt's failure summary: "Runtime Error in model X (path)" then DuckDB's message.
_OUT_OF_MEMORY_NODE = re.compile(r"Runtime Error in \w+ (\S+) \([^)]*\)\s+Out of Memory Error")

# dbt's log file ($CXW_HOME/dbt/logs/dbt.log) at info: each node's start and result,
# warnings and errors, not the debug lines (every statement, each adapter call; ~45
# lines per node), whose formatting and secret scrubbing cost 6% of a day's build (CPU,
# 500 customers; 12% with no file log). Each statement's SQL is in target/run/ and
# run_results.json. DBT_LOG_LEVEL_FILE=debug (dbt's own variable) brings them back.
_LOG_LEVEL_FILE = "DBT_LOG_LEVEL_FILE"


def dbt_arguments(settings: Settings, *args: str, target_dir: str = "target") -> list[str]:
    """``args`` plus the project, profiles, target and log paths of this ``CXW_HOME``."""
    return [
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


def dbt_command(settings: Settings, *args: str, target_dir: str = "target") -> list[str]:
    """The same dbt command as a subprocess command line (to run dbt by hand)."""
    dbt = Path(sys.executable).with_name("dbt")
    return [str(dbt), *dbt_arguments(settings, *args, target_dir=target_dir)]


@contextmanager
def _environment(changes: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _close_dbt_duckdb() -> None:
    """dbt-duckdb keeps its DuckDB connection open in the process after a command (a
    class-level environment): close it, so this process (mart validation, publish) and
    others can open the warehouse file afterwards, read-only or not."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV  # noqa: SLF001 - no public close
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def run_dbt(
    settings: Settings,
    *args: str,
    env: Mapping[str, str] | None = None,
    target_dir: str = "target",
) -> str:
    """Run one dbt command for this ``CXW_HOME``; raise ``DbtFailed`` with its output.
    ``env`` adds to the environment (another profile output: ``CXW_DBT_TARGET``; the data
    date), and ``target_dir`` keeps that build's artifacts apart from the DuckDB build's.
    dbt's console output is returned (and in its log file), not printed."""
    from dbt.cli.main import dbtRunner  # ~3 CPU s: only for what runs dbt

    lines: list[str] = []

    def collect(event: Any) -> None:
        if event.info.level in _DBT_LEVELS and event.info.msg:
            lines.append(event.info.msg)

    changes = {
        **settings.duckdb_environment(),
        **(env or {}),
        "CXW_HOME": str(settings.home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    log.info("running dbt %s", args[0])
    with _DBT_INVOCATION, _environment(changes):
        file_level = [] if os.environ.get(_LOG_LEVEL_FILE) else ["--log-level-file", "info"]
        try:
            result = dbtRunner(callbacks=[collect]).invoke(
                [*dbt_arguments(settings, *args, target_dir=target_dir), "--quiet", *file_level]
            )
        finally:
            _close_dbt_duckdb()
    output = "\n".join(lines)
    if not result.success:
        tail = "\n".join(output.splitlines()[-40:])
        if result.exception is not None:
            tail += f"\n{type(result.exception).__name__}: {result.exception}"
        if "Out of Memory Error" in output:
            nodes = sorted(set(_OUT_OF_MEMORY_NODE.findall(output)))
            raise OutOfDuckDBMemory(
                f"dbt {args[0]} failed: DuckDB ran out of its memory limit "
                f"(CXW_DUCKDB_MEMORY_LIMIT={settings.duckdb_memory_limit}, "
                f"CXW_DUCKDB_THREADS={settings.duckdb_threads}) in {', '.join(nodes) or 'a node'}"
                "; raise the limit or lower the threads\n" + tail
            )
        raise DbtFailed(f"dbt {args[0]} failed:\n{tail}")
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


def build_arguments(
    settings: Settings,
    *,
    selection: list[str] | None = None,
    full_refresh: bool = False,
    kept_views: list[str] | None = None,
) -> list[str]:
    """The ``dbt build`` command: ``selection`` (default everything), leaving out the
    models that depend on a source with no landed data yet (they would fail reading no
    files), and the unit tests (they test the project's code, not the data: ``make test``
    and CI run them, see tests/dbt/test_unit_tests.py). ``full_refresh`` rebuilds the
    incremental models from all history. ``kept_views`` (``views_to_keep``) are not
    created again, but their data tests still run: tests are selected as descendants of
    the selection only (``--indirect-selection empty``), so leaving a view out does not
    leave out its tests. That holds for a ``selection`` of graph terms ending in ``+``
    (``build_selection``'s): a bare model name with ``kept_views`` would select no
    test."""
    missing = unlanded_sources(settings)
    exclude = [f"source:{source}.{table}+" for source, table in missing]
    if missing:
        log.warning("not building models over sources with no landed data: %s", exclude)
    exclude += kept_views or []
    return [
        "build",
        *(["--select", *selection] if selection else []),
        *(["--exclude", *exclude] if exclude else []),
        *(["--indirect-selection", "empty"] if kept_views else []),
        "--exclude-resource-type",
        "unit_test",
        *(["--full-refresh"] if full_refresh else []),
    ]


def unit_tests(
    settings: Settings, *, env: Mapping[str, str] | None = None, target_dir: str = "target"
) -> str:
    """dbt's unit tests (the models' logic on hand-made rows), over a built warehouse (dbt
    reads the input relations' column types from it). ``make test`` and CI run them
    (tests/dbt/test_unit_tests.py, the PostgreSQL integration test); the scheduled build
    does not."""
    return run_dbt(settings, "test", "--select", "test_type:unit", env=env, target_dir=target_dir)


def as_of_environment(as_of: date) -> dict[str, str]:
    """The environment that gives dbt the run's data date (see ``AS_OF_ENV``)."""
    return {AS_OF_ENV: as_of.isoformat()}


# -- what a day's build must rebuild ----------------------------------------------------
# After each successful build, ``$CXW_HOME/dbt/built.json`` records what it was built
# from: the project's digest, the data date and every landed batch file per source. The
# next build selects only what that changes: the models downstream of a source with new,
# re-landed or removed batches, and, when the data date moved, those downstream of a
# model that reads it (tenure, open-ticket ages, the current month). A changed project,
# another dbt target (``CXW_DBT_TARGET``), a home moved to another path, a missing
# warehouse file, no record, or a requested full refresh builds everything.


def _state_path(settings: Settings) -> Path:
    return settings.home / "dbt" / "built.json"


def _dbt_target() -> str:
    """The profile output dbt builds into (profiles.yml's default: duckdb)."""
    return os.environ.get("CXW_DBT_TARGET", "duckdb")


def _full_refresh_marker(settings: Settings) -> Path:
    return settings.home / "dbt" / "full-refresh-requested"


def request_full_refresh(settings: Settings) -> None:
    """Make the next build rebuild every model from all history (``cxw run --full-refresh``)."""
    marker = _full_refresh_marker(settings)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def project_digest() -> str:
    """A digest of the dbt project's files (not its target or logs)."""
    digest = hashlib.sha256()
    skipped = {"target", "logs", "dbt_packages"}
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and relative.parts[0] not in skipped:
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def landed_batches(settings: Settings) -> dict[str, list[list[Any]]]:
    """Every landed batch file per ``source.table``: name, size and modification time."""
    batches = {}
    for source, table in declared_sources():
        files = sorted((settings.lake_dir / source / table).glob("*.parquet"))
        batches[f"{source}.{table}"] = [
            [path.name, stat.st_size, stat.st_mtime_ns]
            for path, stat in ((path, path.stat()) for path in files)
        ]
    return batches


def _manifest(settings: Settings) -> dict[str, Any]:
    """The manifest of the last dbt command run for this home (the last build's)."""
    return json.loads((settings.home / "dbt" / "target" / "manifest.json").read_text())


def _models_reading_the_data_date(manifest: Mapping[str, Any]) -> list[str]:
    """The models whose SQL uses the data date (the ``as_of_date`` macro, through any
    macro calling it), from a build's ``manifest``."""
    dating = {"macro.cxw.as_of_date"}
    macros = manifest["macros"]
    grew = True
    while grew:
        callers = {
            name for name, macro in macros.items()
            if dating & set(macro.get("depends_on", {}).get("macros", []))
        }
        grew = not callers <= dating
        dating |= callers
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "snapshot"}
        and dating & set(node["depends_on"]["macros"])
    )


def build_selection(settings: Settings, as_of: date, state: Mapping[str, Any]) -> list[str] | None:
    """What a build as of ``as_of`` must run given the last build's ``state`` (see
    above): ``None`` for everything, ``[]`` for nothing."""
    if (
        not state
        or state.get("project") != project_digest()
        or state.get("target") != _dbt_target()
        # The staging views and sources read the lake by absolute path ($CXW_HOME, in
        # the sources' YAML): a home moved elsewhere builds every view again.
        or state.get("home") != str(settings.home)
        or not settings.warehouse_path.exists()
        or not (settings.home / "dbt" / "target" / "manifest.json").exists()
    ):
        return None
    built_batches, now = state.get("batches", {}), landed_batches(settings)
    selection = [
        f"source:{name}+" for name, files in now.items() if built_batches.get(name) != files
    ]
    if state.get("as_of") != as_of.isoformat():
        selection += [
            f"{model}+" for model in _models_reading_the_data_date(_manifest(settings))
        ]
    return selection


def views_to_keep(settings: Settings, current: Collection[str]) -> list[str]:
    """The views a day's build need not create again: on DuckDB a view is its SQL text,
    bound when it is read, so one over the lake's Parquet globs or over a table rebuilt
    since reads the new rows as it is. Kept: the ``current`` views (created by this
    project's builds, as ``build`` records them: not one a build of everything left out
    because its source had no data yet, which may be an older project's) still in the
    warehouse, whose SQL does not hold the data date (``as_of_date`` writes the date
    into it). Only for a selection of an unchanged project in the same home
    (``build_selection``). Not on PostgreSQL, where a view is bound to the tables it
    reads and dropped with them (``drop ... cascade`` when dbt replaces a table). Saves
    dbt's work for 23 of the 25 views each day (~130 ms of node time each at 5,000
    customers)."""
    if _dbt_target() != "duckdb" or not current:
        return []
    manifest = _manifest(settings)
    dating = set(_models_reading_the_data_date(manifest))
    views = {
        (node["schema"], node["alias"]): node["name"]
        for node in _view_nodes(manifest).values()
        if node["name"] in current and node["name"] not in dating
    }
    with duckdb_connection.connect(
        settings.warehouse_path, read_only=True, settings=settings
    ) as connection:
        present = set(connection.execute(
            "select schema_name, view_name from duckdb_views() "
            "where database_name = current_database() and not internal"
        ).fetchall())
    return sorted(name for relation, name in views.items() if relation in present)


def views_built(settings: Settings) -> list[str]:
    """The views the last dbt build created (from its run_results.json); none known
    without its artifacts (then the next day's build creates its views again)."""
    target = settings.home / "dbt" / "target"
    if not (target / "run_results.json").exists() or not (target / "manifest.json").exists():
        return []
    views = _view_nodes(_manifest(settings))
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sorted(
        views[result["unique_id"]]["name"]
        for result in results
        if result["status"] == "success" and result["unique_id"] in views
    )


def _view_nodes(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's models materialized as views, by unique id."""
    return {
        unique_id: node for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }


# Data tests sized to the run (macros/get_where_subquery.sql): a day's build tells the
# tests that ask for it the earliest landing time of the batches it reads for the first
# time, so they check only the rows landed since (`loaded_at >=` it); a full refresh, a
# first build or a changed project (which selects everything) tests every row.
NEW_ROWS_ENV = "CXW_NEW_ROWS_LOADED_SINCE"


def first_new_landing(
    settings: Settings, batches: Mapping[str, list[list[Any]]], state: Mapping[str, Any]
) -> str | None:
    """The earliest ``_loaded_at`` (UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``) of the batch files
    in ``batches`` that are new or re-landed since the last build (``state``), the only
    ones a build reads for the first time (only they are opened). Every row they bring
    carries it or a later time, whatever order their landings finished in: landing stamps
    a batch when it starts and publishes it when it ends, so a long landing (a helpdesk
    backfill) can be published after a later, shorter one. None when no file is new."""
    built = state.get("batches", {})
    new_files = [
        str(settings.lake_dir / name.replace(".", "/", 1) / entry[0])
        for name, entries in batches.items()
        for entry in entries
        if entry not in built.get(name, [])
    ]
    if not new_files:
        return None
    with duckdb_connection.connect(settings=settings) as connection:
        connection.execute("set TimeZone = 'UTC'")
        (landed,) = connection.execute(
            "select strftime(min(timezone('UTC', _loaded_at)), '%Y-%m-%d %H:%M:%S.%f') "
            "from read_parquet(?, union_by_name = true)",
            [new_files],
        ).fetchone()
    return landed


def build(settings: Settings, as_of: date, *, full_refresh: bool = False) -> str:
    """``dbt build`` the project into the DuckDB warehouse as of ``as_of``: what changed
    since the last build (``build_selection``), everything with ``full_refresh`` (or
    when ``request_full_refresh`` asked for it), incremental models rebuilt whole then."""
    state_path = _state_path(settings)
    with writer_lock(settings):
        # Before the build, so the sentiment source is there when surveys are.
        comment_sentiment.score_comments(settings)
        full_refresh = full_refresh or _full_refresh_marker(settings).exists()
        state = {} if full_refresh or not state_path.exists() else json.loads(
            state_path.read_text()
        )
        selection = build_selection(settings, as_of, state)
        record = {
            "project": project_digest(),
            "target": _dbt_target(),
            "home": str(settings.home),
            "as_of": as_of.isoformat(),
            "batches": landed_batches(settings),
        }
        if selection == []:
            log.info("nothing landed and the data date is the same: nothing to build")
            return ""
        if selection:
            log.info("building what changed since the last build: %s", selection)
        if selection is None and not full_refresh:
            _drop_marts(settings)
        env = as_of_environment(as_of)
        if selection:
            # Nothing new landed (only the data date moved): no row is new, so none of
            # the sized tests' rows; now is later than every landing.
            env[NEW_ROWS_ENV] = first_new_landing(settings, record["batches"], state) or (
                datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            )
        kept_views = views_to_keep(settings, state.get("views", [])) if selection else []
        output = run_dbt(
            settings,
            *build_arguments(
                settings, selection=selection, full_refresh=full_refresh,
                kept_views=kept_views,
            ),
            env=env,
        )
        # The views of this project now in the warehouse: those just created, and, after
        # a day's build, those of the last build (kept or not selected). Not a view a
        # build of everything left out (its source had no data: an older project's).
        earlier = state.get("views", []) if selection else []
        record["views"] = sorted({*earlier, *views_built(settings)})
        state_path.write_text(json.dumps(record))
        _full_refresh_marker(settings).unlink(missing_ok=True)
        return output


def _drop_marts(settings: Settings) -> None:
    """Drop the DuckDB warehouse's mart tables before a build of everything (a changed
    project, a lost build record), so dbt creates them afresh. A day's build writes a
    mart by difference (macros/changed_rows_strategy.sql), which cannot drop a column or
    change a type or a key. Done here, not with dbt's ``full_refresh`` config, whose
    value would make dbt parse the whole project again on the next day. On PostgreSQL
    (``CXW_DBT_TARGET``) the marts are kept: a new column is appended
    (``on_schema_change: append_new_columns``), and a removed column or a changed type
    or key needs ``cxw run --full-refresh``."""
    if _dbt_target() != "duckdb" or not settings.warehouse_path.exists():
        return
    with duckdb_connection.connect(settings.warehouse_path, settings=settings) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and list_contains(?, schema_name)",
            [list(MART_SCHEMAS)],
        ).fetchall()
        for schema, table in tables:
            connection.execute(f"drop table {_name(schema)}.{_name(table)}")
    if tables:
        log.info("everything is built: the %d marts are created afresh", len(tables))


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
    with duckdb_connection.connect(settings.warehouse_path, read_only=True) as connection:
        columns = connection.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns order by all"
        ).fetchall()
    return hashlib.sha256((project_digest() + repr(columns)).encode()).hexdigest()


# What BI users get: the marts and the tables the semantic layer reads. Never staging or
# intermediate (views over the lake by absolute path, raw emails), never seeds.
PUBLISHED_SCHEMAS = (*MART_SCHEMAS, "semantic")

# DuckDB storage versions, oldest first: the published file is written in the oldest one
# its data types allow, so the DuckDB 1.x drivers inside BI tools open it.
STORAGE_VERSIONS = ("v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0")


class PublishFailed(RuntimeError):
    """The published copy could not be written; the last published file is untouched."""


def publish(settings: Settings) -> Path:
    """Write the built warehouse's published schemas into a new file next to the published
    one, then swap it in atomically (a rename: a reader holding the old file open keeps
    reading it; a crash before the rename leaves the last published file as it was).

    Only base tables of ``PUBLISHED_SCHEMAS`` are published, with their constraints and
    their catalog comments (dbt ``persist_docs``), in the oldest storage version that
    takes them. A day's publish does a day's work: the new file starts as a copy of the
    published one and only what changed is written into it (``_update_published_copy``);
    the first publish, or one the copy cannot take, writes every table afresh."""
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp")
    with writer_lock(settings):
        _remove_database_files(staging)
        updated = False
        if target.exists():
            try:
                shutil.copyfile(target, staging)
                updated = _update_published_copy(settings.warehouse_path, staging)
            except (duckdb.Error, OSError) as error:
                log.warning("could not update a copy of %s (%s): writing it afresh",
                            target.name, str(error).splitlines()[0])
                _remove_database_files(staging)
        if not updated:
            version = _write_published_copy(settings.warehouse_path, staging)
            log.info("published %s afresh (storage %s)", target, version)
    os.chmod(staging, 0o644)
    os.replace(staging, target)
    return target


def _write_published_copy(source: Path, staging: Path) -> str:
    """Write ``staging`` from scratch in the oldest storage version that takes the
    published tables; returns that version."""
    errors = []
    for version in STORAGE_VERSIONS:
        _remove_database_files(staging)
        try:
            _copy_published_schemas(source, staging, version)
        except duckdb.Error as error:
            errors.append(f"{version}: {error}".splitlines()[0])
            continue
        return version
    _remove_database_files(staging)
    raise PublishFailed(
        f"could not write {staging.name} in any storage version: {'; '.join(errors)}"
    )


def _remove_database_files(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _copy_published_schemas(source: Path, out: Path, storage_version: str) -> None:
    """Write ``out`` in ``storage_version`` with the published schemas' tables of
    ``source``: each table's own DDL (types, primary key, not null), its rows, its comments."""
    with _attached(source, out, f"storage_version '{storage_version}'") as (connection, built):
        tables = _published_tables(connection, built)
        for schema in sorted({schema for schema, _ in tables}):
            connection.execute(f"create schema {_name(schema)}")
        for (schema, table), (ddl, _) in tables.items():
            _create_and_fill(connection, built, schema, table, ddl)
            _describe(connection, built, schema, table)


def _update_published_copy(source: Path, out: Path) -> bool:
    """Make ``out`` (a copy of the last published file, in its storage version) hold
    what ``_copy_published_schemas`` would write, writing only what changed: tables
    added, redefined or dropped, and, in a table defined as before, only the rows that
    differ (by primary key and row hash, see ``_sync_rows``). Comments are set again
    only where they changed. False, with ``out`` untouched, when the copy is not in the
    oldest storage version (a table that needed a newer one may be gone: write afresh)."""
    with _attached(source, out) as (connection, built):
        (version,) = connection.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = 'published'"
        ).fetchone()
        if not (version or "").startswith(STORAGE_VERSIONS[0]):
            return False
        wanted = _published_tables(connection, built)
        present = _published_tables(connection, "published", every_schema=True)
        for schema, table in sorted(present.keys() - wanted.keys()):
            connection.execute(f"drop table {_name(schema)}.{_name(table)}")
        schemas = {schema for schema, _ in wanted}
        for (schema,) in connection.execute(
            "select schema_name from duckdb_schemas() where database_name = 'published' "
            "and not internal and schema_name <> 'main'"
        ).fetchall():
            if schema not in schemas:
                connection.execute(f"drop schema {_name(schema)}")
        for schema in sorted(schemas):
            connection.execute(f"create schema if not exists {_name(schema)}")
        changes = []
        for (schema, table), (ddl, _) in wanted.items():
            qualified = f"{_name(schema)}.{_name(table)}"
            if present.get((schema, table), (None, None))[0] != ddl:
                connection.execute(f"drop table if exists {qualified}")
                _create_and_fill(connection, built, schema, table, ddl)
                changes.append(f"{schema}.{table} (written whole)")
            elif rows := _sync_rows(connection, built, schema, table):
                changes.append(f"{schema}.{table} ({rows} rows)")
            _describe(connection, built, schema, table)
        log.info("published: %s", ", ".join(changes) or "nothing changed")
    return True


@contextmanager
def _attached(source: Path, out: Path, options: str = "") -> Iterator[tuple[Any, str]]:
    """A connection to the checkpointed ``source`` with ``out`` attached as ``published``
    and in use; yields it and the source's catalog name. ``out`` is checkpointed and
    detached after."""
    with duckdb_connection.connect(source) as connection:
        connection.execute("checkpoint")
        built = connection.execute("select current_database()").fetchone()[0]
        connection.execute(
            f"attach {_literal(str(out))} as published{f' ({options})' if options else ''}"
        )
        try:
            connection.execute("use published")
            yield connection, built
            connection.execute(f"use {_name(built)}")
            connection.execute("checkpoint published")
        finally:
            connection.execute(f"use {_name(built)}")
            connection.execute("detach published")


def _published_tables(
    connection: Any, database: str, every_schema: bool = False
) -> dict[tuple[str, str], tuple[str, Any]]:
    """``(schema, table)`` -> ``(DDL, comment)`` of the base tables of ``database``'s
    published schemas (``every_schema``: of all its schemas), in name order."""
    rows = connection.execute(
        "select schema_name, table_name, sql, comment from duckdb_tables() "
        "where database_name = ? and (? or list_contains(?, schema_name)) "
        "and not temporary order by schema_name, table_name",
        [database, every_schema, list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    return {(schema, table): (ddl, comment) for schema, table, ddl, comment in rows}


def _create_and_fill(connection: Any, built: str, schema: str, table: str, ddl: str) -> None:
    """Create the table in ``published`` with its built DDL and copy every row into it."""
    qualified = f"{_name(schema)}.{_name(table)}"
    connection.execute(ddl)
    connection.execute(
        f"insert into published.{qualified} "  # noqa: S608 - names from the catalog
        f"select * from {_name(built)}.{qualified}"
    )


def _describe(connection: Any, built: str, schema: str, table: str) -> None:
    """Give the published copy of a table the built table's comment and column comments,
    setting only those that differ (a catalog write each)."""
    qualified = f"{_name(schema)}.{_name(table)}"
    wanted, present = (
        dict(connection.execute(
            "select '', comment from duckdb_tables() "
            "where database_name = ? and schema_name = ? and table_name = ? union all "
            "select column_name, comment from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ?",
            [database, schema, table] * 2,
        ).fetchall())
        for database in (built, "published")
    )
    for column, text in wanted.items():
        if present.get(column) != text:
            what = f"column {qualified}.{_name(column)}" if column else f"table {qualified}"
            connection.execute(f"comment on {what} is {_literal(text) if text else 'null'}")


def _sync_rows(connection: Any, built: str, schema: str, table: str) -> int:
    """Make the published copy of a table (defined as the built one) hold the built rows,
    rewriting only the rows that differ; returns how many keys or rows were rewritten.

    With a primary key, a row differs when its key's row hash (DuckDB's 64-bit ``hash``
    of the whole row) is not the same on both sides: those keys are deleted and their
    built rows inserted, so a day that touched 0.4% of the sessions writes 0.4% of them.
    Without one, a table whose row count or sum of row hashes changed is rewritten
    whole."""
    qualified = f"{_name(schema)}.{_name(table)}"
    source, copy = f"{_name(built)}.{qualified}", f"published.{qualified}"
    keys = connection.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where database_name = ? and schema_name = ? and table_name = ? "
        "and constraint_type = 'PRIMARY KEY'",
        [built, schema, table],
    ).fetchall()
    if not keys:
        content = "select count(*), sum(hash(_row_)::hugeint) from {} as _row_"
        if connection.execute(content.format(source)).fetchone() == connection.execute(
            content.format(copy)
        ).fetchone():
            return 0
        connection.execute(f"delete from {copy}")  # noqa: S608 - names from the catalog
        connection.execute(f"insert into {copy} select * from {source}")  # noqa: S608
        return connection.execute(f"select count(*) from {copy}").fetchone()[0]  # noqa: S608
    columns = ", ".join(_name(column) for column in keys[0][0])
    matches = " and ".join(f"t.{_name(c)} = c.{_name(c)}" for c in keys[0][0])
    # ``_row_``: a column named like the alias would be hashed instead of the row.
    hashed = "select {columns}, hash(_row_) as row_hash from {table} as _row_"
    # One full join by key (a key on one side only, or a different row hash): 2x faster
    # than two set differences on 900k sessions.
    connection.execute(
        f"create or replace temp table _changed_keys as "  # noqa: S608 - catalog names
        f"select {columns} from ({hashed.format(columns=columns, table=source)}) as built_rows "
        f"full join ({hashed.format(columns=columns, table=copy)}) as published_rows "
        f"using ({columns}) where built_rows.row_hash is distinct from published_rows.row_hash"
    )
    (changed,) = connection.execute("select count(*) from temp._changed_keys").fetchone()
    if changed:
        connection.execute(
            f"delete from {copy} as t using temp._changed_keys as c where {matches}"  # noqa: S608
        )
        connection.execute(
            f"insert into {copy} select t.* from {source} as t "  # noqa: S608
            f"semi join temp._changed_keys as c on {matches}"
        )
    connection.execute("drop table temp._changed_keys")
    return changed


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
