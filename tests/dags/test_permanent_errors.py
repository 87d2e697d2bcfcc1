"""A task raising ``cxw.errors.PermanentError`` fails at once, without its retries; any other
error keeps them. Run through Airflow's own task runner (``dag.test()``: the real retry
policy and retry bookkeeping) on a throwaway metadata database, with the project's
DEFAULT_ARGS, in a child process so that its Airflow configuration is the test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cxw.local_airflow import airflow_env, migrate_metadata_db
from cxw.settings import Settings

PROBE = '''
import json, os, sys
from datetime import timedelta
from pathlib import Path

from airflow.sdk import dag, task

from cxw.dag_defaults import DEFAULT_ARGS, START_DATE
from cxw.pipeline import MissingSetting

ARGS = {**DEFAULT_ARGS, "retries": 2, "retry_delay": timedelta(0),
        "retry_exponential_backoff": False}


def probe(error):
    @dag(dag_id=f"probe_{error.__name__}", schedule=None, start_date=START_DATE,
         default_args=ARGS)
    def make():
        @task
        def flaky() -> None:
            attempts = Path(os.environ["CXW_PROBE_ATTEMPTS"])
            attempts.write_text(attempts.read_text() + "x")
            if len(attempts.read_text()) == 1:
                raise error("the first try fails")

        flaky()

    return make()


DAGS = {error.__name__: probe(error) for error in (MissingSetting, TimeoutError)}

if __name__ == "__main__":
    (ti,) = DAGS[sys.argv[1]].test().get_task_instances()
    print("RESULT " + json.dumps([str(ti.state), ti.try_number]))
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow")
    dags = home / "dags"
    dags.mkdir()
    (dags / "probe.py").write_text(PROBE)
    env = airflow_env(Settings.from_env(), {"AIRFLOW_HOME": str(home), **_base()})
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    migrate_metadata_db(Settings.from_env(), env=env)
    return env


def _base() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


def run_once(env: dict[str, str], error: str, tmp_path: Path) -> tuple[str, int, int]:
    """(final state, try number, attempts made) of a task that raises ``error`` on its
    first try and succeeds after."""
    attempts = tmp_path / "attempts"
    attempts.write_text("")
    probe = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / "probe.py"
    done = subprocess.run(
        [sys.executable, str(probe), error],
        env={**env, "CXW_PROBE_ATTEMPTS": str(attempts)},
        capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    state, try_number = json.loads(lines[-1][len("RESULT "):])
    return state, try_number, len(attempts.read_text())


def test_a_permanent_error_fails_the_task_without_retrying(env, tmp_path) -> None:
    # A missing setting is a PermanentError: one attempt, then failed, although the task
    # has 2 retries left.
    assert run_once(env, "MissingSetting", tmp_path) == ("failed", 1, 1)


def test_a_transient_error_is_retried(env, tmp_path) -> None:
    # A timeout: the first try fails, the retry (try 2) succeeds.
    assert run_once(env, "TimeoutError", tmp_path) == ("success", 2, 2)
