"""Helpdesk: the Zendesk Support API subset of sources.md §1, over HTTP.

What this module does: page each endpoint (incremental tickets, ticket events with
comments, incremental users, groups, business-hours schedules and their holidays, SLA
policies), keep the records of one load window, and flatten them into the raw entities
(``ENTITIES``), each row keeping the full record as JSON text in ``_record``. Where the
rows are landed and when the sync state moves is the caller's business
(``cxw.pipeline.extract_helpdesk``).

Windows
    A daily run lands the window ``[start, end)`` of its data interval. The incremental
    endpoints are read from ``start_time = start - OVERLAP`` and paged until
    ``end_of_stream`` or until the items (sorted by time) pass ``end``; the records kept
    are those with ``updated_at`` (ticket events: ``timestamp``) in
    ``[start - OVERLAP, end)``. The overlap catches what the API held back at the last
    run (it leaves out records changed in the last minute) and late commits; the staging
    models keep the latest version of each record, so the overlap's repeats are harmless.
    The batch id comes from the window, so rerunning a window replaces its batch: the
    same window read again from an unchanged helpdesk gives the same rows.
    An entity's first landed window reads the whole history up to its end instead
    (``read_span``), so records last changed before the sync began (agents, old
    tickets) land too; reruns of that window do the same, so they stay idempotent.
    The incremental ticket and user exports return each record's *current* state at its
    latest update. A ticket updated inside a window and again after it therefore shows
    up in the later window only (with its latest state), and a rerun of an old window no
    longer carries it; its history stays in the ticket events, which are immutable.
    Groups, schedules, holidays and SLA policies have no incremental endpoint: each run
    lands a full snapshot as of the load time, under the run's window.

State
    ``cxw.state.SyncState(settings, "helpdesk")`` holds one entry per entity, written only
    after that entity's batch is landed (``landed_state``): the window landed, its rows
    and pages, the last cursor the API returned (``after_cursor`` for the cursor exports,
    ``end_time`` for ticket events), the load time, the entity's first landed window and
    the latest window end landed so far. The entities are landed one after the other, so
    after a failure the state shows which ones landed for the window and where each
    stands; it never claims a window whose batch is not in the lake.
    The state decides only whether a window is the entity's first (full history); it
    does not move the read start. A run reads its own window, so the retry of a failed
    run restarts from the last landed window: it lands the entities that had not been
    landed and replaces the ones that had with an equal batch. A gap (the latest landed
    window ends before this run's read starts) is logged as a warning: those windows
    must be run (backfilled) too, or their changes are missing.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import requests
from requests.auth import HTTPBasicAuth

from cxw.errors import PermanentError
from cxw.lake import Window

log = logging.getLogger(__name__)

SOURCE = "helpdesk"
OVERLAP = timedelta(hours=1)
# (connect, read) seconds: connecting is quick or broken; a big export page takes a while.
TIMEOUT = (10.0, 60.0)
MAX_ATTEMPTS = 6  # per request, for 5xx and network failures
MAX_RATE_LIMIT_WAITS = 20  # per request, for 429s
BACKOFF_SECONDS = 1.0  # first retry delay; doubles per attempt
BACKOFF_CAP_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 600.0  # never sleep longer than this on one 429
# Bounds of one entity's sync (settings CXW_HELPDESK_MAX_PAGES and
# CXW_HELPDESK_SYNC_DEADLINE_SECONDS override them): a server that loops or stops
# answering ends the sync with an error instead of holding the task forever.
MAX_PAGES = 10_000
SYNC_DEADLINE_SECONDS = 1800.0
PROGRESS_EVERY_PAGES = 10

TICKETS_PATH = "/api/v2/incremental/tickets/cursor.json"
TICKET_EVENTS_PATH = "/api/v2/incremental/ticket_events.json"
USERS_PATH = "/api/v2/incremental/users/cursor.json"
GROUPS_PATH = "/api/v2/groups.json"
SCHEDULES_PATH = "/api/v2/business_hours/schedules.json"
HOLIDAYS_PATH = "/api/v2/business_hours/schedules/{schedule_id}/holidays.json"
SLA_POLICIES_PATH = "/api/v2/slas/policies.json"
FULL_HISTORY_START = datetime(1970, 1, 1, tzinfo=UTC)


# -- configuration and errors ----------------------------------------------------------


@dataclass(frozen=True)
class HelpdeskConfig:
    """Where the helpdesk is and who we are there. ``token`` is kept out of ``repr``."""

    base_url: str
    email: str
    token: str = field(repr=False)
    order_field_id: int | None = None


class HelpdeskError(RuntimeError):
    """The helpdesk API answered with an error, or could not be reached after retries."""


class HelpdeskAuthError(HelpdeskError, PermanentError):
    """The helpdesk rejected the credentials (HTTP 401/403): retrying cannot help."""


class SyncBoundExceeded(HelpdeskError):
    """A sync read past its page count or deadline, or the server sent a cursor it had
    sent before (a loop): it is ended rather than left to run forever."""


# -- HTTP client -----------------------------------------------------------------------


class HelpdeskClient:
    """GET JSON from the helpdesk with timeouts, bounded retries and rate-limit waits.

    Retries with exponential backoff on 5xx, timeouts and connection errors; on 429
    waits ``Retry-After`` seconds. Credentials travel only in the session's basic-auth
    header, never in URLs, so no error message or log line can carry them.
    """

    def __init__(
        self,
        config: HelpdeskConfig,
        *,
        timeout: tuple[float, float] = TIMEOUT,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_seconds: float = BACKOFF_SECONDS,
        per_page: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_pages: int = MAX_PAGES,
        sync_deadline_seconds: float = SYNC_DEADLINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.max_pages = max_pages
        self.sync_deadline_seconds = sync_deadline_seconds
        self.clock = clock
        self.begin_sync("helpdesk")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.per_page = per_page
        self.sleep = sleep
        self.requests_made = 0
        self._origin = _origin(config.base_url)
        self.session = requests.Session()
        self.session.auth = HTTPBasicAuth(f"{config.email}/token", config.token)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "cxw-extract"})

    def __enter__(self) -> HelpdeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def begin_sync(self, name: str) -> None:
        """Start the bounds of one sync (an entity): its page count and its deadline."""
        self.sync_name = name
        self.sync_pages = 0
        self._sync_started = self.clock()

    def _remaining(self, where: str, last: str | None = None) -> float:
        """Seconds left before the sync's deadline; raises once it has passed."""
        elapsed = self.clock() - self._sync_started
        remaining = self.sync_deadline_seconds - elapsed
        if remaining <= 0:
            raise SyncBoundExceeded(
                f"helpdesk.{self.sync_name}: sync stopped after {elapsed:.0f} s, past its "
                f"deadline of {self.sync_deadline_seconds:g} s "
                f"(CXW_HELPDESK_SYNC_DEADLINE_SECONDS), {self.sync_pages} page(s) read"
                + (f"; last on {where}: {last}" if last else "")
            )
        return remaining

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the helpdesk's origin; refuses other hosts because the
        session would send them the credentials."""
        if "://" not in path_or_url:
            return self.config.base_url.rstrip("/") + path_or_url
        if _origin(path_or_url) != self._origin:
            raise HelpdeskError(
                f"refusing to follow a link to {_origin(path_or_url)}: not the helpdesk "
                f"({self._origin}), and the request would carry the credentials"
            )
        return path_or_url

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET one page and return its JSON body, retrying what is worth retrying."""
        url = self.url(path_or_url)
        where = urlsplit(url).path
        failures = rate_limited = 0
        last: str | None = None
        while True:
            remaining = self._remaining(where, last)
            if self.sync_pages >= self.max_pages:
                raise SyncBoundExceeded(
                    f"helpdesk.{self.sync_name}: read {self.sync_pages} pages without reaching "
                    f"the end of the stream (CXW_HELPDESK_MAX_PAGES={self.max_pages})"
                )
            self.requests_made += 1
            # No request may outlive the sync's deadline.
            timeout = (min(self.timeout[0], remaining), min(self.timeout[1], remaining))
            try:
                response = self.session.get(url, params=params, timeout=timeout)
            except (requests.Timeout, requests.ConnectionError) as error:
                failures += 1
                last = f"{type(error).__name__}: {error}"
                self._retry_or_raise(where, failures, last)
                continue
            status = response.status_code
            if status == 429:
                rate_limited += 1
                self._wait_for_rate_limit(where, response, rate_limited)
                continue
            if status >= 500:
                failures += 1
                self._retry_or_raise(where, failures, f"HTTP {status}: {_excerpt(response)}")
                continue
            if status in (401, 403):
                raise HelpdeskAuthError(
                    f"helpdesk API at {self._origin} rejected the credentials of "
                    f"{self.config.email!r} (HTTP {status} on {where}): check the login and "
                    f"API token of the helpdesk_api connection"
                )
            if status >= 400:
                raise HelpdeskError(f"helpdesk API: HTTP {status} on {where}: {_excerpt(response)}")
            try:
                body = response.json()
            except ValueError as error:
                raise HelpdeskError(f"helpdesk API: {where} did not return JSON") from error
            self.sync_pages += 1
            return body

    def _retry_or_raise(self, where: str, failures: int, what: str) -> None:
        if failures >= self.max_attempts:
            raise HelpdeskError(f"helpdesk API: {where} failed {failures} times; last: {what}")
        # Full exponential backoff with a little jitter, so parallel workers do not retry
        # in lockstep against a struggling server.
        delay = min(BACKOFF_CAP_SECONDS, self.backoff_seconds * 2 ** (failures - 1))
        delay *= 1 + random.random() * 0.1  # noqa: S311 - jitter, not cryptography
        log.warning("helpdesk: %s on %s; retry %d in %.1f s", what, where, failures, delay)
        self.sleep(min(delay, self._remaining(where, what)))

    def _wait_for_rate_limit(self, where: str, response: requests.Response, count: int) -> None:
        if count > MAX_RATE_LIMIT_WAITS:
            raise HelpdeskError(f"helpdesk API: {where} still rate-limited after {count - 1} waits")
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds is None:
            seconds = min(BACKOFF_CAP_SECONDS, self.backoff_seconds * 2 ** (count - 1))
        log.warning("helpdesk: rate-limited on %s; waiting %.1f s (Retry-After)", where, seconds)
        self.sleep(min(seconds, self._remaining(where, "HTTP 429")))


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        seconds = (moment - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _excerpt(response: requests.Response, limit: int = 200) -> str:
    return " ".join(response.text.split())[:limit]


# -- paging ----------------------------------------------------------------------------


@dataclass
class Fetched:
    """The records of one read span, deduplicated by id, with the last cursor the API
    returned and the number of pages read."""

    records: list[dict[str, Any]]
    cursor: str | int | None = None
    pages: int = 0


def read_start(window: Window) -> datetime:
    """Where a window's incremental read starts: the overlap before the window."""
    return window.start - OVERLAP


def read_span(window: Window, landed: dict[str, Any] | None) -> Window:
    """The span of update times an entity's run reads for ``window``.

    Normally ``[start - OVERLAP, end)``. The entity's first landed window (none landed
    yet, or a rerun of that first window) reads the whole history up to ``end``:
    records last changed before the first window (agents, old tickets) would otherwise
    never land.
    """
    first = not landed or landed.get("first_batch_id") == window.batch_id
    return Window(FULL_HISTORY_START if first else read_start(window), window.end)


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


def cursor_export(
    client: HelpdeskClient, path: str, key: str, span: Window, sort_field: str
) -> Fetched:
    """Page a cursor-based incremental export (tickets, users): records updated in ``span``.

    Starts at ``start_time``, follows ``after_cursor`` until ``end_of_stream`` or until
    the page's last item (the export is sorted by ``sort_field``) passes the span's end.
    """
    kept: dict[Any, dict[str, Any]] = {}
    params = _params(client, start_time=_unix(span.start))
    fetched = Fetched([])
    seen: set[str] = set()
    while True:
        body = client.get(path, params)
        fetched.pages += 1
        items = body.get(key) or []
        for item in items:
            if _in_span(_moment(item.get("updated_at")), span):
                _keep(kept, item)
        _progress(client, path, fetched.pages, len(kept))
        cursor = body.get("after_cursor")
        if body.get("end_of_stream") or not cursor or _passed(items, sort_field, span.end):
            fetched.cursor = cursor or fetched.cursor
            break
        if str(cursor) in seen:
            raise SyncBoundExceeded(
                f"helpdesk.{client.sync_name}: {path} returned an after_cursor it had returned "
                f"before (page {fetched.pages}): the server loops, so the sync is ended"
            )
        seen.add(str(cursor))
        fetched.cursor = cursor
        params = _params(client, cursor=cursor)
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


def time_export(client: HelpdeskClient, path: str, key: str, span: Window) -> Fetched:
    """Page a time-based incremental export (ticket events): items whose time is in ``span``.

    Each page's ``end_time`` is the next page's ``start_time``; the page boundary's
    second is served again, so items repeat across pages and are deduplicated by id.
    """
    kept: dict[Any, dict[str, Any]] = {}
    start_time = _unix(span.start)
    end = _unix(span.end)
    fetched = Fetched([])
    while True:
        body = client.get(path, _params(client, start_time=start_time, include="comment_events"))
        fetched.pages += 1
        for item in body.get(key) or []:
            if _in_span(_moment(item.get("timestamp", item.get("created_at"))), span):
                _keep(kept, item)
        _progress(client, path, fetched.pages, len(kept))
        end_time = body.get("end_time")
        fetched.cursor = end_time if end_time is not None else fetched.cursor
        if body.get("end_of_stream") or end_time is None or int(end_time) >= end:
            break
        if int(end_time) <= start_time:
            # Would ask for the same page forever; the real API moves on, so this is a bug.
            raise HelpdeskError(f"helpdesk API: {path} end_time did not move past {start_time}")
        start_time = int(end_time)
    fetched.records = list(kept.values())
    return fetched


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


def fetch_tickets(client: HelpdeskClient, span: Window) -> Fetched:
    # The cursor export is ordered by generated_timestamp (>= updated_at): stop on it.
    return cursor_export(client, TICKETS_PATH, "tickets", span, "generated_timestamp")


def fetch_ticket_events(client: HelpdeskClient, span: Window) -> Fetched:
    return time_export(client, TICKET_EVENTS_PATH, "ticket_events", span)


def fetch_users(client: HelpdeskClient, span: Window) -> Fetched:
    return cursor_export(client, USERS_PATH, "users", span, "updated_at")


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


# -- flattening ------------------------------------------------------------------------


def record_json(record: Any) -> str:
    """The record as sent, as JSON text (key order kept, so equal input gives equal text)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value: Any) -> str | None:
    """A field value as text: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def custom_field_value(ticket: dict[str, Any], field_id: int | None) -> str | None:
    """The value of the ticket's custom field ``field_id`` as text (None if absent)."""
    if field_id is None:
        return None
    for custom in ticket.get("custom_fields") or []:
        if str(_dict(custom).get("id")) == str(field_id):
            return _text(custom.get("value"))
    return None


def ticket_row(ticket: dict[str, Any], order_field_id: int | None) -> dict[str, Any]:
    rating = _dict(ticket.get("satisfaction_rating"))
    return {
        "id": ticket.get("id"),
        "created_at": ticket.get("created_at"),
        "updated_at": ticket.get("updated_at"),
        "status": ticket.get("status"),
        "priority": ticket.get("priority"),
        "requester_id": ticket.get("requester_id"),
        "submitter_id": ticket.get("submitter_id"),
        "assignee_id": ticket.get("assignee_id"),
        "group_id": ticket.get("group_id"),
        "channel": _dict(ticket.get("via")).get("channel"),
        "subject": ticket.get("subject"),
        "tags": _text(ticket.get("tags")),
        "order_id_field": custom_field_value(ticket, order_field_id),
        "satisfaction_score": rating.get("score"),
        "satisfaction_comment": rating.get("comment"),
        "_record": record_json(ticket),
    }


def _audit_time(audit: dict[str, Any]) -> Any:
    if audit.get("created_at") is not None:
        return audit["created_at"]
    moment = _moment(audit.get("timestamp"))
    return moment.isoformat() if moment else audit.get("timestamp")


def child_columns(child: dict[str, Any]) -> dict[str, Any]:
    """One child event's columns. A satisfaction rating carries its score in ``value``
    and its comment in ``body``, so ratings read like the other events."""
    rating = child.get("event_type") == "SatisfactionRating"
    return {
        "child_id": child.get("id"),
        "child_type": child.get("event_type"),
        "field_name": child.get("field_name"),
        "value": _text(child.get("score") if rating else child.get("value")),
        "previous_value": _text(child.get("previous_value")),
        "is_public": child.get("public"),
        "author_id": child.get("author_id"),
        "body": child.get("comment") if rating else child.get("body"),
    }


NO_CHILD = dict.fromkeys(child_columns({}))


def ticket_event_rows(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per child event of an audit (one empty-child row if it has none, so the
    audit is not lost)."""
    audit_columns = {
        "audit_id": audit.get("id"),
        "ticket_id": audit.get("ticket_id"),
        "created_at": _audit_time(audit),
        "updater_id": audit.get("updater_id"),
        "via_channel": _dict(audit.get("via")).get("channel"),
    }
    record = record_json(audit)
    children = [_dict(child) for child in audit.get("child_events") or []]
    return [
        {**audit_columns, **child_columns(child), "_record": record} for child in children
    ] or [{**audit_columns, **NO_CHILD, "_record": record}]


def user_row(user: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: user.get(name) for name in ("id", "name", "email", "role")},
        "created_at": user.get("created_at"),
        "updated_at": user.get("updated_at"),
        "_record": record_json(user),
    }


def group_row(group: dict[str, Any]) -> dict[str, Any]:
    return {"id": group.get("id"), "name": group.get("name"), "_record": record_json(group)}


def schedule_interval_rows(schedule: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per weekly interval (minutes from Sunday 00:00 in the schedule's zone)."""
    columns = {
        "schedule_id": schedule.get("id"),
        "schedule_name": schedule.get("name"),
        "time_zone": schedule.get("time_zone"),
    }
    record = record_json(schedule)
    intervals = [_dict(interval) for interval in schedule.get("intervals") or []]
    return [
        {**columns, "start_time": i.get("start_time"), "end_time": i.get("end_time"),
         "_record": record}
        for i in intervals
    ] or [{**columns, "start_time": None, "end_time": None, "_record": record}]


def holiday_row(holiday: dict[str, Any]) -> dict[str, Any]:
    sent = {key: value for key, value in holiday.items() if key != "_schedule_id"}
    return {
        "schedule_id": holiday.get("_schedule_id"),
        "holiday_id": holiday.get("id"),
        "name": holiday.get("name"),
        "start_date": holiday.get("start_date"),
        "end_date": holiday.get("end_date"),
        "_record": record_json(sent),
    }


def sla_policy_metric_rows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (priority, metric) target of a policy."""
    columns = {"policy_id": policy.get("id"), "title": policy.get("title")}
    record = record_json(policy)
    return [
        {
            **columns,
            **{name: _dict(m).get(name) for name in ("priority", "metric", "target")},
            "business_hours": _dict(m).get("business_hours"),
            "_record": record,
        }
        for m in policy.get("policy_metrics") or []
    ]


# -- entities --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """A raw helpdesk entity: its contract columns (kinds as in ``cxw.schema``), how to
    fetch its records, how to flatten one record into rows, and its row order."""

    name: str
    columns: dict[str, str]
    fetch: Callable[[HelpdeskClient, Window], Fetched]  # (client, read span)
    rows: Callable[[dict[str, Any], HelpdeskConfig], list[dict[str, Any]]]
    key: tuple[str, ...]
    origin: str

    def frame(self, records: Iterable[dict[str, Any]], config: HelpdeskConfig) -> pd.DataFrame:
        """Flatten ``records`` into the entity's rows, deduplicated by key and sorted, so
        the same records give the same batch however the pages fell."""
        rows: dict[Any, dict[str, Any]] = {}
        for record in records:
            for row in self.rows(_dict(record), config):
                key = tuple(_sort_key(row.get(column)) for column in self.key)
                if any(part[0] == 2 for part in key):  # no key: keep every such row
                    key = (*key, ("row", len(rows)))
                rows[key] = row
        ordered = [rows[key] for key in sorted(rows)]
        # object dtype: ids stay Python ints until cxw.schema types them.
        return pd.DataFrame(ordered, columns=[*self.columns], dtype=object)


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (0, value)
    if value is None:
        return (2, "")
    return (1, str(value))


RowMaker = Callable[[dict[str, Any], HelpdeskConfig], list[dict[str, Any]]]


def _each(make_row: Callable[[dict[str, Any]], dict[str, Any]]) -> RowMaker:
    """A row maker for entities with one row per record."""
    return lambda record, config: [make_row(record)]


ID_TIMESTAMPS = {"created_at": "timestamp", "updated_at": "timestamp"}

ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in (
        Entity(
            "tickets",
            {
                "id": "int",
                **ID_TIMESTAMPS,
                "status": "str",
                "priority": "str",
                "requester_id": "int",
                "submitter_id": "int",
                "assignee_id": "int",
                "group_id": "int",
                "channel": "str",
                "subject": "str",
                "tags": "str",
                "order_id_field": "str",
                "satisfaction_score": "str",
                "satisfaction_comment": "str",
                "_record": "str",
            },
            fetch_tickets,
            lambda ticket, config: [ticket_row(ticket, config.order_field_id)],
            ("id",),
            f"GET {TICKETS_PATH} (updated_at in window)",
        ),
        Entity(
            "ticket_events",
            {
                "audit_id": "int",
                "ticket_id": "int",
                "created_at": "timestamp",
                "updater_id": "int",
                "via_channel": "str",
                "child_id": "int",
                "child_type": "str",
                "field_name": "str",
                "value": "str",
                "previous_value": "str",
                "is_public": "bool",
                "author_id": "int",
                "body": "str",
                "_record": "str",
            },
            fetch_ticket_events,
            lambda audit, config: ticket_event_rows(audit),
            ("child_id",),
            f"GET {TICKET_EVENTS_PATH}?include=comment_events (timestamp in window)",
        ),
        Entity(
            "users",
            {
                "id": "int",
                "name": "str",
                "email": "str",
                "role": "str",
                **ID_TIMESTAMPS,
                "_record": "str",
            },
            fetch_users,
            _each(user_row),
            ("id",),
            f"GET {USERS_PATH} (updated_at in window)",
        ),
        Entity(
            "groups",
            {"id": "int", "name": "str", "_record": "str"},
            fetch_groups,
            _each(group_row),
            ("id",),
            f"GET {GROUPS_PATH} (snapshot)",
        ),
        Entity(
            "schedule_intervals",
            {
                "schedule_id": "int",
                "schedule_name": "str",
                "time_zone": "str",
                "start_time": "int",
                "end_time": "int",
                "_record": "str",
            },
            fetch_schedules,
            lambda schedule, config: schedule_interval_rows(schedule),
            ("schedule_id", "start_time"),
            f"GET {SCHEDULES_PATH} (snapshot)",
        ),
        Entity(
            "holidays",
            {
                "schedule_id": "int",
                "holiday_id": "int",
                "name": "str",
                "start_date": "date",
                "end_date": "date",
                "_record": "str",
            },
            fetch_holidays,
            _each(holiday_row),
            ("schedule_id", "start_date", "name"),
            f"GET {HOLIDAYS_PATH} for every schedule (snapshot)",
        ),
        Entity(
            "sla_policy_metrics",
            {
                "policy_id": "int",
                "title": "str",
                "priority": "str",
                "metric": "str",
                "target": "int",
                "business_hours": "bool",
                "_record": "str",
            },
            fetch_sla_policies,
            lambda policy, config: sla_policy_metric_rows(policy),
            ("policy_id", "priority", "metric"),
            f"GET {SLA_POLICIES_PATH} (snapshot)",
        ),
    )
}


@dataclass
class EntityBatch:
    """One entity's rows for a window, ready to land, and where they came from."""

    entity: Entity
    rows: pd.DataFrame
    cursor: str | int | None
    pages: int


def extract(client: HelpdeskClient, entity: Entity, span: Window) -> EntityBatch:
    """Fetch and flatten one entity's records updated in ``span`` (see ``read_span``;
    the snapshot entities ignore it). The sync's bounds (pages, deadline) start here."""
    client.begin_sync(entity.name)
    fetched = entity.fetch(client, span)
    rows = entity.frame(fetched.records, client.config)
    return EntityBatch(entity, rows, fetched.cursor, fetched.pages)


# -- sync state ------------------------------------------------------------------------


def landed_state(
    batch: EntityBatch, window: Window, loaded_at: datetime, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """What the sync state records for an entity once its batch is landed; the first
    landed window is remembered, as its reruns read the whole history (``read_span``)."""
    return {
        "first_batch_id": (previous or {}).get("first_batch_id", window.batch_id),
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "batch_id": window.batch_id,
        "rows": len(batch.rows),
        "pages": batch.pages,
        "cursor": batch.cursor,
        "landed_at": loaded_at.isoformat(),
        "landed_until": _landed_until(previous, window),
    }


def _landed_until(previous: dict[str, Any] | None, window: Window) -> str:
    """The latest window end landed so far (a backfill of an old window does not move
    it back)."""
    earlier = (previous or {}).get("landed_until")
    if earlier and datetime.fromisoformat(earlier) > window.end:
        return earlier
    return window.end.isoformat()


def warn_on_gap(entity: str, previous: dict[str, Any] | None, window: Window) -> None:
    """Log when the last landed window of ``entity`` ends before this read starts: the
    windows in between were never landed and need their own runs."""
    if not previous or not previous.get("landed_until"):
        return
    landed_end = datetime.fromisoformat(previous["landed_until"])
    if landed_end < read_start(window):
        log.warning(
            "helpdesk.%s: the last landed window ended at %s but this run reads from %s; "
            "run the windows in between (backfill) or their changes are missing",
            entity,
            landed_end.isoformat(),
            read_start(window).isoformat(),
        )
