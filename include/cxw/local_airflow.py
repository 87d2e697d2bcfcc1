"""Running the project's DAGs through a local Airflow (SQLite metadata, examples off).

The local Airflow home lives inside the project (``.airflow/``, ignored by git) unless
``AIRFLOW_HOME`` says otherwise. Every Airflow command the CLI runs goes through
``run_airflow`` so that it sees the same configuration a user's shell would get from
``make airflow``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from cxw.dag_defaults import WAREHOUSE_POOL
from cxw.settings import PROJECT_DIR, Settings

log = logging.getLogger(__name__)

DAGS_DIR = PROJECT_DIR / "dags"
DEFAULT_AIRFLOW_HOME = PROJECT_DIR / ".airflow"
# One slot: one task at a time opens the DuckDB warehouse (docker-compose.yaml's airflow-init
# creates the same pool). A scheduler leaves tasks of a pool that does not exist unscheduled.
WAREHOUSE_POOL_SLOTS = 1
WAREHOUSE_POOL_DESCRIPTION = "single DuckDB writer"


class AirflowFailed(RuntimeError):
    """An Airflow command exited non-zero; the message carries the tail of its output."""


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
