"""What a landing validation costs besides checking rows: built once in the process that
forks tasks (``cxw.validation.warm_up``), and the detailed GX results only for a batch
that fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cxw import validation
from cxw.settings import EXPECTATIONS_DIR

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "scores.json"
    path.write_text(json.dumps({
        "name": "people.scores",
        "expectations": [
            {"type": "expect_column_values_to_be_between",
             "kwargs": {"column": "score", "min_value": 0, "max_value": 10}},
        ],
    }))
    return path


def test_warm_up_builds_every_suite_so_a_forked_task_builds_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    suites = sorted(EXPECTATIONS_DIR.rglob("*.json"))
    assert validation.warm_up() >= len(suites)  # landing and mart suites: 29 today
    assert set(suites) <= set(validation._VALIDATORS)

    def no_more_building(path: Path) -> None:
        raise AssertionError(f"{path} built again after warm_up")

    monkeypatch.setattr(validation, "load_suite", no_more_building)
    tickets = EXPECTATIONS_DIR / "helpdesk" / "tickets.json"
    # An empty frame fails the suite (columns missing), but the suite was not rebuilt.
    report = validation.validate_frame(pd.DataFrame(), tickets, NOW)
    assert report.suite_name == "helpdesk.tickets"


def test_a_passing_batch_is_checked_once_without_details_a_failing_one_again_with_them(
    suite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    formats: list[str] = []
    run_suite = validation._run_suite

    def counted(validator, frame, now, result_format):
        formats.append(result_format["result_format"])
        return run_suite(validator, frame, now, result_format)

    monkeypatch.setattr(validation, "_run_suite", counted)

    good = validation.validate_frame(pd.DataFrame({"score": [3, 7]}), suite_file, NOW)
    assert good.success and formats == ["BOOLEAN_ONLY"]

    formats.clear()
    bad = validation.validate_frame(pd.DataFrame({"score": [3, 11, 12]}), suite_file, NOW)
    assert not bad.success and formats == ["BOOLEAN_ONLY", "COMPLETE"]
    # The details come from the second run: rows 1 and 2 (scores 11 and 12) are out of
    # [0, 10], so 2 unexpected rows, the first three offending rows as the sample.
    (failure,) = bad.failures
    assert failure.unexpected_count == 2
    assert failure.sample == [{"score": 11}, {"score": 12}]


def test_the_warmed_parent_freezes_what_it_built_so_forked_tasks_never_collect_it() -> None:
    import subprocess
    import sys

    script = (
        "import gc, sys, cxw.warm\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()), 'dbt.cli.main' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    frozen, tracked, dbt_imported = int(output[-3]), int(output[-2]), output[-1]
    assert frozen > 100_000, "the pipeline, GX and dbt's objects are frozen"
    assert tracked < frozen / 100, "a collection in a forked task walks almost nothing"
    assert dbt_imported == "True"
