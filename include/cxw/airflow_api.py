"""A small client for Airflow's REST API (``/api/v2``), as a user: the simple auth
manager's generated ``admin`` password traded for a JWT at ``/auth/token``. Both the local
Airflow (``local_airflow``) and the Celery cluster (``cluster``) are driven through it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

HEALTH_PATH = "/api/v2/monitor/health"


class AirflowFailed(RuntimeError):
    """An Airflow command or run failed; the message carries the cause (and ``result``, when
    set, what ``cli.run_range`` ran before it failed)."""

    result: Any = None


def healthy(api_url: str, components: Iterable[str]) -> bool:
    """Whether the api-server answers and reports every one of ``components``
    (``metadatabase``, ``scheduler``, ``dag_processor``, ``triggerer``) healthy."""
    import requests

    try:
        health = requests.get(f"{api_url}{HEALTH_PATH}", timeout=5).json()
    except (requests.RequestException, ValueError):
        return False
    return all((health.get(part) or {}).get("status") == "healthy" for part in components)


class ApiClient:
    """Requests against ``base_url``'s ``/api/v2`` with a bearer token."""

    def __init__(self, base_url: str, password_file: Path, username: str = "admin") -> None:
        import requests

        self.base_url = base_url
        password = json.loads(password_file.read_text())[username]
        response = requests.post(
            f"{base_url}/auth/token",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/api/v2/{path.lstrip('/')}", timeout=30, **kwargs
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def dag_ids(self) -> set[str]:
        return {dag["dag_id"] for dag in self.get("dags", limit=100)["dags"]}

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted, deadline = set(dag_ids), time.monotonic() + timeout
        while not wanted <= self.dag_ids():
            if time.monotonic() > deadline:
                raise AirflowFailed(f"DAGs {sorted(wanted - self.dag_ids())} never parsed")
            time.sleep(2)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"dags/{dag_id}", json={"is_paused": paused})

    def trigger(
        self, dag_id: str, logical_date: str | None, conf: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            f"dags/{dag_id}/dagRuns",
            json={"logical_date": logical_date, "conf": dict(conf or {})},
        )
