"""Helpdesk: the Zendesk Support API subset of sources.md §1, over HTTP.

What this module does: page each endpoint (incremental tickets, ticket events with
comments, incremental users, groups, business-hours schedules and their holidays, SLA
policies), keep the records of one load window, and flatten them into the raw entities
(``ENTITIES``), each row keeping the full record as JSON text in ``_record``; one
``Batch`` per entity (``batches``). Where the rows are landed and when the sync state
moves is ``cxw.landing.land_batches``'s business.

Parts: ``client`` (HTTP, retries, rate limits, sync bounds), ``paging`` (the endpoints
and their cursors), ``records`` (flattening), this module (the entities as data).

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

Bounded memory
    The incremental exports (tickets, ticket events, users) are read page by page as
    they are landed: an export longer than ``CXW_HELPDESK_CHUNK_RECORDS`` records (a
    first sync, a backfill) is landed chunk by chunk as one batch (``read_batch``).

State
    ``cxw.state.SyncState(settings, "helpdesk")`` holds one entry per entity, written only
    after that entity's batch is landed (``cxw.landing.landed_entry``): the window landed,
    its rows and pages, the last cursor the API returned (``after_cursor`` for the cursor exports,
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

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from cxw.lake import Window
from cxw.sources import (
    HISTORY_START,
    Batch,
    Entity,
    PendingBatch,
    Previous,
    StreamedBatch,
    typed_batch,
)
from cxw.sources.helpdesk.client import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_SECONDS,
    MAX_ATTEMPTS,
    MAX_PAGES,
    MAX_RATE_LIMIT_WAITS,
    MAX_RETRY_AFTER_SECONDS,
    SYNC_DEADLINE_SECONDS,
    TIMEOUT,
    HelpdeskAuthError,
    HelpdeskClient,
    HelpdeskConfig,
    HelpdeskError,
    SyncBoundExceeded,
    retry_after_seconds,
)
from cxw.sources.helpdesk.paging import (
    GROUPS_PATH,
    HOLIDAYS_PATH,
    OVERLAP,
    SCHEDULES_PATH,
    SLA_POLICIES_PATH,
    TICKET_EVENTS_PATH,
    TICKETS_PATH,
    USERS_PATH,
    Fetched,
    Pages,
    collect,
    cursor_export,
    cursor_pages,
    fetch_groups,
    fetch_holidays,
    fetch_schedules,
    fetch_sla_policies,
    fetch_ticket_events,
    fetch_tickets,
    fetch_users,
    list_pages,
    read_span,
    read_start,
    ticket_event_pages,
    ticket_pages,
    time_export,
    time_pages,
    user_pages,
)
from cxw.sources.helpdesk.records import (
    _dict,
    group_row,
    holiday_row,
    record_json,
    schedule_interval_rows,
    sla_policy_metric_rows,
    ticket_event_rows,
    ticket_row,
    user_row,
)

__all__ = [
    "BACKOFF_CAP_SECONDS", "BACKOFF_SECONDS", "ENTITIES", "GROUPS_PATH", "HISTORY_START",
    "HOLIDAYS_PATH", "MAX_ATTEMPTS", "MAX_PAGES", "MAX_RATE_LIMIT_WAITS",
    "MAX_RETRY_AFTER_SECONDS", "OVERLAP", "SCHEDULES_PATH", "SLA_POLICIES_PATH", "SOURCE",
    "SYNC_DEADLINE_SECONDS", "TICKETS_PATH", "TICKET_EVENTS_PATH", "TIMEOUT", "USERS_PATH",
    "CHUNK_RECORDS", "Endpoint", "Fetched", "HelpdeskAuthError", "HelpdeskClient",
    "HelpdeskConfig", "HelpdeskError", "Pages", "SyncBoundExceeded", "batches", "collect",
    "cursor_export", "cursor_pages", "read_batch", "ticket_event_pages",
    "ticket_pages", "time_pages", "user_pages",
    "fetch_groups", "fetch_holidays", "fetch_schedules", "fetch_sla_policies",
    "fetch_ticket_events", "fetch_tickets", "fetch_users", "list_pages", "read_entity", "read_span",
    "read_start", "record_json", "retry_after_seconds", "time_export", "warn_on_gap",
]

log = logging.getLogger(__name__)

SOURCE = "helpdesk"
CHUNK_RECORDS = 20_000  # Settings.helpdesk_chunk_records


# -- entities --------------------------------------------------------------------------


RowMaker = Callable[[dict[str, Any], HelpdeskConfig], list[dict[str, Any]]]


@dataclass(frozen=True)
class Endpoint(Entity):
    """A raw helpdesk entity (``Entity``: contract columns, key, cursor field) with how
    to fetch its records (from the client, for a read span), how to flatten one record
    into rows, and the request it comes from."""

    # Defaults only because Entity's cursor has one; every endpoint names all three.
    fetch: Callable[[HelpdeskClient, Window], Fetched] | None = None  # (client, read span)
    rows: RowMaker | None = None
    origin: str = ""
    #: The incremental exports, read page by page (``read_batch``: landed in chunks).
    pages: Pages | None = None
    #: Whether a record served again can be a newer version: the cursor exports serve a
    #: ticket or user again when it changed while being read; an audit never changes.
    changes: bool = True

    def frame(self, records: Iterable[dict[str, Any]], config: HelpdeskConfig) -> pd.DataFrame:
        """Flatten ``records`` into the entity's rows, deduplicated by key and sorted, so
        the same records give the same batch however the pages fell."""
        rows: dict[Any, dict[str, Any]] = {}
        for record in records:
            for row in self.rows(_dict(record), config):  # type: ignore[misc]
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


def _each(make_row: Callable[[dict[str, Any]], dict[str, Any]]) -> RowMaker:
    """A row maker for entities with one row per record."""
    return lambda record, config: [make_row(record)]


ID_TIMESTAMPS = {"created_at": "timestamp", "updated_at": "timestamp"}

ENTITIES: dict[str, Endpoint] = {
    entity.name: entity
    for entity in (
        Endpoint(
            name="tickets",
            columns={
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
            key=("id",),
            cursor="updated_at",
            fetch=fetch_tickets,
            pages=ticket_pages,
            rows=lambda ticket, config: [ticket_row(ticket, config.order_field_id)],
            origin=f"GET {TICKETS_PATH} (updated_at in window)",
        ),
        Endpoint(
            name="ticket_events",
            columns={
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
            key=("child_id",),
            cursor="timestamp",
            fetch=fetch_ticket_events,
            pages=ticket_event_pages,
            changes=False,
            rows=lambda audit, config: ticket_event_rows(audit),
            origin=f"GET {TICKET_EVENTS_PATH}?include=comment_events (timestamp in window)",
        ),
        Endpoint(
            name="users",
            columns={
                "id": "int",
                "name": "str",
                "email": "str",
                "role": "str",
                **ID_TIMESTAMPS,
                "_record": "str",
            },
            key=("id",),
            cursor="updated_at",
            fetch=fetch_users,
            pages=user_pages,
            rows=_each(user_row),
            origin=f"GET {USERS_PATH} (updated_at in window)",
        ),
        Endpoint(
            name="groups",
            columns={"id": "int", "name": "str", "_record": "str"},
            key=("id",),
            cursor=None,
            fetch=fetch_groups,
            rows=_each(group_row),
            origin=f"GET {GROUPS_PATH} (snapshot)",
        ),
        Endpoint(
            name="schedule_intervals",
            columns={
                "schedule_id": "int",
                "schedule_name": "str",
                "time_zone": "str",
                "start_time": "int",
                "end_time": "int",
                "_record": "str",
            },
            key=("schedule_id", "start_time"),
            cursor=None,
            fetch=fetch_schedules,
            rows=lambda schedule, config: schedule_interval_rows(schedule),
            origin=f"GET {SCHEDULES_PATH} (snapshot)",
        ),
        Endpoint(
            name="holidays",
            columns={
                "schedule_id": "int",
                "holiday_id": "int",
                "name": "str",
                "start_date": "date",
                "end_date": "date",
                "_record": "str",
            },
            key=("schedule_id", "start_date", "name"),
            cursor=None,
            fetch=fetch_holidays,
            rows=_each(holiday_row),
            origin=f"GET {HOLIDAYS_PATH} for every schedule (snapshot)",
        ),
        Endpoint(
            name="sla_policy_metrics",
            columns={
                "policy_id": "int",
                "title": "str",
                "priority": "str",
                "metric": "str",
                "target": "int",
                "business_hours": "bool",
                "_record": "str",
            },
            key=("policy_id", "priority", "metric"),
            cursor=None,
            fetch=fetch_sla_policies,
            rows=lambda policy, config: sla_policy_metric_rows(policy),
            origin=f"GET {SLA_POLICIES_PATH} (snapshot)",
        ),
    )
}


@dataclass
class EntityBatch:
    """One entity's rows for a window, ready to land, and where they came from."""

    entity: Endpoint
    rows: pd.DataFrame
    cursor: str | int | None
    pages: int


def read_entity(client: HelpdeskClient, entity: Endpoint, span: Window) -> EntityBatch:
    """Fetch and flatten one entity's records updated in ``span`` (see ``read_span``;
    the snapshot entities ignore it). The sync's bounds (pages, deadline) start here."""
    client.begin_sync(entity.name)
    fetched = entity.fetch(client, span)  # type: ignore[misc]
    rows = entity.frame(fetched.records, client.config)
    return EntityBatch(entity, rows, fetched.cursor, fetched.pages)


def read_batch(
    client: HelpdeskClient,
    entity: Endpoint,
    span: Window,
    window: Window,
    chunk_records: int = CHUNK_RECORDS,
) -> PendingBatch | StreamedBatch:
    """One entity's batch for ``window``, its records read from ``span``.

    A snapshot entity, or an export whose records fit in one chunk of ``chunk_records``
    (most days), is one ``PendingBatch``. A longer export (a first sync, a backfill) is
    a ``StreamedBatch``: its pages are read as it is landed, ``chunk_records`` records at
    a time, so only one chunk is held. Its cursor is known after the last page and
    enters the sync state only once the whole batch has landed: a crash half-way
    re-reads from the old state.

    Repeats: the later copy wins, as in one chunk, where ``Endpoint.frame`` keeps it.
    The time export serves each page's last second again: audits never change, so a
    copy of the previous chunk's items is dropped (the same version has landed). The
    cursor exports serve a ticket or user again, later in the stream, when it changed
    while being read: landing keeps the last copy once the whole batch is written
    (``StreamedBatch.latest_copy_of``). Any other repeat fails the suite's uniqueness
    rule over the whole batch and quarantines it.
    """
    source = f"{client.config.base_url} {entity.origin}"
    if entity.pages is None:
        batch = read_entity(client, entity, span)
        return typed_batch(batch.rows, entity.columns, window,
                           f"{source}, {batch.pages} page(s)",
                           {"cursor": batch.cursor, "pages": batch.pages})
    client.begin_sync(entity.name)  # the sync's bounds (pages, deadline) start here
    progress = Fetched([])
    chunks = _chunks(entity.pages(client, span, progress), chunk_records)
    first = next(chunks, [])
    if len(first) < chunk_records:  # the export ended within one chunk
        return typed_batch(_rows(entity, first, client.config), entity.columns, window,
                           f"{source}, {progress.pages} page(s)",
                           {"cursor": progress.cursor, "pages": progress.pages})
    state: dict[str, Any] = {}
    held = [first]  # released once read: only one chunk is held at a time

    def records() -> Iterator[list[dict[str, Any]]]:
        while held:
            yield held.pop()
        yield from chunks

    def typed() -> Iterator[PendingBatch]:
        landed: set[tuple[Any, ...]] = set()  # an unchanging entity's previous chunk's keys
        for chunk in records():
            rows = _rows(entity, chunk, client.config)
            if not entity.changes:
                keys = [tuple(row) for row in rows[[*entity.key]].itertuples(index=False)]
                rows = rows[[key not in landed or None in key for key in keys]]
                landed = set(keys)
            yield typed_batch(rows.reset_index(drop=True), entity.columns, window, source)
        state.update(cursor=progress.cursor, pages=progress.pages)

    return StreamedBatch(typed, window, f"{source}, in chunks of {chunk_records} records",
                         state, latest_copy_of=entity.key if entity.changes else None)


def _chunks(pages: Iterator[list[dict[str, Any]]], size: int
            ) -> Iterator[list[dict[str, Any]]]:
    """Whole pages joined into chunks of ``size`` records or a little more; only the
    last chunk is shorter."""
    chunk: list[dict[str, Any]] = []
    for page in pages:
        chunk.extend(page)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _rows(entity: Endpoint, records: list[dict[str, Any]], config: HelpdeskConfig
          ) -> pd.DataFrame:
    """The entity's rows of ``records``, a repeated record's later copy kept."""
    return entity.frame(collect([records], Fetched([])).records, config)


def batches(client: HelpdeskClient, window: Window, previous: Previous,
            chunk_records: int = CHUNK_RECORDS) -> Iterator[Batch]:
    """One batch per entity for ``window``: each reads its span (``read_span``: the
    window and its overlap, or the whole history on the entity's first window) only
    when it is landed, so an entity's failure leaves the earlier ones landed."""
    for entity in ENTITIES.values():
        landed = previous(entity.name)
        warn_on_gap(entity.name, landed, window)

        def read(entity: Endpoint = entity, landed: Mapping[str, Any] | None = landed
                 ) -> PendingBatch | StreamedBatch:
            return read_batch(client, entity, read_span(window, landed), window, chunk_records)

        yield Batch(entity, entity.name, read)


def warn_on_gap(entity: str, previous: Mapping[str, Any] | None, window: Window) -> None:
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
