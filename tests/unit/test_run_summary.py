"""The run summary reads what landed, was rejected (with its reason), skipped and is
stale from disk, per source; a failure prints one line and where the full output is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cxw import run_summary
from cxw.landing import FilesRejected
from cxw.local_airflow import AirflowFailed
from cxw.pipeline import land_surveys, land_web
from cxw.settings import Settings
from tests.unit.test_surveys_source import DAY_ONE, DAY_TWO, GOOD_DAY_ONE, csv_text, write
from tests.unit.test_web_source import DAY, event, write_day


def test_summary_names_landed_rejected_warned_and_stale_sources(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(tmp_path / "ga4"))
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(tmp_path / "surveys"))
    # Web: Mar 10 only (Mar 8 and 9, the re-read days, had no traffic).
    write_day(tmp_path / "ga4", DAY, [event(DAY), event(DAY, 61)])
    land_web(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))
    # Surveys: Mar 1 lands, Mar 2 is rejected (a CSAT score of 6).
    write(tmp_path / "surveys", DAY_ONE, GOOD_DAY_ONE)
    write(tmp_path / "surveys", DAY_TWO, csv_text("R_5,csat,2026-03-02T09:00:00Z,e@x.org,,,,6,"))
    with pytest.raises(FilesRejected):
        land_surveys(datetime(2026, 3, 10, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC))

    text = run_summary.summary(Settings.from_env(), date(2026, 3, 10))
    lines = text.splitlines()
    assert lines[0] == "Run summary (per source):"
    assert lines[1:3] == ["  helpdesk  not run yet", "            STALE: no data landed yet"]
    web = [line.strip() for line in lines if "web" in line or line.startswith(" " * 12)]
    assert "web       landed 1 batch(es), 2 row(s) for 20260310T000000_20260311T000000" in web
    assert "warning: no export for 2026-03-08: taken as a day without traffic" in web
    assert "data up to 2026-03-10" in web
    surveys = text[text.index("  surveys"):].splitlines()
    assert surveys[0] == (
        "  surveys   landed 1 batch(es), 2 row(s) for 20260310T000000_20260311T000000"
    )
    assert surveys[1].strip().startswith(f"rejected {DAY_TWO}: surveys.responses: batch 20260302")
    assert "expect_column_values_to_be_between(score)" in surveys[1]
    # The survey data reach Mar 1 only: 9 days behind the run's Mar 10.
    assert surveys[2].strip() == "STALE: data up to 2026-03-01, 9 day(s) behind 2026-03-10"
    assert "1 file(s)/batch(es) in the rejected ledger" in surveys[3]


def test_a_failure_is_one_line_with_the_log_path(cxw_home: Path) -> None:
    output = "\n".join(
        [*(f"noise {n}" for n in range(80)),
         "cxw task failed: dag=extract_web task=land_web window=[a, b) try=1 error=boom",
         "Traceback ..."]
    )
    error = AirflowFailed(f"airflow dags test extract_web failed (exit 1):\n{output}")
    text = run_summary.failure_line(Settings.from_env(), "run", error)
    first, log_line, task_logs = text.splitlines()
    assert first == (
        "cxw run failed: cxw task failed: dag=extract_web task=land_web window=[a, b) "
        "try=1 error=boom"
    )
    path = Path(log_line.split("full output: ")[1])
    assert path.read_text().startswith("airflow dags test extract_web failed")
    assert task_logs.strip().startswith("task logs:") and task_logs.endswith("logs")
