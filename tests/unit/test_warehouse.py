from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from cxw import warehouse
from cxw.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR, Settings


def test_declared_sources_cover_every_source_folder() -> None:
    """Every entity that lands (one GX suite per source entity) is a declared dbt source,
    for each of the four sources, and each source has its staging folder."""
    declared = warehouse.declared_sources()
    assert ("orders", "orders") in declared
    assert ("helpdesk", "ticket_events") in declared
    assert ("surveys", "responses") in declared
    landed = {
        (suite.parent.name, suite.stem)
        for suite in EXPECTATIONS_DIR.glob("*/*.json")
        if suite.parent.name != "marts"
    }
    assert {source for source, _ in landed} == {"helpdesk", "orders", "surveys", "web"}
    assert landed <= set(declared), sorted(landed - set(declared))
    staging = {path.name for path in (DBT_PROJECT_DIR / "models" / "staging").iterdir()
               if path.is_dir()}
    assert {source for source, _ in landed} <= staging


def test_sources_without_landed_batches_are_reported(cxw_home: Path) -> None:
    settings = Settings.from_env()
    landed = settings.lake_dir / "orders" / "orders"
    landed.mkdir(parents=True)
    (landed / "20260101T000000_20260102T000000.parquet").write_bytes(b"")
    missing = warehouse.unlanded_sources(settings)
    assert ("orders", "orders") not in missing
    assert ("orders", "customers") in missing
    assert ("helpdesk", "tickets") in missing


def test_dbt_docs_are_generated_again_only_when_relations_change(
    cxw_home: Path, monkeypatch
) -> None:
    import duckdb

    settings = Settings.from_env()
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("create schema service; create table service.tickets (id integer)")
    generated = []

    def fake_dbt(settings: Settings, *args: str, **kwargs) -> str:
        generated.append(args)
        page = settings.home / "dbt" / "target" / "static_index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"docs {len(generated)}")
        return ""

    monkeypatch.setattr(warehouse, "run_dbt", fake_dbt)
    out = settings.reports_dir
    assert warehouse.build_docs(settings, out).read_text() == "docs 1"
    assert warehouse.build_docs(settings, out).read_text() == "docs 1", "nothing changed"
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("alter table service.tickets add column channel varchar")
    assert warehouse.build_docs(settings, out).read_text() == "docs 2", "a column appeared"
    assert len(generated) == 2


def test_a_build_selects_everything_when_the_target_or_the_warehouse_changed(
    cxw_home: Path, monkeypatch
) -> None:
    """A day's build runs only what changed since the last build; but what the record
    says was built is only true of the same dbt target, the same home path (views read
    the lake by absolute path) and the same warehouse file."""
    monkeypatch.delenv("CXW_DBT_TARGET", raising=False)
    settings = Settings.from_env()
    (settings.home / "dbt" / "target").mkdir(parents=True)
    (settings.home / "dbt" / "target" / "manifest.json").write_text("{}")
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.write_bytes(b"")
    as_of = date(2026, 3, 1)
    state = {
        "project": warehouse.project_digest(),
        "target": "duckdb",
        "home": str(settings.home),
        "as_of": as_of.isoformat(),
        "batches": warehouse.landed_batches(settings),
    }
    assert warehouse.build_selection(settings, as_of, state) == []  # nothing changed
    monkeypatch.setenv("CXW_DBT_TARGET", "postgres")
    assert warehouse.build_selection(settings, as_of, state) is None
    monkeypatch.delenv("CXW_DBT_TARGET")
    # A home copied from another path: its views still read the old path's lake.
    moved = {**state, "home": "/somewhere/else"}
    assert warehouse.build_selection(settings, as_of, moved) is None
    settings.warehouse_path.unlink()
    assert warehouse.build_selection(settings, as_of, state) is None


def test_kept_views_are_left_out_but_not_their_tests(cxw_home: Path) -> None:
    """A day's build leaves out the views it keeps; their data tests are selected as
    descendants of the changed sources, not dropped with the views."""
    settings = Settings.from_env()
    arguments = warehouse.build_arguments(
        settings, selection=["source:orders.orders+"], kept_views=["stg_orders__orders"]
    )
    assert "stg_orders__orders" in arguments[arguments.index("--exclude") + 1:]
    assert arguments[arguments.index("--indirect-selection") + 1] == "empty"
    plain = warehouse.build_arguments(settings, selection=["source:orders.orders+"])
    assert "--indirect-selection" not in plain
    assert warehouse.views_to_keep(settings, current=[]) == []


def test_the_marts_are_created_afresh_when_everything_is_built(
    cxw_home: Path, monkeypatch
) -> None:
    """The marts are written by difference, which cannot drop a column or change a type
    or a key: a build of everything (first build, changed project) drops them so dbt
    creates them afresh; a day's build of what changed keeps them."""
    import duckdb

    settings = Settings.from_env()
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    kept: list[bool] = []

    def fake_dbt(settings: Settings, *args: str, **kwargs) -> str:
        with duckdb.connect(str(settings.warehouse_path)) as connection:
            kept.append(bool(connection.execute(
                "select count(*) from duckdb_tables() where schema_name = 'service'"
            ).fetchone()[0]))
            connection.execute("create schema if not exists service; "
                               "create or replace table service.tickets (id integer)")
        target = settings.home / "dbt" / "target"
        target.mkdir(parents=True, exist_ok=True)
        (target / "manifest.json").write_text('{"macros": {}, "nodes": {}}')
        return ""

    monkeypatch.setattr(warehouse, "run_dbt", fake_dbt)
    monkeypatch.setattr(warehouse.comment_sentiment, "score_comments", lambda settings: None)
    monkeypatch.setattr(warehouse, "first_new_landing", lambda *args: None)
    monkeypatch.delenv("CXW_DBT_TARGET", raising=False)
    day = date(2026, 3, 1)
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("create schema service; create table service.tickets (id integer)")
    warehouse.build(settings, day)  # no build record: everything
    folder = settings.lake_dir / "orders" / "orders"
    folder.mkdir(parents=True)
    (folder / "20260301T000000_20260302T000000.parquet").write_bytes(b"new batch")
    warehouse.build(settings, day)  # what the new batch changes
    monkeypatch.setattr(warehouse, "project_digest", lambda: "a changed project")
    warehouse.build(settings, day)  # everything again
    assert kept == [False, True, False]


def test_first_new_landing_reads_only_the_batches_new_since_the_last_build(
    cxw_home: Path,
) -> None:
    """The earliest landing time of the batches a build reads for the first time (for its
    sized data tests): a batch the last build already read is not opened, and a batch
    stamped before the last build but published after it (a long landing) still counts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    settings = Settings.from_env()
    folder = settings.lake_dir / "helpdesk" / "tickets"
    folder.mkdir(parents=True)
    # Not Parquet at all: reading it would fail, so the test proves it is not read.
    (folder / "old.parquet").write_bytes(b"read by the last build")
    state = {"batches": warehouse.landed_batches(settings)}
    # Nothing new since the last build: no landing time.
    assert warehouse.first_new_landing(settings, warehouse.landed_batches(settings), state) is None
    moment = pa.timestamp("us", tz="UTC")

    def land(name: str, *times: datetime) -> None:
        pq.write_table(pa.table({"id": list(range(len(times))),
                                 "_loaded_at": pa.array(times, moment)}),
                       folder / name)

    land("web-like.parquet", datetime(2026, 3, 2, 7, 30, tzinfo=UTC),
         datetime(2026, 3, 2, 7, 31, tzinfo=UTC))
    # A backfill stamped at 06:00 (its landing's start), published after the 07:30 batch.
    land("backfill.parquet", datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    # The earliest of the two new batches' rows: 06:00, so the backfill's rows are tested.
    assert warehouse.first_new_landing(settings, warehouse.landed_batches(settings), state) == (
        "2026-03-02 06:00:00.000000"
    )
    # No batches at all: nothing new.
    assert warehouse.first_new_landing(settings, {}, {}) is None
