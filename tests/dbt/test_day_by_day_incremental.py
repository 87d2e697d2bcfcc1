"""A day's build does the day's work, and the same work as a full rebuild: the simulator's
company landed and built day by day (each build selects only what the landed batches
and the new data date change, incremental models append or merge) holds, in every
published table, exactly what one `--full-refresh` build of the same lake holds."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxw import pipeline, warehouse
from cxw.settings import Settings
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from tests.dbt.conftest import COMPANY_TOKEN, point_at

FIRST, LAST = date(2026, 6, 24), date(2026, 6, 28)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def published_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Every table of the published schemas, rows in a stable order."""
    with duckdb.connect(str(path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        names = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where list_contains(?, table_schema) and table_type = 'BASE TABLE' order by 1",
            [list(warehouse.PUBLISHED_SCHEMAS)],
        ).fetchall()
        return {
            name: connection.sql(f"select * from {name} order by all").df()  # noqa: S608
            for (name,) in names
        }


@pytest.fixture(scope="module")
def day_by_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[str]]:
    """Five days landed and built one at a time; the settings and each build's output."""
    root = tmp_path_factory.mktemp("day_by_day")
    sources = root / "sources"
    generate(sources, 60, FIRST - timedelta(days=20), LAST, seed=5)
    outputs = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(root / "cxw"))
        settings = Settings.from_env()
        now = int(midnight(LAST + timedelta(days=1)).timestamp())
        with HelpdeskServer(sources / "helpdesk", token=COMPANY_TOKEN, now=now) as server:
            point_at(patch, sources, server)
            day = FIRST - timedelta(days=20)
            windows = [(day, FIRST)] + [
                (FIRST + timedelta(days=offset), FIRST + timedelta(days=offset + 1))
                for offset in range((LAST - FIRST).days + 1)
            ]
            for start, end in windows:
                window = (midnight(start), midnight(end))
                pipeline.land_helpdesk(*window)
                pipeline.land_web(*window)
                pipeline.land_orders(*window)
                pipeline.land_surveys(*window)
                outputs.append(warehouse.build(settings, end - timedelta(days=1)))
            # The same day again, nothing new landed: nothing to build.
            outputs.append(warehouse.build(settings, LAST))
    return settings, outputs


def last_build_results(settings: Settings) -> list[dict]:
    """What the last build that ran reported per node (its run_results.json)."""
    path = settings.home / "dbt" / "target" / "run_results.json"
    return json.loads(path.read_text())["results"]


def test_every_table_equals_a_full_refresh(
    day_by_day: tuple[Settings, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = day_by_day
    shutil.copytree(settings.lake_dir, tmp_path / "lake" / "raw")
    monkeypatch.setenv("CXW_HOME", str(tmp_path))
    rebuilt = Settings.from_env()
    warehouse.build(rebuilt, LAST, full_refresh=True)
    incremental, full = published_tables(settings.warehouse_path), published_tables(
        rebuilt.warehouse_path
    )
    assert sorted(incremental) == sorted(full)
    assert len(full) >= 10 and sum(len(table) for table in full.values()) > 1000
    for name, table in full.items():
        pd.testing.assert_frame_equal(incremental[name], table, check_dtype=False, obj=name)
    # The full refresh tested every row: no previous landing time, so 1970 (the sized
    # tests, test_a_days_data_tests_check_the_rows_landed_since_the_last_build).
    where = sized_test_where(rebuilt, "test.cxw.unique_stg_web__events_event_key")
    assert "loaded_at >= cast('1970-01-01 00:00:00' as timestamp)" in where


def test_a_day_builds_only_what_changed(day_by_day: tuple[Settings, list[str]]) -> None:
    _, outputs = day_by_day
    totals = [int(output.split("TOTAL=")[1].split()[0]) for output in outputs[:-1]]
    # The first build builds everything; a day with new data fewer nodes (no seeds, no
    # view over a source that landed nothing new); the same day again nothing at all.
    assert all(total < totals[0] for total in totals[1:]), totals
    assert outputs[-1] == ""


def test_a_days_build_writes_the_marts_by_difference(
    day_by_day: tuple[Settings, list[str]],
) -> None:
    # The last day's build ran every mart incrementally with the changed_rows strategy
    # (macros/changed_rows_strategy.sql), not as a full rebuild (only a build of
    # everything drops the marts first: cxw.warehouse._drop_marts).
    settings, _ = day_by_day
    ran = {result["unique_id"] for result in last_build_results(settings)}
    assert {"model.cxw.sessions", "model.cxw.customers"} <= ran
    run_sql = settings.home / "dbt" / "target" / "run" / "cxw" / "models" / "marts"
    for name in ("sessions", "customers"):
        (path,) = run_sql.glob(f"*/{name}.sql")
        sql = path.read_text()
        assert "__changed" in sql and "except" in sql, f"{name} was not written by difference"


def test_a_days_build_keeps_the_views_and_still_tests_them(
    day_by_day: tuple[Settings, list[str]],
) -> None:
    # The last day's build created again only the views that hold the data date
    # (cxw.warehouse.views_to_keep); the others read the new batches as they are. Their
    # data tests ran all the same, and every table equals a full refresh
    # (test_every_table_equals_a_full_refresh).
    settings, _ = day_by_day
    ran = {result["unique_id"] for result in last_build_results(settings)}
    manifest = json.loads((settings.home / "dbt" / "target" / "manifest.json").read_text())
    views = {
        unique_id for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }
    dating = {
        f"model.cxw.{name}"
        for name in warehouse._models_reading_the_data_date(manifest)  # noqa: SLF001
    }
    assert len(views) > 10 and len(views - dating) > 10
    assert ran & views == views & dating
    # Every kept view's tests ran, or none did (its sources landed nothing new).
    tests_of = {
        view: {
            unique_id for unique_id, node in manifest["nodes"].items()
            if node["resource_type"] == "test" and view in node["depends_on"]["nodes"]
        }
        for view in views - dating
    }
    tested = [view for view, tests in tests_of.items() if tests & ran]
    assert len(tested) > 10
    assert all(tests_of[view] <= ran for view in tested), "some tests of a kept view did not run"
    # The record names every view of the project as current, so tomorrow keeps them too.
    state = json.loads((settings.home / "dbt" / "built.json").read_text())
    assert {f"model.cxw.{name}" for name in state["views"]} == views


def sized_test_where(settings: Settings, test_prefix: str) -> str:
    """The `where` a data test of the last build ran with, from its compiled SQL."""
    (code,) = [
        result["compiled_code"] for result in last_build_results(settings)
        if result["unique_id"].startswith(test_prefix)
    ]
    return code.split("dbt_subquery")[0]


def test_a_days_data_tests_check_the_rows_landed_since_the_last_build(
    day_by_day: tuple[Settings, list[str]],
) -> None:
    # The last build that ran (June 28's; the rerun after it built nothing) tested
    # stg_web__events' key only on the events of the batches it read for the first time
    # (landed at or after their earliest landing): some of the table (June 28's export),
    # not all of it (June 4-27's).
    settings, _ = day_by_day
    where = sized_test_where(settings, "test.cxw.unique_stg_web__events_event_key")
    since = where.split("loaded_at >= cast('")[1].split("'")[0]
    assert not since.startswith("1970")
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        tested, total = connection.execute(
            "select count(*) filter (where loaded_at >= cast(? as timestamp)), count(*) "
            "from staging.stg_web__events",
            [since],
        ).fetchone()
    assert 0 < tested < total, (tested, total)
