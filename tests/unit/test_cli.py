"""The ``cxw`` command's own rules: the days of a range, and ranges it refuses before
starting anything."""

from __future__ import annotations

from datetime import date

import pytest

from cxw.cli import days, run_range
from cxw.settings import Settings


def test_days_are_inclusive_and_ordered() -> None:
    assert days(date(2026, 1, 30), date(2026, 2, 1)) == [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
    ]
    with pytest.raises(ValueError, match="before"):
        days(date(2026, 1, 2), date(2026, 1, 1))


def test_a_range_before_the_dags_start_date_is_refused() -> None:
    with pytest.raises(ValueError, match="start_date"):
        run_range(Settings.from_env(), date(1999, 12, 1), date(1999, 12, 2))


def test_a_command_failure_is_one_line_and_an_interruption_130(capsys) -> None:
    import signal

    from cxw.cli import run_command

    before = signal.getsignal(signal.SIGTERM)

    def fail() -> None:
        raise RuntimeError("the scheduler exited")

    def interrupted() -> None:
        raise KeyboardInterrupt

    try:
        assert run_command("cxw x", lambda: None) == 0
        assert run_command("cxw x", fail) == 1
        assert "cxw x failed: the scheduler exited" in capsys.readouterr().err
        seen = []
        assert run_command("cxw x", fail, on_failure=seen.append) == 1
        assert [str(error) for error in seen] == ["the scheduler exited"]
        assert run_command("cxw x", interrupted) == 130
        assert "every process it started is stopped" in capsys.readouterr().err
        # `kill` unwinds like Ctrl-C, so the with-blocks stop what they started.
        assert signal.getsignal(signal.SIGTERM) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before)
