"""What the DAG tasks do, one function per task, each for an explicit window.

DAG files stay thin and call these; everything here is testable without a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from cxw import connections, warehouse
from cxw.lake import Window
from cxw.landing import land_batch
from cxw.settings import Settings
from cxw.sources import orders

log = logging.getLogger(__name__)


def extract_orders(start: datetime, end: datetime, db_url: str | None = None) -> dict[str, int]:
    """Land every orders-database table's rows changed in ``[start, end)``."""
    settings = Settings.from_env()
    window = Window(start, end)
    engine = orders.connect(db_url or connections.orders_db_url())
    landed: dict[str, int] = {}
    try:
        for table in orders.TABLES.values():
            rows = orders.extract_table(engine, table, window.start, window.end)
            land_batch(
                rows,
                source="orders",
                entity=table.name,
                columns=table.columns,
                window=window,
                origin=f"orders database table '{table.name}' ({table.cursor_column} in window)",
                settings=settings,
            )
            landed[table.name] = len(rows)
            log.info("orders.%s: landed %d rows for %s", table.name, len(rows), window.batch_id)
    finally:
        engine.dispose()
    return landed


def asset_extra(start: datetime, end: datetime) -> dict[str, str]:
    """What an extract run tells the transform DAG: the window it landed and its data
    date (the day whose data it is, the window's start)."""
    return {
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "data_date": start.date().isoformat(),
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


def build_and_publish(as_of: date) -> dict[str, int]:
    """Build the warehouse with dbt, then publish it for BI tools; return mart row counts."""
    settings = Settings.from_env()
    warehouse.build(settings, as_of)
    warehouse.publish(settings)
    return warehouse.mart_row_counts(settings.published_path)
