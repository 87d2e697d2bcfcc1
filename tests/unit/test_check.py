"""`cxw check`: every setting checked in seconds, one line per problem naming the
setting, before any extraction starts (also at the start of `cxw run`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cxw import check, cli
from cxw_demo.helpdesk_server import HelpdeskServer
from tests.handmade.shop import HANDMADE, create_orders_db

HANDMADE_HELPDESK = HANDMADE / "helpdesk"
TOKEN = "the-right-token"


def ours(output: str) -> list[str]:
    """cxw check's lines (Airflow's own log lines may be interleaved on stdout)."""
    return [line for line in output.splitlines() if line.startswith(("error:", "warning:", "cxw"))]


@pytest.fixture
def helpdesk() -> HelpdeskServer:
    with HelpdeskServer(HANDMADE_HELPDESK, token=TOKEN) as server:
        yield server


def connect_helpdesk(monkeypatch: pytest.MonkeyPatch, server: HelpdeskServer, token: str) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_HELPDESK_API",
        f"http://agent%40shop.example:{token}@127.0.0.1:{server.port}?order_field_id=1",
    )


@pytest.fixture
def good_settings(
    cxw_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, helpdesk: HelpdeskServer
) -> Path:
    (tmp_path / "ga4").mkdir()
    (tmp_path / "ga4" / "events_20260310.jsonl").write_text("")
    (tmp_path / "surveys").mkdir()
    (tmp_path / "surveys" / "responses_20260310.csv").write_text("response_id\n")
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(tmp_path / "ga4"))
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(tmp_path / "surveys"))
    shop = create_orders_db(tmp_path / "o.db", "orders_day1")  # the Monday shop
    monkeypatch.setenv("AIRFLOW_CONN_ORDERS_DB", f"sqlite:///{shop}")
    connect_helpdesk(monkeypatch, helpdesk, TOKEN)
    return tmp_path


def test_good_settings_pass(good_settings: Path, capsys: pytest.CaptureFixture) -> None:
    assert check.run_checks() == []
    assert cli.main(["check"]) == 0
    assert ours(capsys.readouterr().out) == ["cxw check: 0 error(s), 0 warning(s)"]


def test_a_missing_folder_a_wrong_token_and_a_missing_column_are_named(
    good_settings: Path,
    helpdesk: HelpdeskServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(good_settings / "no-such-folder"))
    connect_helpdesk(monkeypatch, helpdesk, "a-wrong-token")
    (good_settings / "surveys" / "responses_2026-03-15.csv").write_text("response_id\n")
    with sqlite3.connect(good_settings / "o.db") as db:
        db.execute("alter table orders drop column currency")
    monkeypatch.setenv("CXW_HELPDESK_MAX_PAGES", "many")

    assert cli.main(["check"]) == 1
    lines = ours(capsys.readouterr().out)
    assert lines[0] == "error: CXW_HELPDESK_MAX_PAGES: 'many' is not a number"
    assert set(lines[1:-1]) == {
        f"error: CXW_WEB_EXPORT_PATH: cannot list {good_settings / 'no-such-folder'}: "
        f"source folder {good_settings / 'no-such-folder'} does not exist",
        f"error: AIRFLOW_CONN_HELPDESK_API: helpdesk API at {helpdesk.url} rejected the "
        "credentials of 'agent@shop.example' (HTTP 401 on /api/v2/groups.json): check the "
        "login and API token of the helpdesk_api connection",
        "error: AIRFLOW_CONN_ORDERS_DB: table 'orders' lacks column(s) currency",
        f"warning: CXW_SURVEY_DROP_PATH: {good_settings / 'surveys' / 'responses_2026-03-15.csv'}"
        " looks like an export but is not named responses_YYYYMMDD.csv: it will not be read",
    }
    assert lines[-1] == "cxw check: 4 error(s), 1 warning(s)"
    assert "a-wrong-token" not in "\n".join(lines)


def test_cxw_run_checks_first_and_runs_nothing_on_errors(
    good_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(good_settings / "gone"))

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("an extraction started despite a configuration error")

    monkeypatch.setattr(cli, "run_range", must_not_run)
    assert cli.main(["run", "--start", "2026-03-01", "--end", "2026-03-02"]) == 1
    err = capsys.readouterr().err
    assert f"error: CXW_SURVEY_DROP_PATH: cannot list {good_settings / 'gone'}" in err
    assert "cxw run: nothing was run" in err


def test_an_extract_dag_s_first_task_checks_only_its_source(
    good_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXW_SURVEY_DROP_PATH", str(good_settings / "gone"))
    check.require("web")  # the survey folder is not the web DAG's business
    with pytest.raises(check.ConfigError, match="^CXW_SURVEY_DROP_PATH: cannot list") as caught:
        check.require("surveys")
    assert isinstance(caught.value, check.PermanentError)
