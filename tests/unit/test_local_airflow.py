"""The plain parts of running through the local Airflow: the source connections `cxw
airflow` imports, the one-line cause read from a task log, the deployment settings."""

from __future__ import annotations

import json
from pathlib import Path

from cxw.cli import source_connections
from cxw.local_airflow import deployment_env, last_error
from cxw.settings import Settings


def test_the_configured_sources_become_four_connections() -> None:
    connections = source_connections({
        "AIRFLOW_CONN_HELPDESK_API": (
            "http://agent%40shop.example:TOKEN@127.0.0.1:8765?order_field_id=360000000001"
        ),
        "AIRFLOW_CONN_ORDERS_DB": "sqlite:////data/shop.db",
        "CXW_WEB_EXPORT_PATH": "/data/ga4",
        "CXW_SURVEY_DROP_PATH": "/data/surveys",
    })
    assert sorted(connections) == ["helpdesk_api", "orders_db", "survey_drop", "web_export"]
    helpdesk = connections["helpdesk_api"]
    # The URI's parts, decoded: the login is the agent's email, the token the password.
    assert (helpdesk["conn_type"], helpdesk["host"], helpdesk["port"]) == (
        "http", "127.0.0.1", 8765
    )
    assert (helpdesk["login"], helpdesk["password"]) == ("agent@shop.example", "TOKEN")
    assert json.loads(helpdesk["extra"]) == {"order_field_id": "360000000001"}
    assert connections["orders_db"]["schema"] == "/data/shop.db"
    assert json.loads(connections["web_export"]["extra"]) == {"path": "/data/ga4"}
    assert json.loads(connections["survey_drop"]["extra"]) == {"path": "/data/surveys"}


def test_unset_sources_are_left_out() -> None:
    assert source_connections({"CXW_WEB_EXPORT_PATH": ""}) == {}


def test_the_cause_is_the_last_exception_of_the_task_log(tmp_path: Path) -> None:
    log = tmp_path / "attempt=1.log"
    lines = [
        {"event": "Filling up the DagBag", "level": "info"},
        {"event": "Task failed with exception", "level": "error", "error_detail": [
            {"exc_type": "HelpdeskAuthError",
             "exc_value": "helpdesk API rejected the credentials (HTTP 401)\nsecond line",
             "frames": []},
        ]},
        "not json at all",
    ]
    log.write_text("\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines))
    assert last_error(log) == (
        "HelpdeskAuthError: helpdesk API rejected the credentials (HTTP 401)"
    )
    assert last_error(tmp_path / "missing.log").startswith("no task log at")


def test_the_deployment_is_sized_to_the_machine_and_bound_to_loopback(tmp_path: Path) -> None:
    env = deployment_env(Settings.from_env(), 18080, {"AIRFLOW_HOME": str(tmp_path)}, slots=2)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW__CORE__PARALLELISM"] == "2"
    assert env["AIRFLOW__API__WORKERS"] == "1"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] == str(tmp_path / "logs")
