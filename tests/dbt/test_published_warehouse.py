"""What BI users get: the published warehouse holds the marts and the semantic layer's
tables only (no views, no staging, no emails), documented in the catalog, with primary
keys, in a storage format DuckDB 1.x drivers open, swapped in atomically."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cxw import warehouse
from cxw.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OLD_DUCKDB = "1.1.3"  # the driver inside many BI tools (Metabase, DBeaver) in 2025-26
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"


@pytest.fixture(scope="session")
def old_duckdb_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with DuckDB 1.1.3 from PyPI in a scratch venv (uv's cache keeps reruns
    offline-fast). Skipped with the reason when PyPI cannot be reached, except in CI."""
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    venv = tmp_path_factory.mktemp("duckdb-1x") / "venv"
    python = venv / "bin" / "python"
    commands = [
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(python), f"duckdb=={OLD_DUCKDB}"],
    ]
    for command in commands:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as error:
            done = subprocess.CompletedProcess(command, 1, "", str(error))
        if done.returncode != 0:
            reason = f"cannot install duckdb=={OLD_DUCKDB} from PyPI (offline?): " + (
                (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            )[-1]
            if os.environ.get("CI") == "true":
                pytest.fail(reason)
            pytest.skip(reason)
    return python


def home_of(built: Path) -> Settings:
    return Settings(built.parent.parent, None, None, "")


@pytest.fixture(scope="module")
def published(built: Path) -> Path:
    settings = home_of(built)
    return warehouse.publish(settings)


def relations(path: Path) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "select schema_name, table_name, 'table' from duckdb_tables() "
            "union all select schema_name, view_name, 'view' from duckdb_views() "
            "where not internal order by all"
        ).fetchall()


def test_only_mart_and_semantic_tables_are_published(published: Path, built: Path) -> None:
    found = relations(published)
    assert found, "something was published"
    assert {kind for *_, kind in found} == {"table"}, "no views"
    assert {schema for schema, *_ in found} <= {"service", "experience", "semantic"}
    names = {f"{schema}.{name}" for schema, name, _ in found}
    # (This warehouse has no web analytics: the models over them are not built.)
    assert {"service.tickets", "service.agents", "semantic.survey_answers"} <= names
    assert not any("stg_" in name or "int_" in name for name in names)
    # The build file does hold staging views over the lake: they stay out.
    assert any(schema == "staging" for schema, *_ in relations(built))
    assert oct(published.stat().st_mode & 0o777) == oct(0o644)


def columns_holding(path: Path, pattern: str) -> list[str]:
    """Every text column of every relation of ``path`` with a value matching ``pattern``."""
    with duckdb.connect(str(path), read_only=True) as connection:
        text_columns = connection.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where data_type = 'VARCHAR' and not internal and database_name = current_database()"
        ).fetchall()
        return [
            f"{schema}.{table}.{column}"
            for schema, table, column in text_columns
            if connection.execute(
                f'select count(*) from "{schema}"."{table}" '  # noqa: S608 - catalog names
                f'where regexp_matches("{column}", ?)',
                [pattern],
            ).fetchone()[0]
        ]


def test_no_published_value_holds_an_email_or_a_local_path(published: Path, built: Path) -> None:
    # The build file's staging holds the customers' emails; the published file, none.
    assert "staging.stg_orders__customers.email_normalized" in columns_holding(built, EMAIL)
    assert columns_holding(published, EMAIL) == []
    assert columns_holding(published, re.escape(str(published.parents[1]))) == []
    with duckdb.connect(str(published), read_only=True) as connection:
        definitions = connection.execute(
            "select string_agg(sql, ' ') from duckdb_tables()"
        ).fetchone()[0]
    assert "/" not in definitions, "no path in any table definition"


def test_every_table_and_column_carries_its_description(published: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where coalesce(comment, '') = ''"
        ).fetchall()
        columns = connection.execute(
            "select schema_name || '.' || table_name || '.' || column_name "
            "from duckdb_columns() where coalesce(comment, '') = '' and not internal"
        ).fetchall()
        (ticket_id,) = connection.execute(
            "select comment from duckdb_columns() "
            "where schema_name = 'service' and table_name = 'tickets' "
            "and column_name = 'ticket_id'"
        ).fetchone()
    assert tables == [] and columns == []
    assert ticket_id == "Helpdesk ticket id."  # from _service__models.yml


def test_primary_keys_are_declared(published: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as connection:
        keys = dict(connection.execute(
            "select schema_name || '.' || table_name, constraint_column_names "
            "from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
        ).fetchall())
    assert keys["service.agents"] == ["agent_id"]
    assert keys["service.tickets"] == ["ticket_id"]
    assert keys["service.daily_kpis"] == ["date", "channel"]
    assert keys["service.sla_events"] == ["sla_event_id"]
    assert keys["service.ticket_backlog"] == ["date", "ticket_id"]


def test_a_duckdb_1x_client_reads_every_published_table(
    published: Path, old_duckdb_python: Path
) -> None:
    answer = _read_by_old_client(old_duckdb_python, published)
    assert answer["version"] == OLD_DUCKDB
    assert answer["rows"] == _counts(published)
    assert set(warehouse.mart_row_counts(published)) < set(answer["rows"])


def _read_by_old_client(python: Path, path: Path) -> dict:
    """What the DuckDB 1.x client reads of ``path``: its version and every table's count."""
    script = (
        "import duckdb, json, sys\n"
        "c = duckdb.connect(sys.argv[1], read_only=True)\n"
        "tables = c.execute('select schema_name, table_name from duckdb_tables() "
        "order by all').fetchall()\n"
        "print(json.dumps({'version': duckdb.__version__, 'rows': {f'{s}.{t}': "
        "c.execute(f'select count(*) from (select * from \"{s}\".\"{t}\")').fetchone()[0] "
        "for s, t in tables}}))\n"
    )
    done = subprocess.run(
        [str(python), "-c", script, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        return {
            f"{schema}.{table}": connection.execute(
                f'select count(*) from "{schema}"."{table}"'  # noqa: S608 - catalog names
            ).fetchone()[0]
            for schema, table in tables
        }


def test_a_failed_copy_leaves_the_published_file_untouched(
    published: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = home_of(built)
    before = published.read_bytes()

    def crash(*_args) -> None:
        raise duckdb.IOException("disk full (simulated)")

    # Both ways fail: updating a copy of the published file, then writing it afresh.
    monkeypatch.setattr(warehouse, "_update_published_copy", crash)
    monkeypatch.setattr(warehouse, "_copy_published_schemas", crash)
    with pytest.raises(warehouse.PublishFailed, match="disk full"):
        warehouse.publish(settings)
    assert published.read_bytes() == before
    assert not list(published.parent.glob(".*.tmp*")), "no half-written copy left behind"


def _content(path: Path) -> dict[str, object]:
    """Every published table's DDL, comments and rows (sorted), to compare two files."""
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select schema_name, table_name, sql, comment from duckdb_tables() order by all"
        ).fetchall()
        return {
            f"{schema}.{table}": (
                ddl,
                comment,
                connection.execute(
                    "select column_name, comment from duckdb_columns() "
                    "where schema_name = ? and table_name = ? order by column_index",
                    [schema, table],
                ).fetchall(),
                connection.execute(
                    f'select * from "{schema}"."{table}" order by all'  # noqa: S608
                ).fetchall(),
            )
            for schema, table, ddl, comment in tables
        }


def test_a_day_s_publish_writes_only_what_changed(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, old_duckdb_python: Path
) -> None:
    # A copy of the built warehouse in a home of its own, published once (afresh).
    settings = Settings(tmp_path, None, None, "")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, settings.warehouse_path)
    warehouse.publish(settings)
    version = _storage_version(settings.published_path)
    # The next build changes one ticket, adds one, removes an agent, re-documents a
    # column, redefines the daily KPIs (a column more) and drops the backlog.
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        (first, last) = connection.execute(
            "select min(ticket_id), max(ticket_id) from service.tickets"
        ).fetchone()
        connection.execute(
            "update service.tickets set group_name = 'changed' where ticket_id = ?", [first]
        )
        connection.execute(
            "insert into service.tickets select * replace (? as ticket_id) "
            "from service.tickets where ticket_id = ?", [last + 1000, last]
        )
        connection.execute(
            "delete from service.agents where agent_id = (select max(agent_id) "
            "from service.agents)"
        )
        connection.execute("comment on column service.tickets.group_name is 'Re-documented.'")
        connection.execute("alter table service.daily_kpis add column extra integer")
        connection.execute("drop table service.ticket_backlog")
    caplog.set_level("INFO", logger=warehouse.__name__)
    warehouse.publish(settings)

    assert _content(settings.published_path) == {
        name: content for name, content in _content_of_built(settings).items()
    }
    changes = _publish_log(caplog)
    # The ticket changed and the new one: 2 keys; the agent gone: 1 key.
    assert changes == [
        "published: service.agents (1 rows), service.daily_kpis (written whole), "
        "service.tickets (2 rows)"
    ]
    assert _storage_version(settings.published_path) == version
    assert _read_by_old_client(old_duckdb_python, settings.published_path)["rows"] == _counts(
        settings.published_path
    )

    # Nothing changed since: nothing is written.
    caplog.clear()
    warehouse.publish(settings)
    assert _publish_log(caplog) == ["published: nothing changed"]

    # A published file in a newer storage version than the oldest (a table once needed
    # it) is written afresh, in the oldest one its tables allow again.
    settings.published_path.unlink()
    warehouse._copy_published_schemas(  # noqa: SLF001
        settings.warehouse_path, settings.published_path, "v1.2.0"
    )
    caplog.clear()
    warehouse.publish(settings)
    assert _publish_log(caplog) == []
    assert _storage_version(settings.published_path) == version


def _publish_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the in-place publishes logged as written (none when it wrote afresh)."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("published:")]


def _storage_version(path: Path) -> str:
    """The storage version DuckDB tags a database file with (``v1.0.0+``)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        (version,) = connection.execute(
            "select tags['storage_version'] from duckdb_databases() "
            "where database_name = current_database()"
        ).fetchone()
    return version


def _content_of_built(settings: Settings) -> dict[str, object]:
    """The built warehouse's published schemas' tables, as ``_content`` reads a file."""
    copy = settings.home / "expected.duckdb"
    copy.unlink(missing_ok=True)
    warehouse._copy_published_schemas(settings.warehouse_path, copy, "v1.0.0")  # noqa: SLF001
    return _content(copy)


def test_source_freshness_reports_stale_sources_with_configurable_thresholds(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hand-landed helpdesk and survey batches landed at 2026-01-06 00:00 UTC, months
    # before any day this test runs: past both the default 2-day warning and the 4-day
    # error. The orders were extracted by the pipeline just now: fresh.
    settings = home_of(built)
    checked = {entry["source"]: entry for entry in warehouse.source_freshness(settings)}
    landed = {f"{source}.{table}" for source, table in warehouse.declared_sources()} - {
        f"{source}.{table}" for source, table in warehouse.unlanded_sources(settings)
    }
    # The comment sentiment scores are derived by the pipeline, not landed from a source
    # system: no freshness to check.
    landed -= {"survey_enrichment.comment_sentiment"}
    assert set(checked) == landed
    hand_landed = {name for name in landed if not name.startswith("orders.")}
    assert {checked[name]["status"] for name in hand_landed} == {"error"}
    assert {checked[name]["max_loaded_at"][:19] for name in hand_landed} == {
        "2026-01-06T00:00:00"
    }
    assert {checked[name]["status"] for name in landed - hand_landed} == {"pass", "no rows"}
    assert checked["orders.refunds"] == {  # the tiny shop has no refunds
        "source": "orders.refunds", "status": "no rows", "max_loaded_at": None
    }
    # Thresholds come from the environment: 100,000 days to an error leaves a warning.
    monkeypatch.setenv("CXW_FRESHNESS_ERROR_DAYS", "100000")
    again = {entry["source"]: entry for entry in warehouse.source_freshness(settings)}
    assert {again[name]["status"] for name in hand_landed} == {"warn"}
