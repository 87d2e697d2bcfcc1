"""A real multi-process Airflow on this machine, configured like ``docker-compose.yaml``.

The executor wiring is read from the compose file's ``x-airflow-common`` environment
(CeleryExecutor, PostgreSQL metadata database and Celery result backend, Redis broker,
Execution API URL, DAGs folder, ``CXW_HOME``) and only what must differ outside containers
is overridden:

- host names ``postgres``/``redis``/``airflow-apiserver`` -> this machine's servers on
  loopback, a fresh metadata database per run, free ports;
- ``AIRFLOW__CORE__DAGS_FOLDER`` -> this checkout's ``dags/``, ``CXW_HOME``, ``AIRFLOW_HOME``;
- the Fernet key, JWT secret and API secret key -> generated per run (never a literal);
- the Redis keys get a per-run prefix, so two clusters on one Redis never share a queue;
- every Celery worker gets its own host name and log-server port: in compose each worker
  is its own container with its own host name, here they share one machine.

Then it does what compose's ``airflow-init`` does (``airflow db migrate`` and the
``warehouse_writer`` pool) and starts the api-server, scheduler, dag-processor,
(optionally) the triggerer and N ``airflow celery worker`` processes, each in its own
process group. ``Cluster`` is a context manager: it waits until everything is healthy
and, on exit, stops every process group it started (SIGTERM, then SIGKILL after a bounded
wait), kills any straggler that carries the run's marker variable, drops the database and
removes its Redis keys; ``leftover_processes()`` tells whether anything survived.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from cxw import local_airflow
from cxw.airflow_api import ApiClient, healthy
from cxw.processes import Component, Supervisor, free_port, port_is_free
from cxw.settings import PROJECT_DIR, Settings

log = logging.getLogger(__name__)

COMPOSE_FILE = PROJECT_DIR / "docker-compose.yaml"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Every process the cluster starts carries this variable: how leftovers are found.
CLUSTER_MARKER = "CXW_CLUSTER_ID"
WORKER_HOSTNAME = "CXW_WORKER_HOSTNAME"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}
_SUBSTITUTION = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class ClusterFailed(RuntimeError):
    """The cluster did not come up (or a component died); the message names the log."""


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the workers: the host name a task instance records.

    In compose every worker is a container with its own host name; here the workers
    share the machine, so each is given one (``CXW_WORKER_HOSTNAME``).
    """
    name = os.environ.get(WORKER_HOSTNAME)
    if name:
        return name
    from airflow.utils.net import getfqdn

    return getfqdn()


# --------------------------------------------------------------------------- configuration


def compose_environment(path: Path = COMPOSE_FILE) -> dict[str, str]:
    """The ``x-airflow-common`` environment of the compose file, values as written."""
    import yaml

    compose = yaml.safe_load(path.read_text())
    environment = compose["x-airflow-common"]["environment"]
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def substitute(value: str, env: Mapping[str, str]) -> str:
    """Resolve compose ``${...}`` substitutions in ``value`` from ``env`` as compose does."""

    def resolve(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        current = env.get(name)
        # ":-" and ":?" treat an empty value as unset, "-" and "?" only a missing one.
        present = bool(current) if op in (":-", ":?") else current is not None
        if present:
            return str(current)
        if op and op.endswith("?"):
            raise ValueError(f"{name} must be set: {arg}")
        return arg if op else ""

    return _SUBSTITUTION.sub(resolve, value)


def replace_server(url: str, server: str, database: str | None = None) -> str:
    """``url`` with the user, password, host and port of ``server`` (a URL) and, if given,
    another database path; the scheme (driver) stays the compose file's."""
    parts, target = urlsplit(url), urlsplit(server)
    netloc = target.hostname or "127.0.0.1"
    if target.port:
        netloc = f"{netloc}:{target.port}"
    if target.username is not None:
        credentials = quote(target.username, safe="")
        if target.password:
            credentials += ":" + quote(target.password, safe="")
        netloc = f"{credentials}@{netloc}"
    elif parts.scheme.startswith("redis"):
        netloc = f":@{netloc}"  # keep compose's "no password" form
    path = parts.path if database is None else f"/{database}"
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


@dataclass
class ClusterPlan:
    """What one cluster run uses: servers, names, ports and secrets (generated per run)."""

    settings: Settings
    airflow_home: Path
    log_dir: Path
    workers: int = 2
    worker_concurrency: int = 2
    triggerer: bool = True
    postgres_url: str = DEFAULT_POSTGRES_URL
    redis_url: str = DEFAULT_REDIS_URL
    api_port: int = 0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("a cluster needs at least one Celery worker")
        if not self.api_port:
            self.api_port = free_port()
        self.database = f"cxw_airflow_{self.run_id}"
        self.redis_prefix = f"cxw-{self.run_id}:"
        self.scheduler_health_port = free_port()
        self.trigger_log_port = free_port()
        self.worker_log_ports = [free_port() for _ in range(self.workers)]
        self.secrets = {
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def worker_name(self, number: int) -> str:
        return f"worker{number}-{self.run_id}"

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment every component shares: compose's, with local overrides."""
        base = dict(os.environ if base is None else base)
        compose = compose_environment()
        resolved = {**base, **self.secrets}
        env = {name: substitute(value, resolved) for name, value in compose.items()}
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = replace_server(
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], self.postgres_url, self.database
        )
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = replace_server(
            env["AIRFLOW__CELERY__RESULT_BACKEND"], self.postgres_url, self.database
        )
        redis_db = urlsplit(self.redis_url).path or "/0"
        env["AIRFLOW__CELERY__BROKER_URL"] = replace_server(
            env["AIRFLOW__CELERY__BROKER_URL"], self.redis_url, redis_db.lstrip("/") or "0"
        )
        execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = urlunsplit(
            (execution.scheme, f"127.0.0.1:{self.api_port}", execution.path, "", "")
        )
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(local_airflow.DAGS_DIR)
        env["CXW_HOME"] = str(self.settings.home)
        env.update(self.secrets)
        env.update(
            {
                "AIRFLOW_HOME": str(self.airflow_home),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(
                    self.scheduler_health_port
                ),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_port),
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": self.redis_prefix,
                CLUSTER_MARKER: self.run_id,
            }
        )
        # The caller's environment (sources, AIRFLOW_CONN_*, CXW_TASK_RETRIES ...) under it.
        return local_airflow.airflow_env(self.settings, {**base, **env})

    def worker_environment(self, env: Mapping[str, str], number: int) -> dict[str, str]:
        return {
            **env,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.worker_log_ports[number - 1]),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
            WORKER_HOSTNAME: self.worker_name(number),
        }


def _since(began: float) -> float:
    return time.monotonic() - began


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# --------------------------------------------------------------------------- backends


def create_database(postgres_url: str, database: str) -> None:
    import psycopg2

    with contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'create database "{database}"')


def drop_database(postgres_url: str, database: str) -> None:
    import psycopg2

    with contextlib.closing(psycopg2.connect(postgres_url, connect_timeout=5)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'drop database if exists "{database}" with (force)')


def database_exists(postgres_url: str, database: str) -> bool:
    import psycopg2

    connection = psycopg2.connect(postgres_url, connect_timeout=5)
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", (database,))
        return cursor.fetchone() is not None


def delete_redis_keys(redis_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


# --------------------------------------------------------------------------- processes


# --------------------------------------------------------------------------- the cluster


class Cluster(Supervisor):
    """Start with ``with Cluster(plan) as cluster:``; everything stops on exit."""

    failure = ClusterFailed

    def __init__(
        self,
        plan: ClusterPlan,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 240,
        stop_timeout: float = 20,
    ) -> None:
        super().__init__(plan.run_id, CLUSTER_MARKER, start_timeout, stop_timeout)
        self.plan = plan
        self.env = plan.environment(env)
        self.started_seconds: float | None = None
        self._database_created = False

    # -- what a user needs to know

    @property
    def api_url(self) -> str:
        return self.plan.api_url

    @property
    def password_file(self) -> Path:
        return self.plan.airflow_home / "simple_auth_manager_passwords.json.generated"

    @property
    def worker_names(self) -> list[str]:
        return [self.plan.worker_name(n) for n in range(1, self.plan.workers + 1)]

    @property
    def metadata_url(self) -> str:
        return self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]

    # -- lifecycle

    def start(self) -> None:
        began = time.monotonic()
        plan = self.plan
        plan.airflow_home.mkdir(parents=True, exist_ok=True)
        plan.log_dir.mkdir(parents=True, exist_ok=True)
        if plan.api_port and not port_is_free(plan.api_port):
            raise ClusterFailed(f"port {plan.api_port} is in use: choose another")
        create_database(plan.postgres_url, plan.database)
        self._database_created = True
        # compose's airflow-init: migrate the metadata database, create the writer pool
        # (the pool while the components start: nothing runs before the cluster is up).
        local_airflow.run_airflow(plan.settings, "db", "migrate", env=self.env)
        log.info("metadata database %s migrated after %.1fs", plan.database, _since(began))
        self.components = self._components()
        for component in self.components:
            component.start()
        local_airflow.create_warehouse_pool(plan.settings, env=self.env)
        deadline = began + self.start_timeout
        self.wait_until(self._api_healthy, deadline,
                        "the api-server, scheduler and dag-processor")
        log.info("api-server, scheduler and dag-processor healthy after %.1fs", _since(began))
        self.wait_until(self._workers_answer, deadline, f"Celery workers {self.worker_names}")
        self.started_seconds = time.monotonic() - began
        log.info("cluster up in %.1fs at %s", self.started_seconds, self.api_url)

    def stop(self) -> None:
        plan = self.plan
        try:
            super().stop()
        finally:
            if self._database_created:
                drop_database(plan.postgres_url, plan.database)
                self._database_created = False
            with contextlib.suppress(Exception):
                delete_redis_keys(plan.redis_url, plan.redis_prefix)

    def _components(self) -> list[Component]:
        plan, env = self.plan, self.env
        airflow, logs = local_airflow.airflow_executable(), plan.log_dir
        components = [
            Component(
                "api-server",
                [airflow, "api-server", "--host", "127.0.0.1", "--port", str(plan.api_port)],
                env,
                logs / "api-server.log",
            ),
            Component("scheduler", [airflow, "scheduler"], env, logs / "scheduler.log"),
            Component("dag-processor", [airflow, "dag-processor"], env,
                      logs / "dag-processor.log"),
        ]
        if plan.triggerer:
            components.append(
                Component("triggerer", [airflow, "triggerer"], env, logs / "triggerer.log")
            )
        for number in range(1, plan.workers + 1):
            name = plan.worker_name(number)
            components.append(
                Component(
                    name,
                    [
                        airflow,
                        "celery",
                        "worker",
                        "--celery-hostname",
                        f"{name}@%h",
                        "--concurrency",
                        str(plan.worker_concurrency),
                    ],
                    plan.worker_environment(env, number),
                    logs / f"{name}.log",
                )
            )
        return components

    def _api_healthy(self) -> bool:
        needed = ["metadatabase", "scheduler", "dag_processor"]
        if self.plan.triggerer:
            needed.append("triggerer")
        return healthy(self.api_url, needed) and self.password_file.exists()

    def ping_workers(self, timeout: float = 2.0) -> set[str]:
        """Names of the workers that answer a Celery ping through the broker."""
        from celery import Celery

        app = Celery(
            broker=self.env["AIRFLOW__CELERY__BROKER_URL"],
            broker_transport_options={"global_keyprefix": self.plan.redis_prefix},
        )
        try:
            replies = app.control.ping(timeout=timeout)
        finally:
            app.close()
        answered = {name.split("@", 1)[0] for reply in replies for name in reply}
        return answered & set(self.worker_names)

    def _workers_answer(self) -> bool:
        try:
            return self.ping_workers() == set(self.worker_names)
        except Exception as error:  # the broker connection may not be ready yet
            log.debug("worker ping failed: %s", error)
            return False

    # -- the REST API, as a user (simple auth manager, the generated admin password)

    def api(self) -> ApiClient:
        return ApiClient(self.api_url, self.password_file)


# --------------------------------------------------------------------------- cxw cluster


def serve(
    settings: Settings,
    workers: int = 2,
    concurrency: int = 2,
    port: int = 8080,
    postgres_url: str | None = None,
    redis_url: str | None = None,
    triggerer: bool = True,
    env: Mapping[str, str] | None = None,
    notes: str = "",
) -> None:
    """``cxw cluster``: start the cluster, say how to reach it (and ``notes``), run until
    Ctrl-C.

    The sources come from ``env`` (default: this process's environment), as in compose
    (``AIRFLOW_CONN_*``, ``CXW_WEB_EXPORT_PATH`` ...).
    """
    airflow_home = settings.home / "cluster" / "airflow"
    plan = ClusterPlan(
        settings=settings,
        airflow_home=airflow_home,
        log_dir=airflow_home / "cluster-logs",
        workers=workers,
        worker_concurrency=concurrency,
        triggerer=triggerer,
        postgres_url=postgres_url
        or os.environ.get("CXW_CLUSTER_POSTGRES_URL")
        or DEFAULT_POSTGRES_URL,
        redis_url=redis_url or os.environ.get("CXW_CLUSTER_REDIS_URL") or DEFAULT_REDIS_URL,
        api_port=port,
    )
    # `kill` (SIGTERM) stops the cluster as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    cluster: Cluster | None = None
    try:
        print(
            f"Starting Airflow (CeleryExecutor, {workers} Celery worker(s)) from "
            f"docker-compose.yaml's configuration; metadata database {plan.database} ...",
            flush=True,
        )
        with Cluster(plan, env=env) as cluster:
            _print_welcome(cluster, notes)
            while True:
                cluster.ensure_alive()
                time.sleep(2)
    except KeyboardInterrupt:
        left = cluster.leftover_processes() if cluster else []
        state = f"{len(left)} process(es) left: {left}" if left else "no cluster process is left"
        print(f"\nStopped: {state}; metadata database {plan.database} dropped.")


def _print_welcome(cluster: Cluster, notes: str) -> None:
    plan = cluster.plan
    broker = _without_password(cluster.env["AIRFLOW__CELERY__BROKER_URL"])
    print(f"Up in {cluster.started_seconds:.0f}s.")
    print(f"  UI and REST API  {cluster.api_url}")
    print(f"  login            admin / the password in {cluster.password_file}")
    print(f"  metadata DB      {_without_password(cluster.metadata_url)}")
    print(f"  broker           {broker} (keys prefixed {plan.redis_prefix})")
    print(f"  Celery workers   {', '.join(cluster.worker_names)}")
    print(f"  CXW_HOME         {plan.settings.home}")
    print(f"  process logs     {plan.log_dir}")
    print("The DAGs are paused at creation, as in docker-compose.yaml: unpause them in the UI.")
    if notes:
        print(notes)
    print("Ctrl-C stops every process and drops the metadata database.", flush=True)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
