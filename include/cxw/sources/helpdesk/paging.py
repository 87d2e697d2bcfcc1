"""Paging the helpdesk's endpoints: the cursor and time-based incremental exports and
the list endpoints, each read for a span of update times (see the package docstring)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cxw.lake import Window
from cxw.sources import HISTORY_START, is_first_window
from cxw.sources.helpdesk.client import HelpdeskClient, HelpdeskError, SyncBoundExceeded

log = logging.getLogger(__name__)

OVERLAP = timedelta(hours=1)
PROGRESS_EVERY_PAGES = 10

TICKETS_PATH = "/api/v2/incremental/tickets/cursor.json"
TICKET_EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
USERS_PATH = "/api/v2/incremental/users/cursor.json"
GROUPS_PATH = "/api/v2/groups.json"
SCHEDULES_PATH = "/api/v2/business_hours/schedules.json"
HOLIDAYS_PATH = "/api/v2/business_hours/schedules/{schedule_id}/holidays.json"
SLA_POLICIES_PATH = "/api/v2/slas/policies.json"


@dataclass
class Fetched:
    """The records of one read span, deduplicated by id, with the last cursor the API
    returned and the number of pages read. While pages are being read (``Pages``), the
    cursor and page count so far."""

    records: list[dict[str, Any]]
    cursor: str | int | None = None
    pages: int = 0


#: An endpoint read page by page: (client, read span, progress) -> each page's records
#: in the span. ``progress`` gets the pages read and the last cursor as they come, so
#: only one page is held at a time and the cursor is known once the last page is read.
Pages = Callable[[HelpdeskClient, Window, Fetched], Iterator[list[dict[str, Any]]]]


def read_start(window: Window) -> datetime:
    """Where a window's incremental read starts: the overlap before the window."""
    return window.start - OVERLAP


def read_span(window: Window, landed: Mapping[str, Any] | None) -> Window:
    """The span of update times an entity's run reads for ``window``.

    Normally ``[start - OVERLAP, end)``. The entity's first landed window (none landed
    yet, or a rerun of that first window) reads the whole history up to ``end``:
    records last changed before the first window (agents, old tickets) would otherwise
    never land.
    """
    first = is_first_window(landed, window)
    return Window(HISTORY_START if first else read_start(window), window.end)


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(value: Any) -> datetime | None:
    """A record's time from an ISO text or a unix number; None if absent or unparsable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _in_span(moment: datetime | None, span: Window) -> bool:
    # A record without a readable time is kept: validation must see it and say so.
    return moment is None or span.start <= moment < span.end


def _keep(kept: dict[Any, dict[str, Any]], record: dict[str, Any]) -> None:
    """Keep ``record`` by id; a repeat replaces the earlier copy (the later page is newer)."""
    key = record.get("id")
    if key is None or isinstance(key, dict | list):
        key = ("no usable id", len(kept))
    kept[key] = record


def _params(client: HelpdeskClient, **params: Any) -> dict[str, Any]:
    return {**params, "per_page": client.per_page} if client.per_page else params


def cursor_pages(
    client: HelpdeskClient,
    path: str,
    key: str,
    span: Window,
    sort_field: str,
    progress: Fetched,
) -> Iterator[list[dict[str, Any]]]:
    """Page a cursor-based incremental export (tickets, users): each page's records
    updated in ``span``, as read (repeats across pages included).

    Starts at ``start_time``, follows ``after_cursor`` until ``end_of_stream`` or until
    the page's last item (the export is sorted by ``sort_field``) passes the span's end.
    """
    params = _params(client, start_time=_unix(span.start))
    seen: set[str] = set()
    records = 0
    while True:
        body = client.get(path, params)
        progress.pages += 1
        items = body.get(key) or []
        kept = [item for item in items if _in_span(_moment(item.get("updated_at")), span)]
        records += len(kept)
        _progress(client, path, progress.pages, records)
        cursor = body.get("after_cursor")
        done = body.get("end_of_stream") or not cursor or _passed(items, sort_field, span.end)
        if not done and str(cursor) in seen:
            raise SyncBoundExceeded(
                f"helpdesk.{client.sync_name}: {path} returned an after_cursor it had returned "
                f"before (page {progress.pages}): the server loops, so the sync is ended"
            )
        seen.add(str(cursor))
        progress.cursor = cursor or progress.cursor
        yield kept
        if done:
            return
        params = _params(client, cursor=cursor)


def cursor_export(
    client: HelpdeskClient, path: str, key: str, span: Window, sort_field: str
) -> Fetched:
    """Every record of ``cursor_pages``, deduplicated by id (the later page wins)."""
    fetched = Fetched([])
    return collect(cursor_pages(client, path, key, span, sort_field, fetched), fetched)


def collect(pages: Iterable[list[dict[str, Any]]], fetched: Fetched) -> Fetched:
    """Read every page into ``fetched.records``, deduplicated by id: a repeat replaces
    the earlier copy (the later page is newer)."""
    kept: dict[Any, dict[str, Any]] = {}
    for page in pages:
        for record in page:
            _keep(kept, record)
    fetched.records = list(kept.values())
    return fetched


def _progress(client: HelpdeskClient, path: str, pages: int, records: int) -> None:
    """Log a long sync's progress: its first page and every ``PROGRESS_EVERY_PAGES``."""
    if pages == 1 or pages % PROGRESS_EVERY_PAGES == 0:
        log.info("helpdesk.%s: %s page %d read, %d records so far", client.sync_name, path,
                 pages, records)


def _passed(items: list[dict[str, Any]], sort_field: str, end: datetime) -> bool:
    if not items:
        return False
    last = items[-1]
    moment = _moment(last.get(sort_field, last.get("updated_at")))
    return moment is not None and moment >= end


def time_pages(
    client: HelpdeskClient, path: str, key: str, span: Window, progress: Fetched
) -> Iterator[list[dict[str, Any]]]:
    """Page a time-based incremental export (ticket events): each page's items whose
    time is in ``span``.

    Each page's ``end_time`` is the next page's ``start_time``; the page boundary's
    second is served again, so items repeat across pages (deduplicated by id by whoever
    keeps them: ``collect``, or the landing of a streamed batch).
    """
    start_time = _unix(span.start)
    end = _unix(span.end)
    records = 0
    while True:
        body = client.get(path, _params(client, start_time=start_time, include="comment_events"))
        progress.pages += 1
        kept = [
            item for item in body.get(key) or []
            if _in_span(_moment(item.get("timestamp", item.get("created_at"))), span)
        ]
        records += len(kept)
        _progress(client, path, progress.pages, records)
        end_time = body.get("end_time")
        progress.cursor = end_time if end_time is not None else progress.cursor
        done = body.get("end_of_stream") or end_time is None or int(end_time) >= end
        if not done and int(end_time) <= start_time:
            # Would ask for the same page forever; the real API moves on, so this is a bug.
            raise HelpdeskError(f"helpdesk API: {path} end_time did not move past {start_time}")
        yield kept
        if done:
            return
        start_time = int(end_time)


def time_export(client: HelpdeskClient, path: str, key: str, span: Window) -> Fetched:
    """Every item of ``time_pages``, deduplicated by id."""
    fetched = Fetched([])
    return collect(time_pages(client, path, key, span, fetched), fetched)


def list_pages(client: HelpdeskClient, path: str, key: str) -> Fetched:
    """Every item of a list endpoint, following ``next_page`` links while there are any."""
    kept: list[dict[str, Any]] = []
    url: str | None = path
    seen: set[str] = set()
    fetched = Fetched([])
    while url:
        if url in seen:
            raise HelpdeskError(f"helpdesk API: {path} links back to a page already read")
        seen.add(url)
        body = client.get(url, _params(client) if url == path else None)
        fetched.pages += 1
        kept.extend(body.get(key) or [])
        url = body.get("next_page")
    fetched.records = kept
    return fetched


# -- endpoints -------------------------------------------------------------------------


def ticket_pages(client: HelpdeskClient, span: Window, progress: Fetched
                 ) -> Iterator[list[dict[str, Any]]]:
    # The cursor export is ordered by generated_timestamp (>= updated_at): stop on it.
    return cursor_pages(client, TICKETS_PATH, "tickets", span, "generated_timestamp", progress)


def ticket_event_pages(client: HelpdeskClient, span: Window, progress: Fetched
                       ) -> Iterator[list[dict[str, Any]]]:
    return time_pages(client, TICKET_EVENTS_PATH, "ticket_events", span, progress)


def user_pages(client: HelpdeskClient, span: Window, progress: Fetched
               ) -> Iterator[list[dict[str, Any]]]:
    return cursor_pages(client, USERS_PATH, "users", span, "updated_at", progress)


def fetch_tickets(client: HelpdeskClient, span: Window) -> Fetched:
    fetched = Fetched([])
    return collect(ticket_pages(client, span, fetched), fetched)


def fetch_ticket_events(client: HelpdeskClient, span: Window) -> Fetched:
    fetched = Fetched([])
    return collect(ticket_event_pages(client, span, fetched), fetched)


def fetch_users(client: HelpdeskClient, span: Window) -> Fetched:
    fetched = Fetched([])
    return collect(user_pages(client, span, fetched), fetched)


def fetch_groups(client: HelpdeskClient, span: Window) -> Fetched:
    return list_pages(client, GROUPS_PATH, "groups")


def fetch_schedules(client: HelpdeskClient, span: Window) -> Fetched:
    return list_pages(client, SCHEDULES_PATH, "schedules")


def fetch_holidays(client: HelpdeskClient, span: Window) -> Fetched:
    """Every schedule's holidays, each tagged with its schedule's id as ``_schedule_id``."""
    schedules = fetch_schedules(client, span)
    fetched = Fetched([], pages=schedules.pages)
    for schedule in schedules.records:
        path = HOLIDAYS_PATH.format(schedule_id=schedule.get("id"))
        holidays = list_pages(client, path, "holidays")
        fetched.pages += holidays.pages
        fetched.records += [{"_schedule_id": schedule.get("id"), **h} for h in holidays.records]
    return fetched


def fetch_sla_policies(client: HelpdeskClient, span: Window) -> Fetched:
    return list_pages(client, SLA_POLICIES_PATH, "sla_policies")

