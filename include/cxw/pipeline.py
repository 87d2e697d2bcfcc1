"""What the DAG tasks do, one function per task, each for an explicit window.

DAG files stay thin and call these; everything here is testable without a scheduler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cxw import connections, mart_validation, reports, warehouse
from cxw.errors import PermanentError
from cxw.lake import Window, latest_data_date
from cxw.landing import BatchRejected, FilesRejected, land_batches
from cxw.ledger import last_runs, one_line
from cxw.settings import Settings
from cxw.sources import helpdesk, orders, surveys, web
from cxw.sources.location import Location

log = logging.getLogger(__name__)


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


class DataRejected(PermanentError):
    """Some of a run's files or batches were rejected (recorded in the ledger, the rest
    landed): the run ends red with this one-line summary, without retries (the same
    data would fail the same way)."""


def land_source(source: str, start: datetime, end: datetime) -> dict[str, Any]:
    """What an extract DAG's landing task does: land ``source`` for ``[start, end)``.
    Rejected files or batches do not fail it (the good data landed, and the transform
    must hear of it through the asset event): they come back as a one-line summary in
    ``rejected``, for ``fail_on_rejections`` to end the run red. Anything else (a bad
    connection, a late export, an unreachable server) raises as usual."""
    land = {
        "helpdesk": land_helpdesk,
        "web": land_web,
        "orders": land_orders,
        "surveys": land_surveys,
    }[source]
    try:
        return {"landed": land(start, end), "rejected": None}
    except (BatchRejected, FilesRejected) as error:
        failures = error.failures if isinstance(error, FilesRejected) else [error]
        record = last_runs(Settings.from_env()).get(source) or {}
        summary = f"{source}: {len(failures)} rejected (the rest landed): " + " | ".join(
            one_line(failure) for failure in failures
        )
        log.error("%s", summary)
        return {"landed": record.get("landed", {}), "rejected": summary}


def fail_on_rejections(result: Mapping[str, Any]) -> None:
    """End an extract run red, with the one-line summary, if its landing rejected data."""
    if result.get("rejected"):
        raise DataRejected(result["rejected"])


def web_export_ready(start: datetime, end: datetime, now: datetime | None = None) -> bool:
    """Whether the web run for ``[start, end)`` should land now: the latest day's export
    is there, or its deadline (``CXW_WEB_LATE_DEADLINE_HOURS``) has passed and the day
    counts as one without traffic. What the web DAG's sensor pokes."""
    settings = Settings.from_env()
    location = Location(_required(settings.web_export_path, "CXW_WEB_EXPORT_PATH"))
    window = Window(start, end)
    latest = web.latest_day(window)
    if latest not in web.scan_exports(location, window).missing:
        return True
    late = web.is_late(latest, now or datetime.now(UTC), settings.web_late_deadline_hours)
    log.info("web: export for %s %s", latest, "not there yet" if late else "past its deadline")
    return not late


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


def latest_landed_date(settings: Settings, today: date | None = None) -> date | None:
    """The last day whose data the lake holds (any source), never after ``today``."""
    latest = latest_data_date(settings.lake_dir)
    if latest is None:
        return None
    return min(latest, today or datetime.now(UTC).date())


def build_warehouse(as_of: date) -> str:
    """``dbt build`` (models and their tests) as of the run's data date, or as of the
    latest landed data if the lake holds later days: a rerun or backfill of an older
    range rebuilds the warehouse over everything landed, so it must measure tenure and
    recency as of the newest data, exactly as the run that landed it did."""
    settings = Settings.from_env()
    latest = latest_landed_date(settings)
    if latest is not None and latest > as_of:
        log.info("building as of %s, the latest landed data (the run asked for %s)",
                 latest, as_of)
        as_of = latest
    warehouse.build(settings, as_of)
    return str(settings.warehouse_path)


def validate_marts() -> dict[str, bool]:
    """Validate the built marts that changed since their last passing validation with
    their GX suites (``cxw.mart_validation``); raise if any fails. Returns each validated
    mart's verdict."""
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


def check_source_freshness() -> dict[str, str]:
    """How recently each landed source was loaded (dbt source freshness), kept next to the
    dashboard, which lists the stale ones. Stale sources are logged as warnings; they do
    not fail the run (the marts are already published)."""
    settings = Settings.from_env()
    checked = warehouse.source_freshness(settings)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "source-freshness.json").write_text(json.dumps(checked, indent=1))
    for entry in checked:
        if entry["status"] != "pass":
            log.warning(
                "source %s is stale (%s): latest load %s",
                entry["source"], entry["status"], entry["max_loaded_at"],
            )
    return {entry["source"]: entry["status"] for entry in checked}


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


def land_helpdesk(
    start: datetime, end: datetime, client: helpdesk.HelpdeskClient | None = None
) -> dict[str, int]:
    """Land every helpdesk entity for ``[start, end)``; the incremental ones are read from
    an overlap before ``start`` (see ``cxw.sources.helpdesk``). ``client`` (closed at the
    end) defaults to one built from the ``helpdesk_api`` connection."""
    settings = Settings.from_env()
    client = client or helpdesk.HelpdeskClient(
        connections.helpdesk_config(),
        timeout=(helpdesk.TIMEOUT[0], settings.helpdesk_request_timeout_seconds),
        max_pages=settings.helpdesk_max_pages,
        sync_deadline_seconds=settings.helpdesk_sync_deadline_seconds,
    )
    window = Window(start, end)
    with client:
        return land_batches(
            helpdesk.SOURCE,
            window,
            lambda run: helpdesk.batches(
                client, window, run.previous, chunk_records=settings.helpdesk_chunk_records
            ),
            settings=settings,
        )


def land_orders(start: datetime, end: datetime, db_url: str | None = None) -> dict[str, int]:
    """Land every orders-database table's rows changed in ``[start, end)`` (a table's first
    window: its whole history up to ``end``). A table or column missing from the database
    is a ``SourceTableMissing`` naming it."""
    settings = Settings.from_env()
    window = Window(start, end)
    engine = orders.connect(db_url or connections.orders_db_url())
    try:
        return land_batches(
            orders.SOURCE,
            window,
            lambda run: orders.batches(
                engine, window, run.previous, chunk_rows=settings.orders_chunk_rows
            ),
            settings=settings,
        )
    finally:
        engine.dispose()


def land_web(start: datetime, end: datetime, now: datetime | None = None) -> dict[str, int]:
    """Land the GA4 export of every day of ``[start, end)`` and of the two days before
    (Google rewrites a day for 72 hours); each export day replaces its own batch.

    Returns the events landed per file. The days that exist land; a missing day is a day
    without traffic (warned), except the window's latest day while it may still come
    (``CXW_WEB_LATE_DEADLINE_HOURS`` after its end, measured from ``now``): then
    ``web.ExportLate`` is raised once the other days have landed, so the run is retried.
    Two exports of one day reject that day only. Bad or unreadable files are recorded in
    the rejected-file ledger (skipped while unchanged) and reported together
    (``FilesRejected``) after the good ones have landed.
    """
    settings = Settings.from_env()
    location = Location(_required(settings.web_export_path, "CXW_WEB_EXPORT_PATH"))
    window = Window(start, end)
    latest = web.latest_day(window)
    late = latest in web.scan_exports(location, window).missing and web.is_late(
        latest, now or datetime.now(UTC), settings.web_late_deadline_hours
    )
    landed = land_batches(
        web.SOURCE,
        window,
        lambda run: web.batches(
            location, window, late=late, warn=run.warn, chunk_events=settings.web_chunk_events
        ),
        settings=settings,
        files=True,
    )
    if late:
        raise web.ExportLate(
            f"web.events: the GA4 export for {latest} is not in {location.url} yet; the "
            f"other days landed, retrying until {settings.web_late_deadline_hours:g} h "
            "after the day (then it counts as a day without traffic)"
        )
    return landed


def land_surveys(start: datetime, end: datetime) -> dict[str, int]:
    """Land every survey export file not loaded yet, whatever its date: files are the
    unit (see ``cxw.sources.surveys``), so ``[start, end)`` only names the run.

    Returns the rows landed per file; a file is recorded as loaded (name and checksum)
    only after its batch has landed, so rerunning is a no-op and a failure is retried.
    A rejected or unreadable file is recorded in the rejected-file ledger (checksum and
    reason; an unreadable one is also quarantined with its bytes) and skipped with a
    warning by later runs until its content changes. Misnamed look-alike exports are
    warned about. The run's record (``cxw.ledger.RunRecord``) feeds the run summary.
    """
    settings = Settings.from_env()
    location = Location(_required(settings.survey_drop_path, "CXW_SURVEY_DROP_PATH"))
    return land_batches(
        surveys.SOURCE,
        Window(start, end),
        lambda run: surveys.batches(location, run.previous, run.warn),
        settings=settings,
        files=True,
    )
