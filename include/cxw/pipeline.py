"""What the DAG tasks do, one function per task, each for an explicit window.

DAG files stay thin and call these; everything here is testable without a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cxw import connections, mart_validation, reports, warehouse
from cxw.errors import PermanentError
from cxw.lake import Window
from cxw.landing import (
    BatchRejected,
    FilesRejected,
    PendingBatch,
    groups,
    land_batch,
    land_together,
    typed_batch,
)
from cxw.settings import Settings
from cxw.sources import helpdesk, orders, surveys, web
from cxw.sources.location import Location
from cxw.state import SyncState

log = logging.getLogger(__name__)


def extract_orders(start: datetime, end: datetime, db_url: str | None = None) -> dict[str, int]:
    """Land every orders-database table's rows changed in ``[start, end)`` (a table's first
    window: its whole history up to ``end``). Sync state is saved after each landing."""
    settings = Settings.from_env()
    window = Window(start, end)
    state = SyncState(settings, "orders")
    engine = orders.connect(db_url or connections.orders_db_url())
    landed: dict[str, int] = {}
    try:
        for table in orders.TABLES.values():
            previous = state.get(table.name)
            full_history = orders.is_first_sync(previous, window.batch_id)
            rows = orders.extract_table(engine, table, window.start, window.end, full_history)
            land_batch(
                rows,
                source="orders",
                entity=table.name,
                columns=table.columns,
                window=window,
                origin=f"orders database table '{table.name}' ({table.cursor_column} in window)",
                settings=settings,
            )
            state.save(table.name, {
                "first_batch_id": (previous or {}).get("first_batch_id", window.batch_id),
                "last_batch_id": window.batch_id,
                "landed_until": max(end.isoformat(), (previous or {}).get("landed_until", "")),
                "rows": len(rows),
            })
            landed[table.name] = len(rows)
            log.info("orders.%s: landed %d rows for %s", table.name, len(rows), window.batch_id)
    finally:
        engine.dispose()
    return landed


def run_window(
    params: Mapping[str, Any], interval_start: datetime, interval_end: datetime
) -> tuple[datetime, datetime]:
    """The window an extract run lands: its data interval, unless the run was given
    ``window_start``/``window_end`` dates (a catch-up or backfill over many days in one
    run, as ``cxw run`` does)."""
    if not params.get("window_start") and not params.get("window_end"):
        return interval_start, interval_end
    if not (params.get("window_start") and params.get("window_end")):
        raise ValueError("give both window_start and window_end, or neither")
    start = datetime.combine(date.fromisoformat(params["window_start"]), time(), UTC)
    end = datetime.combine(date.fromisoformat(params["window_end"]), time(), UTC)
    if end <= start:
        raise ValueError(f"window_end {end.date()} must be after window_start {start.date()}")
    return start, end


def asset_extra(start: datetime, end: datetime) -> dict[str, str]:
    """What an extract run tells the transform DAG: the window it landed and its data
    date (the last day whose data it holds)."""
    return {
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "data_date": (end - timedelta(days=1)).date().isoformat(),
    }


def as_of_date(
    triggering_events: Mapping[Any, Iterable[Any]] | None, logical_date: datetime | None
) -> date:
    """The data date a transform run builds for: the latest data date of the extract
    runs that triggered it, else (a manual or test run) the last full day before its
    logical date, as for a daily run."""
    dates = [
        date.fromisoformat(event.extra["data_date"])
        for events in (triggering_events or {}).values()
        for event in events
        if (event.extra or {}).get("data_date")
    ]
    if dates:
        return max(dates)
    if logical_date is None:
        raise ValueError("a transform run needs a triggering extract run or a logical date")
    return (logical_date - timedelta(days=1)).date()


def build_warehouse(as_of: date) -> str:
    """``dbt build`` (models and their tests) as of the run's data date."""
    settings = Settings.from_env()
    warehouse.build(settings, as_of)
    return str(settings.warehouse_path)


def validate_marts() -> dict[str, bool]:
    """Validate the built marts with their GX suites; raise if any fails."""
    settings = Settings.from_env()
    reports = mart_validation.validate_marts(
        settings.warehouse_path, settings.reports_dir / "validation" / "marts"
    )
    return {table: report.success for table, report in reports.items()}


def publish() -> dict[str, int]:
    """Publish the validated warehouse for BI tools; return mart row counts."""
    settings = Settings.from_env()
    warehouse.publish(settings)
    return warehouse.mart_row_counts(settings.published_path)


def build_reports() -> dict[str, str]:
    """The CX dashboard from the published warehouse, the dbt docs as one static page, and
    the GX Data Docs of every validation kept so far (landing batches and marts), built
    once here rather than per validation (only new results are rendered)."""
    from cxw.validation import build_data_docs

    settings = Settings.from_env()
    return {
        "dashboard": str(reports.build_dashboard(settings.published_path, settings.reports_dir)),
        "dbt_docs": str(warehouse.build_docs(settings, settings.reports_dir)),
        "gx_data_docs": str(
            build_data_docs(settings.gx_results_dir, settings.gx_data_docs_dir)
        ),
    }


def extract_helpdesk(
    start: datetime, end: datetime, client: helpdesk.HelpdeskClient | None = None
) -> dict[str, int]:
    """Land every helpdesk entity for ``[start, end)``; the incremental ones are read from
    an overlap before ``start`` (see ``cxw.sources.helpdesk``). Each entity's sync state
    is saved only once its batch is landed, so a failure leaves the state at the last
    landed batch. ``client`` (closed at the end) defaults to one built from the
    ``helpdesk_api`` connection."""
    settings = Settings.from_env()
    window = Window(start, end)
    state = SyncState(settings, helpdesk.SOURCE)
    client = client or helpdesk.HelpdeskClient(connections.helpdesk_config())
    landed: dict[str, int] = {}
    with client:
        for entity in helpdesk.ENTITIES.values():
            name = entity.name
            previous = state.get(name)
            helpdesk.warn_on_gap(name, previous, window)
            batch = helpdesk.extract(client, entity, helpdesk.read_span(window, previous))
            land_batch(
                batch.rows,
                source=helpdesk.SOURCE,
                entity=name,
                columns=entity.columns,
                window=window,
                origin=f"{client.config.base_url} {entity.origin}, {batch.pages} page(s)",
                settings=settings,
            )
            state.save(name, helpdesk.landed_state(batch, window, datetime.now(UTC), previous))
            landed[name] = len(batch.rows)
            log.info("helpdesk.%s: landed %d rows for %s", name, len(batch.rows), window.batch_id)
    return landed


class MissingSetting(PermanentError, ValueError):
    """A setting the run needs is not set: retrying cannot help."""


def _required(value: str | None, setting: str) -> str:
    """A source-location setting's value; an empty environment variable counts as unset."""
    if not value:
        raise MissingSetting(
            f"setting {setting} is not set: point it at the folder or fsspec URL that "
            "holds the source's export files (see sources.md, configuration)"
        )
    return value


def extract_web(start: datetime, end: datetime) -> dict[str, int]:
    """Land the GA4 export of every day of ``[start, end)`` and of the two days before
    (Google rewrites a day for 72 hours); each export day replaces its own batch.

    Returns the events landed per file. A missing file for a day of the window raises
    ``FileNotFoundError`` before anything lands; bad files are reported together
    (``FilesRejected``) after the good ones have landed.
    """
    settings = Settings.from_env()
    location = Location(_required(settings.web_export_path, "CXW_WEB_EXPORT_PATH"))
    landed: dict[str, int] = {}
    failures: list[Exception] = []
    exports: dict[str, web.ExportFile] = {}

    def read() -> Iterator[PendingBatch]:
        for export in web.find_exports(location, Window(start, end)):
            try:
                table = web.read_export(export)
            except web.UnreadableExport as error:
                failures.append(error)
                continue
            exports[export.window.batch_id] = export
            frame = web.validation_frame(table, export)
            yield PendingBatch(table, frame, export.window, f"GA4 export file {export.path}")

    for group in groups(read()):
        results = land_together(group, source="web", entity="events", settings=settings)
        for batch, result in zip(group, results, strict=True):
            export = exports[batch.window.batch_id]
            if isinstance(result, BatchRejected):
                failures.append(result)
                continue
            landed[export.name] = batch.rows
            log.info("web.events: landed %d events from %s", batch.rows, export.path)
    if failures:
        raise FilesRejected("web.events", failures)
    return landed


def extract_surveys(start: datetime, end: datetime) -> dict[str, int]:
    """Land every survey export file not loaded yet, whatever its date: files are the
    unit (see ``cxw.sources.surveys``), so ``[start, end)`` only names the run.

    Returns the rows landed per file; a file is recorded as loaded (name and checksum)
    only after its batch has landed, so rerunning is a no-op and a failure is retried.
    """
    settings = Settings.from_env()
    location = Location(_required(settings.survey_drop_path, "CXW_SURVEY_DROP_PATH"))
    state = SyncState(settings, "surveys")
    loaded = dict(state.get(surveys.STATE_KEY, {}))
    landed: dict[str, int] = {}
    failures: list[Exception] = []
    exports: dict[str, surveys.SurveyExport] = {}

    def read() -> Iterator[PendingBatch]:
        for export in surveys.pending_exports(location, loaded):
            try:
                rows = surveys.read_responses(export)
            except surveys.UnreadableExport as error:
                failures.append(error)
                continue
            exports[export.window.batch_id] = export
            origin = f"survey export file {export.path}"
            yield typed_batch(rows, surveys.COLUMNS, export.window, origin)

    for group in groups(read()):
        results = land_together(group, source="surveys", entity="responses", settings=settings)
        for batch, result in zip(group, results, strict=True):
            export = exports[batch.window.batch_id]
            if isinstance(result, BatchRejected):
                failures.append(result)
                continue
            loaded[export.name] = surveys.state_entry(export, batch.rows)
            landed[export.name] = batch.rows
            log.info("surveys.responses: landed %d rows from %s", batch.rows, export.path)
        state.save(surveys.STATE_KEY, loaded)
    log.info("surveys: run for %s landed %d new file(s)", Window(start, end).batch_id, len(landed))
    if failures:
        raise FilesRejected("surveys.responses", failures)
    return landed
