"""The demo entry (``python -m cxw_demo demo|airflow|cluster``, used by ``make demo`` and
``make airflow``): the simulator sets the demo company up and hands over to cxw's public
functions; ``cxw`` itself knows nothing of it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from cxw import cli
from cxw.settings import Settings
from cxw_demo import run
from cxw_demo.__main__ import main
from cxw_demo.generate import generate


def test_the_demo_environment_points_every_source_at_the_company(tmp_path: Path) -> None:
    env = run.demo_environment(tmp_path, "http://127.0.0.1:8765", "t/k", base={"KEEP": "1"})
    assert env["KEEP"] == "1"
    assert env["AIRFLOW_CONN_ORDERS_DB"] == f"sqlite:///{tmp_path / 'shop.db'}"
    helpdesk = urlsplit(env["AIRFLOW_CONN_HELPDESK_API"])
    assert (helpdesk.hostname, helpdesk.port, helpdesk.password) == ("127.0.0.1", 8765, "t%2Fk")
    assert helpdesk.query == "order_field_id=360000000001"
    assert env["CXW_WEB_EXPORT_PATH"] == str(tmp_path / "ga4")
    assert env["CXW_SURVEY_DROP_PATH"] == str(tmp_path / "surveys")


def test_cxw_has_no_demo_command() -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo"])
    with pytest.raises(SystemExit):
        cli.main(["cluster", "--demo"])


def test_the_demo_commands_hand_their_options_over(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CXW_HOME", str(tmp_path))
    calls = []
    monkeypatch.setattr(run, "run_demo", lambda settings, **kw: calls.append(("demo", kw)))
    monkeypatch.setattr(run, "serve_airflow", lambda settings, **kw: calls.append(("airflow", kw)))
    monkeypatch.setattr(run, "serve_cluster", lambda settings, **kw: calls.append(("cluster", kw)))
    assert main(["demo", "--customers", "30", "--backfill"]) == 0
    assert main(["airflow", "--port", "8090"]) == 0
    assert main(["cluster", "--workers", "3"]) == 0
    assert calls == [
        ("demo", {"customers": 30, "backfill": True}),
        ("airflow", {"port": 8090, "host": "127.0.0.1"}),
        ("cluster", {"customers": run.CLUSTER_CUSTOMERS, "workers": 3, "concurrency": 2,
                     "port": 8080, "postgres_url": None, "redis_url": None}),
    ]


@pytest.fixture
def served(monkeypatch, tmp_path: Path) -> list[dict]:
    """What ``cli.serve_airflow`` was given; the demo helpdesk is checked while it runs."""
    monkeypatch.setenv("CXW_HOME", str(tmp_path))
    for name in run.SOURCE_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    calls: list[dict] = []

    def serve_airflow(settings, port, host, env):
        helpdesk = urlsplit(env.get("AIRFLOW_CONN_HELPDESK_API", ""))
        answered = None
        if helpdesk.port:
            url = f"http://127.0.0.1:{helpdesk.port}/api/v2/users.json"
            answered = requests.get(url, timeout=10).status_code  # no token: refused
        calls.append({"env": env, "port": port, "helpdesk": answered})

    monkeypatch.setattr(cli, "serve_airflow", serve_airflow)
    return calls


def test_make_airflow_without_the_demo_is_cxw_airflow(served, tmp_path: Path) -> None:
    run.serve_airflow(Settings.from_env(), port=8091)
    (call,) = served
    assert call["port"] == 8091 and call["helpdesk"] is None
    assert "CXW_SOURCES_END" not in call["env"]


def test_make_airflow_after_the_demo_serves_its_helpdesk_and_ends_on_its_last_day(
    served, monkeypatch, tmp_path: Path
) -> None:
    settings = Settings.from_env()
    generate(run.sources_dir(settings), 30, date(2026, 1, 1), date(2026, 1, 5), seed=1)
    run.serve_airflow(settings)
    (call,) = served
    assert call["helpdesk"] == 401  # served while Airflow ran, with a token of its own
    assert call["env"]["CXW_SOURCES_END"] == "2026-01-05"
    assert call["env"]["CXW_WEB_EXPORT_PATH"] == str(run.sources_dir(settings) / "ga4")

    # Sources of the user's own win over the demo company.
    monkeypatch.setenv("CXW_WEB_EXPORT_PATH", str(tmp_path))
    run.serve_airflow(settings)
    assert served[1]["helpdesk"] is None
    assert served[1]["env"]["CXW_WEB_EXPORT_PATH"] == str(tmp_path)
    manifest = json.loads((run.sources_dir(settings) / "manifest.json").read_text())
    assert manifest["end"] == "2026-01-05"
