"""The support team's business hours and holidays, and a vectorised business clock.

The schedule is kept in Zendesk's own shape (weekly intervals in minutes from Sunday
00:00 local time, holidays as inclusive local dates) so the helpdesk server can serve
it as is; ``BusinessClock`` answers "when is ``t`` plus ``m`` business minutes?" for
whole arrays at once, which is how agents' reply times are simulated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxw_demo.config import SCHEDULE_IANA_ZONE

MINUTES_PER_DAY = 1440

#: Monday to Friday 08:00-18:00 and Saturday 09:00-13:00, local time.
WEEKLY_INTERVALS: tuple[tuple[int, int], ...] = tuple(
    (day * MINUTES_PER_DAY + 8 * 60, day * MINUTES_PER_DAY + 18 * 60) for day in range(1, 6)
) + ((6 * MINUTES_PER_DAY + 9 * 60, 6 * MINUTES_PER_DAY + 13 * 60),)


@dataclass(frozen=True)
class Holiday:
    name: str
    start_date: dt.date
    end_date: dt.date


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def holidays_for(years: range) -> list[Holiday]:
    """The German public holidays the Berlin team takes off, plus the Christmas break."""
    result: list[Holiday] = []
    for year in years:
        easter = easter_sunday(year)
        fixed = [
            ("New Year's Day", dt.date(year, 1, 1), dt.date(year, 1, 1)),
            ("Good Friday", easter - dt.timedelta(days=2), easter - dt.timedelta(days=2)),
            ("Easter Monday", easter + dt.timedelta(days=1), easter + dt.timedelta(days=1)),
            ("Labour Day", dt.date(year, 5, 1), dt.date(year, 5, 1)),
            ("Ascension Day", easter + dt.timedelta(days=39), easter + dt.timedelta(days=39)),
            ("Whit Monday", easter + dt.timedelta(days=50), easter + dt.timedelta(days=50)),
            ("German Unity Day", dt.date(year, 10, 3), dt.date(year, 10, 3)),
            ("Christmas break", dt.date(year, 12, 24), dt.date(year, 12, 26)),
            ("New Year's Eve", dt.date(year, 12, 31), dt.date(year, 12, 31)),
        ]
        result.extend(Holiday(name, start, end) for name, start, end in fixed)
    return sorted(result, key=lambda holiday: holiday.start_date)


class BusinessClock:
    """Minute-resolution business calendar between two unix times (UTC).

    ``cumulative[i]`` counts business minutes before minute ``i``; adding business
    minutes is then a binary search, for any number of start times at once.
    """

    def __init__(self, start_ts: int, end_ts: int, holidays: list[Holiday]) -> None:
        self.base = start_ts - start_ts % 60
        minutes = (end_ts - self.base) // 60 + 1
        utc = pd.date_range(
            pd.Timestamp(self.base, unit="s", tz="UTC"), periods=minutes, freq="min"
        )
        local = utc.tz_convert(SCHEDULE_IANA_ZONE)
        weekday_from_sunday = (local.day_of_week.to_numpy() + 1) % 7
        week_minute = (
            weekday_from_sunday * MINUTES_PER_DAY
            + local.hour.to_numpy() * 60
            + local.minute.to_numpy()
        )
        is_open = np.zeros(minutes, dtype=bool)
        for start, end in WEEKLY_INTERVALS:
            is_open |= (week_minute >= start) & (week_minute < end)
        local_dates = local.tz_localize(None).normalize().to_numpy()
        for holiday in holidays:
            first = np.datetime64(holiday.start_date, "ns")
            last = np.datetime64(holiday.end_date, "ns")
            is_open &= ~((local_dates >= first) & (local_dates <= last))
        self.is_open = is_open
        self.cumulative = np.concatenate(([0], np.cumsum(is_open)))

    def _minute_index(self, ts: np.ndarray) -> np.ndarray:
        index = (np.asarray(ts, dtype=np.int64) - self.base) // 60
        return np.clip(index, 0, len(self.is_open) - 1)

    def add_business_minutes(self, ts: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """The unix time ``minutes`` business minutes after each ``ts`` (seconds kept)."""
        ts = np.asarray(ts, dtype=np.int64)
        target = self.cumulative[self._minute_index(ts)] + np.maximum(
            np.asarray(minutes, dtype=np.int64), 0
        )
        # The first minute after which ``target`` business minutes have been counted.
        position = np.searchsorted(self.cumulative, target, side="left")
        position = np.clip(position, 0, len(self.is_open))
        later = self.base + position * 60 + ts % 60
        return np.maximum(later, ts)

    def next_open(self, ts: np.ndarray) -> np.ndarray:
        """Each ``ts`` itself if the team is working then, else the next opening minute."""
        ts = np.asarray(ts, dtype=np.int64)
        index = self._minute_index(ts)
        following = np.searchsorted(self.cumulative, self.cumulative[index] + 1, side="left") - 1
        opened = self.base + np.clip(following, 0, len(self.is_open) - 1) * 60 + ts % 60
        return np.where(self.is_open[index], ts, np.maximum(opened, ts))

    def is_business_time(self, ts: np.ndarray) -> np.ndarray:
        return self.is_open[self._minute_index(ts)]
