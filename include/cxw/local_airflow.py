"""The project's local Airflow (SQLite metadata, examples off) and runs through it.

The local Airflow home lives inside the project (``.airflow/``, ignored by git) unless
``AIRFLOW_HOME`` says otherwise. ``LocalAirflow`` supervises the long-running components
(api-server, scheduler with the LocalExecutor, dag-processor) for ``cxw run`` (one command)
and ``cxw airflow`` (until stopped), each in its own process group (``cxw.processes``); the
functions below it create backfills and triggered runs through the REST API and read back
what the metadata database recorded.
One-off Airflow commands go through ``run_airflow`` with the same configuration.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cxw.airflow_api import AirflowFailed, ApiClient, healthy
from cxw.dag_defaults import WAREHOUSE_POOL
from cxw.processes import Component, Supervisor, free_port, port_is_free
from cxw.settings import PROJECT_DIR, Settings

log = logging.getLogger(__name__)

DAGS_DIR = PROJECT_DIR / "dags"
DEFAULT_AIRFLOW_HOME = PROJECT_DIR / ".airflow"
# One slot: one task at a time opens the DuckDB warehouse (docker-compose.yaml's airflow-init
# creates the same pool). A scheduler leaves tasks of a pool that does not exist unscheduled.
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "single DuckDB writer"


def airflow_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Airflow commands: project DAGs, examples off, local home."""
    env = dict(os.environ if base is None else base)
    env.setdefault("AIRFLOW_HOME", str(DEFAULT_AIRFLOW_HOME))
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "120")
    env["CXW_HOME"] = str(settings.home)
    # Airflow starts its own components as `airflow ...` subprocesses: find ours first.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env.setdefault("GX_ANALYTICS_ENABLED", "False")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    return env


def airflow_executable() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def run_airflow(settings: Settings, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run one ``airflow`` CLI command; raise ``AirflowFailed`` with its output's tail."""
    command = [airflow_executable(), *args]
    log.info("airflow %s", " ".join(args))
    done = subprocess.run(
        command,
        env=airflow_env(settings, env),
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-60:])
        raise AirflowFailed(f"airflow {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return output


# Metadata databases this process has already migrated (each check costs two Airflow
# CLI starts, ~16 s): a backfill or a test calling run_range again skips them.
_READY: set[tuple[str, str]] = set()


def ensure_metadata_db(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Create or upgrade Airflow's metadata database and create the warehouse writer pool
    (idempotent), as docker-compose.yaml's airflow-init does; once per database and
    process."""
    effective = airflow_env(settings, env)
    home = effective["AIRFLOW_HOME"]
    database = (home, effective.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""))
    if database in _READY and Path(home).exists():
        return
    run_airflow(settings, "db", "migrate", env=env)
    create_warehouse_pool(settings, env=env)
    _READY.add(database)


def migrate_metadata_db(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """``airflow db migrate`` once per metadata database and process."""
    effective = airflow_env(settings, env)
    home = effective["AIRFLOW_HOME"]
    database = (home, effective.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""), "migrated")
    if database in _READY and Path(home).exists():
        return
    run_airflow(settings, "db", "migrate", env=env)
    _READY.add(database)


def ensure_pool(api: ApiClient) -> None:
    """The transform DAG's one-slot writer pool, through the REST API (idempotent)."""
    body = {
        "name": WAREHOUSE_POOL,
        "slots": WAREHOUSE_POOL_SLOTS,
        "description": WAREHOUSE_POOL_DESCRIPTION,
        "include_deferred": False,
    }
    try:
        api.request("POST", "pools", json=body)
    except RuntimeError as error:
        if " 409 " not in str(error):
            raise
        api.request("PATCH", f"pools/{WAREHOUSE_POOL}", json=body)


def create_warehouse_pool(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """The one-slot pool the transform DAG's tasks run in (idempotent)."""
    run_airflow(
        settings,
        "pools",
        "set",
        WAREHOUSE_POOL,
        str(WAREHOUSE_POOL_SLOTS),
        WAREHOUSE_POOL_DESCRIPTION,
        env=env,
    )


def run_dag(
    settings: Settings,
    dag_id: str,
    data_date: date,
    conf: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run a whole DAG for one data date in one process (``airflow dags test``).

    A daily run handles the interval ``[D, D+1)`` and runs after it ends, at ``D+1``:
    that is the moment Airflow is given, and it infers the interval before it.
    ``conf`` overrides the DAG's params (e.g. a multi-day window).
    """
    run_after = data_date + timedelta(days=1)
    options = ["--conf", json.dumps(dict(conf))] if conf else []
    return run_airflow(settings, "dags", "test", *options, dag_id, run_after.isoformat(), env=env)


# --------------------------------------------------------------------------- a running Airflow

# Beside the metadata database: where a running local Airflow says how to reach it, so a
# second `cxw run` (or one during `cxw airflow`) reuses it instead of starting another.
STATE_FILE = "cxw-airflow.json"
# Every process a LocalAirflow starts carries this variable (how leftovers are found).
MARKER = "CXW_LOCAL_AIRFLOW_ID"


# What the scheduler imports before its LocalExecutor forks the workers the tasks fork from.
PREIMPORT = "cxw.pipeline,cxw.warm"


def machine_slots() -> int:
    """Executor slots for this machine: one task per core (LocalExecutor forks one worker
    per slot up front, so Airflow's default of 32 costs memory for nothing)."""
    return max(2, os.cpu_count() or 2)


def deployment_env(
    settings: Settings,
    api_port: int,
    base: Mapping[str, str] | None = None,
    slots: int | None = None,
) -> dict[str, str]:
    """``airflow_env`` plus what the long-running components need on this machine:
    LocalExecutor on the home's metadata database, slots sized to the cores, one
    api-server worker on loopback, free ports for the log servers, task logs under
    ``AIRFLOW_HOME/logs``."""
    env = airflow_env(settings, base)
    home = Path(env["AIRFLOW_HOME"])
    slots = slots or machine_slots()
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(slots),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
                f"http://127.0.0.1:{api_port}/execution/"
            ),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # New DAG files and changes are seen within seconds, not minutes.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        }
    )
    return env


@dataclass
class Endpoint:
    """How to reach a running local Airflow (what ``STATE_FILE`` holds)."""

    api_url: str
    pid: int
    home: str

    @property
    def password_file(self) -> Path:
        return Path(self.home) / "simple_auth_manager_passwords.json.generated"

    def api(self) -> ApiClient:
        return local_api(self.api_url, self.password_file)


class LocalApi(ApiClient):
    """A REST API client that retries what SQLite's single writer refuses for a moment.

    The embedded SQLite metadata database has one writer at a time: a request that meets
    the scheduler's or dag-processor's write lock gets 503 ("Database is locked. Backfill
    creation is not supported on SQLite under concurrent access") or a 500 naming the
    lock. Those are retried for up to a minute; anything else is raised at once.
    """

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 60
        while True:
            try:
                return super().request(method, path, **kwargs)
            except RuntimeError as error:
                # The lock can also surface as a 500 whose cause Airflow hides
                # ("reason": "Database error"): seen creating a backfill in CI.
                locked = f"{method} {path}: 503 " in str(error) or (
                    "database is locked" in str(error).lower()
                ) or (f"{method} {path}: 500 " in str(error)
                      and '"reason":"Database error"' in str(error))
                if not locked or time.monotonic() > deadline:
                    raise
                log.info("metadata database busy, retrying %s %s", method, path)
                time.sleep(1)


def local_api(api_url: str, password_file: Path) -> ApiClient:
    """A ``LocalApi`` client of the local Airflow at ``api_url``."""
    return LocalApi(api_url, password_file)


def running_endpoint(airflow_home: Path) -> Endpoint | None:
    """The local Airflow already serving this home (its api-server and scheduler answer),
    else None."""
    path = airflow_home / STATE_FILE
    try:
        endpoint = Endpoint(**json.loads(path.read_text()))
        os.kill(endpoint.pid, 0)
    except (OSError, ValueError, TypeError):
        return None
    return endpoint if healthy(endpoint.api_url, ["scheduler"]) else None


class LocalAirflow(Supervisor):
    """The local Airflow on this home: api-server, scheduler (LocalExecutor) and
    dag-processor, each started in its own process group; ``with LocalAirflow(...)``
    waits until they are healthy and stops every process they started on exit (SIGTERM,
    SIGKILL after ``stop_timeout``). If one already serves this home it is reused and
    left running."""

    failure = AirflowFailed
    # The scheduler's LocalExecutor workers inherit its SIGTERM handler and wait for
    # work: the first SIGTERM asks for a graceful stop, the second ("signal again if you
    # don't want to wait") ends them.
    settle_seconds = 3

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str] | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        triggerer: bool = False,
        slots: int | None = None,
        start_timeout: float = 300,
        stop_timeout: float = 15,
        reuse: bool = True,
        warm_tasks: bool = True,
    ) -> None:
        super().__init__(uuid.uuid4().hex[:10], MARKER, start_timeout, stop_timeout)
        self.settings = settings
        self.port = port or free_port()
        self.host = host
        self.env = deployment_env(settings, self.port, env, slots)
        self.env[MARKER] = self.run_id
        self.home = Path(self.env["AIRFLOW_HOME"])
        self.log_dir = self.home / "logs" / "components"
        self.triggerer = triggerer
        self.reuse = reuse
        self.warm_tasks = warm_tasks
        self.endpoint: Endpoint | None = None
        self.started = False

    @property
    def api_url(self) -> str:
        assert self.endpoint is not None
        return self.endpoint.api_url

    def api(self) -> ApiClient:
        assert self.endpoint is not None
        return self.endpoint.api()

    def start(self) -> None:
        if self.reuse:
            self.endpoint = running_endpoint(self.home)
            if self.endpoint is not None:
                log.info("reusing the local Airflow at %s", self.endpoint.api_url)
                return
        if not port_is_free(self.port):
            raise AirflowFailed(f"port {self.port} is in use: choose another (--port)")
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        migrate_metadata_db(self.settings, env=self.env)
        args = {
            "api-server": ["api-server", "--host", self.host, "--port", str(self.port)],
            # Task logs are files under AIRFLOW_HOME/logs on this machine, which the
            # api-server reads directly: no log server (Airflow binds it to every interface).
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
        }
        if self.triggerer:
            args["triggerer"] = ["triggerer"]
        # Tasks fork from the scheduler's LocalExecutor workers: what it imported, they have
        # (see include/airflow_local_settings.py).
        warm = {**self.env, "CXW_PREIMPORT": PREIMPORT} if self.warm_tasks else self.env
        self.components = [
            Component(
                name, [airflow_executable(), *command],
                warm if name == "scheduler" else self.env, self.log_dir / f"{name}.log",
            )
            for name, command in args.items()
        ]
        for component in self.components:
            component.start()
        self.started = True
        self.endpoint = Endpoint(f"http://127.0.0.1:{self.port}", os.getpid(), str(self.home))
        needed = ["metadatabase", "scheduler", "dag_processor"]
        if self.triggerer:
            needed.append("triggerer")
        self.wait_until(
            lambda: healthy(self.api_url, needed) and self.endpoint.password_file.exists(),
            began + self.start_timeout,
            "the local Airflow (api-server, scheduler, dag-processor)",
        )
        ensure_pool(self.api())
        (self.home / STATE_FILE).write_text(json.dumps(self.endpoint.__dict__))
        log.info("local Airflow up in %.1fs at %s", time.monotonic() - began, self.api_url)

    def stop(self) -> None:
        if not self.started:
            return
        with contextlib.suppress(FileNotFoundError):
            state = self.home / STATE_FILE
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        super().stop()
        self.started = False


# --------------------------------------------------------------------------- runs through it

TERMINAL = {"success", "failed"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


@dataclass
class RunRecord:
    """One DAG run as the metadata database holds it."""

    dag_id: str
    run_id: str
    run_type: str
    state: str
    data_interval_start: str | None
    data_interval_end: str | None
    start_date: str | None
    end_date: str | None
    duration: float | None

    @classmethod
    def from_api(cls, run: Mapping[str, Any]) -> RunRecord:
        return cls(
            dag_id=run["dag_id"],
            run_id=run["dag_run_id"],
            run_type=run["run_type"],
            state=run["state"],
            data_interval_start=run.get("data_interval_start"),
            data_interval_end=run.get("data_interval_end"),
            start_date=run.get("start_date"),
            end_date=run.get("end_date"),
            duration=run.get("duration"),
        )


def dag_runs(api: ApiClient, dag_id: str, **filters: Any) -> list[RunRecord]:
    """Every run of ``dag_id`` matching the REST API's list filters, oldest first
    (``run_id``: that one run)."""
    if "run_id" in filters:
        from urllib.parse import quote

        return [RunRecord.from_api(api.get(f"dags/{dag_id}/dagRuns/{quote(filters['run_id'])}"))]
    runs, offset = [], 0
    while True:
        page = api.get(
            f"dags/{dag_id}/dagRuns", limit=100, offset=offset, order_by="run_after", **filters
        )
        runs += [RunRecord.from_api(run) for run in page["dag_runs"]]
        offset += 100
        if offset >= (page.get("total_entries") or 0):
            return runs


def create_backfill(api: ApiClient, dag_id: str, start: date, end: date) -> dict[str, Any]:
    """An Airflow backfill of ``dag_id``: one run per daily interval from ``start`` to
    ``end`` (logical dates, i.e. data dates), one at a time and in order (the extract's
    sync state moves forward day by day); days already run are run again."""
    return api.request(
        "POST",
        "backfills",
        json={
            "dag_id": dag_id,
            "from_date": iso(midnight(start)),
            "to_date": iso(midnight(end)),
            "max_active_runs": 1,
            "reprocess_behavior": "completed",
        },
    )


def cancel_backfill(api: ApiClient, backfill_id: int) -> None:
    """Cancel a backfill's runs not started yet (a failed day stops the rest)."""
    with contextlib.suppress(RuntimeError):  # already complete
        api.request("PUT", f"backfills/{backfill_id}/cancel")


def trigger_window(api: ApiClient, dag_id: str, start: date, end: date) -> RunRecord:
    """One triggered run of ``dag_id`` whose data interval is the whole window
    ``[start, end + 1 day)`` (a catch-up), logical date ``start`` as for a daily run.

    Logical dates are unique per DAG: if a run of ``start`` exists with the same data
    interval (the same window run before, or the daily run of a one-day window) it is
    cleared and so runs again; one with another interval is an error naming it.
    """
    interval = (iso(midnight(start)), iso(midnight(end + timedelta(days=1))))
    began = datetime.now(UTC)
    try:
        run = api.request(
            "POST",
            f"dags/{dag_id}/dagRuns",
            json={
                "dag_run_id": f"catch_up__{start}__{end}__{began:%Y%m%dT%H%M%S%f}",
                "logical_date": interval[0],
                "data_interval_start": interval[0],
                "data_interval_end": interval[1],
            },
        )
        return RunRecord.from_api(run)
    except RuntimeError as error:
        if " 409 " not in str(error):
            raise
    (existing,) = dag_runs(api, dag_id, logical_date_gte=interval[0],
                           logical_date_lte=interval[0])
    same = [
        (existing.data_interval_start or "")[:19], (existing.data_interval_end or "")[:19]
    ] == [value[:19] for value in interval]
    if not same:
        raise AirflowFailed(
            f"{dag_id} already has run {existing.run_id} for {start} with data interval "
            f"[{existing.data_interval_start}, {existing.data_interval_end}); run this "
            "range as a backfill (without --catch-up) or start the catch-up another day"
        )
    from urllib.parse import quote

    api.request(
        "POST", f"dags/{dag_id}/dagRuns/{quote(existing.run_id)}/clear",
        json={"dry_run": False},
    )
    return existing


@dataclass
class Failure:
    """Why a run failed: the first failed task, its one-line cause and its log file."""

    dag_id: str
    run_id: str
    task_id: str
    cause: str
    log_path: Path

    def __str__(self) -> str:
        return f"{self.dag_id}.{self.task_id} ({self.run_id}): {self.cause}\n  log: {self.log_path}"


def failure_of(api: ApiClient, run: RunRecord, airflow_home: Path) -> Failure:
    """The failed task of ``run`` with the last error line of its log."""
    from urllib.parse import quote

    tasks = api.get(f"dags/{run.dag_id}/dagRuns/{quote(run.run_id)}/taskInstances")
    failed = [t for t in tasks["task_instances"] if t["state"] in ("failed", "upstream_failed")]
    task = next((t for t in failed if t["state"] == "failed"), failed[0] if failed else None)
    if task is None:
        return Failure(run.dag_id, run.run_id, "?", f"run {run.state}", airflow_home / "logs")
    try_number = max(1, task.get("try_number") or 1)
    log_path = (
        airflow_home / "logs" / f"dag_id={run.dag_id}" / f"run_id={run.run_id}"
        / f"task_id={task['task_id']}" / f"attempt={try_number}.log"
    )
    return Failure(run.dag_id, run.run_id, task["task_id"], last_error(log_path), log_path)


def last_error(log_path: Path) -> str:
    """The one-line cause from a task log (JSON lines): the last exception's type and
    message, else the last error event."""
    cause = "see the task log"
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return f"no task log at {log_path}"
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        for error in entry.get("error_detail") or []:
            if error.get("exc_type"):
                cause = f"{error['exc_type']}: {error.get('exc_value', '')}".strip()
        if entry.get("level") == "error" and not entry.get("error_detail") and cause == (
            "see the task log"
        ):
            cause = str(entry.get("event", cause))
    return cause.splitlines()[0] if cause else "see the task log"


def wait_for_dags(
    api: ApiClient, dag_ids: list[str], sources_end: date | None, timeout: float = 180
) -> None:
    """Wait until the dag-processor has parsed every DAG (and, for an Airflow started with
    ``CXW_SOURCES_END``, serialized the extract DAGs with that end date: a previous
    command's parse may still be the latest)."""
    deadline = time.monotonic() + timeout
    while True:
        missing = set(dag_ids) - api.dag_ids()
        stale = []
        if not missing and sources_end is not None:
            for dag_id in dag_ids:
                end_date = api.get(f"dags/{dag_id}/details").get("end_date")
                if dag_id.startswith("extract_") and (end_date or "")[:10] != str(sources_end):
                    stale.append(dag_id)
        if not missing and not stale:
            return
        if time.monotonic() > deadline:
            waiting = sorted(missing) or stale
            raise AirflowFailed(f"DAGs not (re)parsed after {timeout:.0f}s: {waiting}")
        time.sleep(1)
