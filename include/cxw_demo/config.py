"""The simulator's knobs and the fictional shop's fixed facts, in one place.

Everything random flows from ``SimulationConfig.seed``; the rest are facts of the
demo company (its name, time zone, currency) that every output module shares.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SHOP_NAME = "Inkwell Books"
SHOP_DOMAIN = "inkwell-books.example"
CURRENCY = "EUR"

#: Zendesk custom ticket field holding the order number (the ``helpdesk_order_field_id``).
ORDER_FIELD_ID = 360000000001
#: Zendesk custom ticket field holding the contact reason (a dropdown).
REASON_FIELD_ID = 360000000002

#: The helpdesk schedule's time zone as Zendesk displays it, and the IANA zone behind it.
SCHEDULE_TIME_ZONE = "Berlin"
SCHEDULE_IANA_ZONE = "Europe/Berlin"

#: The agent login and API token the demo helpdesk accepts unless told otherwise.
DEFAULT_AGENT_EMAIL = "agent@inkwell-books.example"
DEFAULT_TOKEN = "demo-token"


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: how many customers, over which dates (inclusive), from which seed."""

    customers: int
    start: dt.date
    end: dt.date
    seed: int = 42
    gzip_web: bool = False
    #: A sale: this day's web traffic is ``spike_factor`` times the usual (GA4 volume).
    spike_day: dt.date | None = None
    spike_factor: int = 10

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if self.spike_day is not None and not self.start <= self.spike_day <= self.end:
            raise ValueError("spike_day must be in the range")
        if self.spike_factor < 1:
            raise ValueError("spike_factor must be at least 1")

    @property
    def start_ts(self) -> int:
        """The first second of the range (unix, UTC)."""
        return _unix(self.start)

    @property
    def end_ts(self) -> int:
        """The first second after the range (unix, UTC): nothing happens at or after it."""
        return _unix(self.end + dt.timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _unix(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
