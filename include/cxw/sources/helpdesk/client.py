"""The helpdesk's HTTP client: timeouts, bounded retries, rate-limit waits, and the
bounds of one sync (pages read, wall-clock deadline).

Hand-written rather than urllib3's ``Retry`` or tenacity (both installed): the client
keeps two budgets (5xx/network failures and 429 waits), honours ``Retry-After`` in
seconds or as an HTTP date, never sleeps past the sync's deadline, and takes an injected
``sleep`` and ``clock`` so tests run the waits without waiting. ``Retry`` sleeps inside
urllib3 (not injectable, no deadline) and tenacity would need the same custom wait and
stop callables that this loop is.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import HTTPBasicAuth

from cxw.errors import PermanentError

log = logging.getLogger(__name__)

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

