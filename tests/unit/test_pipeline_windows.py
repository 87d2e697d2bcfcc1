"""The windows a pipeline run works on: an extract's window from the run's data interval
or a given range, and the as-of date the transform builds from the triggering extracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from cxw.pipeline import as_of_date, asset_extra, run_window


@dataclass
class Event:
    extra: dict


def test_as_of_date_is_the_latest_data_date_of_the_triggering_extracts() -> None:
    day = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    events = {
        "orders": [Event(asset_extra(day[0], day[1]))],  # data date Jan 1
        "helpdesk": [Event(asset_extra(day[1], day[2])), Event({})],  # data date Jan 2
    }
    logical = datetime(2026, 11, 24, tzinfo=UTC)  # wall-clock trigger time: ignored
    assert as_of_date(events, logical) == date(2026, 1, 2)


def test_manual_run_builds_as_of_the_last_full_day_before_it() -> None:
    assert as_of_date(None, datetime(2026, 1, 3, tzinfo=UTC)) == date(2026, 1, 2)
    assert as_of_date({}, datetime(2026, 1, 3, 15, tzinfo=UTC)) == date(2026, 1, 2)
    with pytest.raises(ValueError):
        as_of_date(None, None)


def test_run_window_is_the_data_interval_unless_a_range_is_given() -> None:
    start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)
    assert run_window({}, start, end) == (start, end)
    assert run_window({"window_start": None, "window_end": None}, start, end) == (start, end)
    given = {"window_start": "2026-01-01", "window_end": "2026-04-01"}
    assert run_window(given, start, end) == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    with pytest.raises(ValueError, match="both"):
        run_window({"window_start": "2026-01-01"}, start, end)
    with pytest.raises(ValueError, match="after"):
        run_window({"window_start": "2026-01-02", "window_end": "2026-01-01"}, start, end)


def test_a_range_run_tells_the_transform_its_last_data_date() -> None:
    extra = asset_extra(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert extra["data_date"] == "2026-03-31"
