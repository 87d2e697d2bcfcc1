"""A local stand-in for the Zendesk Support API (sources.md §1), over real HTTP.

It serves the files ``helpdesk_data.write_helpdesk`` wrote, as they stood at the
server's ``now`` (a setting, so tests and day-by-day syncs are deterministic): a
ticket is rebuilt from its audits up to ``now``, and anything changed in the last
minute is held back, as the real API does. Faults are switches: 429 with
``Retry-After`` every Nth request, bursts of 5xx, slow responses.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from cxw_demo.config import DEFAULT_TOKEN
from cxw_demo.helpdesk_data import apply_audit, initial_state, load_helpdesk
from cxw_demo.timestamps import iso_timestamp

HOLD_BACK_SECONDS = 60
MAX_PAGE_SIZE = 1000


@dataclass
class ServerFaults:
    """Misbehaviour on purpose. Request numbers count API requests from 1."""

    rate_limit_every: int = 0  # every Nth request gets 429 (0: never)
    retry_after: int = 1  # seconds in the Retry-After header
    error_every: int = 0  # in each cycle of N requests, the last ``error_burst`` fail (0: never)
    error_burst: int = 1
    error_status: int = 503
    delay_seconds: float = 0.0  # added before every response
    # Cursor pages end one item early, so each page's last item opens the next page too.
    # (Time-based ticket_events always repeat: the next page starts at the last one's second.)
    repeat_last_item: bool = False
    # The cursor exports loop: after the second page, the after_cursor of the first page
    # comes back (c1, c2, c1, c2, ...) and the stream never ends.
    cursor_loop: bool = False
    # Accept every connection and never answer (until the server stops).
    silent: bool = False


def _iso(ts: int) -> str:
    return iso_timestamp(ts)


def encode_cursor(updated_ts: int, record_id: int) -> str:
    raw = json.dumps([updated_ts, record_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    updated_ts, record_id = json.loads(base64.urlsafe_b64decode(padded))
    return int(updated_ts), int(record_id)


@dataclass
class _Version:
    key: tuple[int, int]  # (updated_ts, ticket_id)
    state: dict[str, Any]
    next_ts: int | None


@dataclass
class HelpdeskStore:
    """The helpdesk's records, indexed for the incremental endpoints."""

    data: dict[str, Any]
    ticket_base: dict[int, dict[str, Any]] = field(default_factory=dict)
    versions: list[_Version] = field(default_factory=list)
    version_keys: list[tuple[int, int]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    event_ts: list[int] = field(default_factory=list)
    users: list[tuple[tuple[int, int], dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> HelpdeskStore:
        store = cls(load_helpdesk(folder))
        store._index()
        return store

    def _index(self) -> None:
        by_ticket: dict[int, list[dict[str, Any]]] = {}
        self.events = sorted(self.data["ticket_events"], key=lambda e: (e["timestamp"], e["id"]))
        self.event_ts = [event["timestamp"] for event in self.events]
        for event in self.events:
            by_ticket.setdefault(event["ticket_id"], []).append(event)
        for ticket in self.data["tickets"]:
            self.ticket_base[ticket["id"]] = ticket
            audits = by_ticket.get(ticket["id"], [])
            create = next(
                (
                    c
                    for a in audits[:1]
                    for c in a["child_events"]
                    if c.get("field_name") == "priority"
                ),
                None,
            )
            state = initial_state(
                create["value"] if create else ticket["priority"], ticket["group_id"]
            )
            states: list[dict[str, Any]] = []
            for audit in audits:
                apply_audit(state, audit)
                if states and states[-1]["updated_ts"] == state["updated_ts"]:
                    states[-1] = dict(state)
                else:
                    states.append(dict(state))
            for index, snapshot in enumerate(states):
                following = states[index + 1]["updated_ts"] if index + 1 < len(states) else None
                self.versions.append(
                    _Version((snapshot["updated_ts"], ticket["id"]), snapshot, following)
                )
        self.versions.sort(key=lambda version: version.key)
        self.version_keys = [version.key for version in self.versions]
        users = []
        for user in self.data["users"]:
            updated = _parse_iso(user["updated_at"])
            users.append(((updated, user["id"]), user))
        self.users = sorted(users, key=lambda pair: pair[0])

    def ticket_at(self, version: _Version) -> dict[str, Any]:
        ticket = dict(self.ticket_base[version.key[1]])
        state = version.state
        ticket.update(
            status=state["status"],
            priority=state["priority"],
            assignee_id=state["assignee_id"],
            group_id=state["group_id"],
            satisfaction_rating=state["satisfaction_rating"],
            updated_at=_iso(state["updated_ts"]),
            generated_timestamp=state["updated_ts"],
        )
        return ticket

    def tickets_page(
        self, after: tuple[int, int], cutoff: int, per_page: int
    ) -> tuple[list[dict[str, Any]], tuple[int, int], bool]:
        """Tickets whose visible state (as of ``cutoff``) sorts after ``after``."""
        items: list[dict[str, Any]] = []
        position = after
        index = bisect_right(self.version_keys, after)
        while index < len(self.versions):
            version = self.versions[index]
            index += 1
            if version.key[0] > cutoff:
                return items, position, True
            if version.next_ts is not None and version.next_ts <= cutoff:
                continue  # superseded by a later state that is already visible
            if len(items) == per_page:
                return items, position, False
            items.append(self.ticket_at(version))
            position = version.key
        return items, position, True

    def users_page(
        self, after: tuple[int, int], cutoff: int, per_page: int
    ) -> tuple[list[dict[str, Any]], tuple[int, int], bool]:
        keys = [key for key, _ in self.users]
        start = bisect_right(keys, after)
        visible = [pair for pair in self.users[start:] if pair[0][0] <= cutoff]
        page = visible[:per_page]
        position = page[-1][0] if page else after
        return [user for _, user in page], position, len(visible) <= per_page

    def events_page(
        self, start_time: int, cutoff: int, per_page: int, comments: bool
    ) -> tuple[list[dict[str, Any]], int, bool]:
        """Audits from ``start_time`` on; the next page starts at the last one's second."""
        first = bisect_left(self.event_ts, start_time)
        stop = bisect_right(self.event_ts, cutoff)
        page = self.events[first : min(first + per_page, stop)]
        end_of_stream = first + per_page >= stop
        end_time = page[-1]["timestamp"] if page else start_time
        if not end_of_stream and end_time == start_time:
            end_time += 1  # a full page within one second: move on rather than loop forever
        if not comments:
            page = [
                {
                    **event,
                    "child_events": [
                        c for c in event["child_events"] if c["event_type"] != "Comment"
                    ],
                }
                for event in page
            ]
        return page, end_time, end_of_stream


def _parse_iso(text: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class _ApiError(Exception):
    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class HelpdeskServer:
    """The fake Zendesk on 127.0.0.1; use as a context manager or ``start()``/``stop()``."""

    def __init__(
        self,
        data_dir: Path,
        token: str = DEFAULT_TOKEN,
        now: int | None = None,
        faults: ServerFaults | None = None,
        port: int = 0,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        self.store = HelpdeskStore.load(Path(data_dir))
        self.token = token
        self.now = now
        self.faults = faults or ServerFaults()
        self.page_size = page_size
        self.requested_port = port
        self.requests_served = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._first_cursors: dict[str, str] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> HelpdeskServer:
        self._stopping.clear()
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.requested_port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll: keep it short
            name="helpdesk",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # silent handlers give up
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HelpdeskServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def current_time(self) -> int:
        return int(time.time()) if self.now is None else int(self.now)

    # -- request handling ----------------------------------------------------------
    def _check_auth(self, header: str | None) -> None:
        token = None
        if header and header.startswith("Bearer "):
            token = header[len("Bearer ") :].strip()
        elif header and header.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, secret = "", ""
            token = secret if user.endswith("/token") else None
        if token != self.token:
            raise _ApiError(401, {"error": "Couldn't authenticate you"})

    def _faults(self) -> None:
        with self._lock:
            self.requests_served += 1
            number = self.requests_served
        faults = self.faults
        if faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        if faults.rate_limit_every and number % faults.rate_limit_every == 0:
            raise _ApiError(
                429,
                {
                    "error": "APIRateLimitExceeded",
                    "description": "Rate limit exceeded, retry later",
                },
                {"Retry-After": str(faults.retry_after)},
            )
        if (
            faults.error_every
            and (number - 1) % faults.error_every >= faults.error_every - faults.error_burst
        ):
            raise _ApiError(faults.error_status, {"error": "ServiceUnavailable"})

    def handle(self, method: str, path: str, headers: Any, base_url: str) -> dict[str, Any]:
        parts = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self._check_auth(headers.get("Authorization"))
        route = parts.path
        if route == "/_demo/clock":
            if method == "POST" and "now" in query:
                self.now = int(query["now"])
            return {"now": self.current_time()}
        self._faults()
        cutoff = self.current_time() - HOLD_BACK_SECONDS
        per_page = min(int(query.get("per_page", self.page_size)), MAX_PAGE_SIZE)
        if route == "/api/v2/incremental/tickets/cursor.json":
            after = self._cursor_start(query, cutoff)
            tickets, position, end = self.store.tickets_page(after, cutoff, per_page)
            if self.faults.repeat_last_item and not end and len(tickets) >= 2:
                position = (tickets[-2]["generated_timestamp"], tickets[-2]["id"])
            cursor, end = self._maybe_loop(route, query, encode_cursor(*position), end)
            return {
                "tickets": tickets,
                "after_cursor": cursor,
                "before_cursor": None,
                "after_url": f"{base_url}{route}?{urlencode({'cursor': cursor})}",
                "end_of_stream": end,
            }
        if route == "/api/v2/incremental/users/cursor.json":
            after = self._cursor_start(query, cutoff)
            users, position, end = self.store.users_page(after, cutoff, per_page)
            if self.faults.repeat_last_item and not end and len(users) >= 2:
                position = (_parse_iso(users[-2]["updated_at"]), users[-2]["id"])
            cursor, end = self._maybe_loop(route, query, encode_cursor(*position), end)
            return {
                "users": users,
                "after_cursor": cursor,
                "before_cursor": None,
                "after_url": f"{base_url}{route}?{urlencode({'cursor': cursor})}",
                "end_of_stream": end,
            }
        if route == "/api/v2/incremental/ticket_events.json":
            start_time = self._start_time(query, cutoff)
            comments = "comment_events" in query.get("include", "").split(",")
            events, end_time, end = self.store.events_page(start_time, cutoff, per_page, comments)
            next_query = {
                "start_time": end_time,
                **({"include": query["include"]} if "include" in query else {}),
            }
            return {
                "ticket_events": events,
                "next_page": f"{base_url}{route}?{urlencode(next_query)}",
                "count": len(events),
                "end_time": end_time,
                "end_of_stream": end,
            }
        if route == "/api/v2/groups.json":
            return self._groups(query, base_url, route)
        if route == "/api/v2/business_hours/schedules.json":
            return {"schedules": self.store.data["schedules"]}
        if route.startswith("/api/v2/business_hours/schedules/") and route.endswith(
            "/holidays.json"
        ):
            schedule_id = route.split("/")[-2]
            if schedule_id not in self.store.data["holidays"]:
                raise _ApiError(404, {"error": "RecordNotFound", "description": "Not found"})
            return {"holidays": self.store.data["holidays"][schedule_id]}
        if route == "/api/v2/slas/policies.json":
            policies = self.store.data["sla_policies"]
            return {
                "sla_policies": policies,
                "next_page": None,
                "previous_page": None,
                "count": len(policies),
            }
        raise _ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _maybe_loop(
        self, route: str, query: dict[str, str], cursor: str, end: bool
    ) -> tuple[str, bool]:
        """With ``cursor_loop``: the first page's cursor again from the third page on."""
        if not self.faults.cursor_loop:
            return cursor, end
        if "cursor" not in query:
            self._first_cursors[route] = cursor
            return cursor, False
        first = self._first_cursors.get(route, cursor)
        return (cursor if query["cursor"] == first else first), False

    def _start_time(self, query: dict[str, str], cutoff: int) -> int:
        if "start_time" not in query:
            raise _ApiError(400, {"error": "InvalidValue", "description": "start_time is required"})
        start_time = int(query["start_time"])
        if start_time > cutoff:
            raise _ApiError(
                422,
                {
                    "error": "InvalidValue",
                    "description": "Too recent start_time. Use a start_time older than 1 minute.",
                },
            )
        return start_time

    def _cursor_start(self, query: dict[str, str], cutoff: int) -> tuple[int, int]:
        if "cursor" in query:
            try:
                return decode_cursor(query["cursor"])
            except (ValueError, binascii.Error) as error:
                raise _ApiError(
                    400, {"error": "InvalidCursor", "description": str(error)}
                ) from error
        return (self._start_time(query, cutoff), -1)

    def _groups(self, query: dict[str, str], base_url: str, route: str) -> dict[str, Any]:
        groups = self.store.data["groups"]
        page = max(1, int(query.get("page", 1)))
        per_page = min(int(query.get("per_page", 100)), 100)
        chunk = groups[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(groups)
        link = f"{base_url}{route}?" if more or page > 1 else ""
        return {
            "groups": chunk,
            "next_page": f"{link}{urlencode({'page': page + 1, 'per_page': per_page})}"
            if more
            else None,
            "previous_page": f"{link}{urlencode({'page': page - 1, 'per_page': per_page})}"
            if page > 1
            else None,
            "count": len(groups),
        }


def _make_handler(server: HelpdeskServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _respond(self, method: str) -> None:
            if server.faults.silent:
                server._stopping.wait()  # accepted, never answered
                self.close_connection = True
                return
            base_url = f"http://{self.headers.get('Host') or f'127.0.0.1:{server.port}'}"
            headers: dict[str, str] = {}
            try:
                status, body = 200, server.handle(method, self.path, self.headers, base_url)
            except _ApiError as error:
                status, body, headers = error.status, error.body, error.headers
            except (ValueError, KeyError) as error:
                status, body = 400, {"error": "InvalidValue", "description": str(error)}
            payload = json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._respond("GET")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # keep the connection usable for the next request
            self._respond("POST")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: request lines would only clutter test output (and never hold the token)."""

    return Handler
