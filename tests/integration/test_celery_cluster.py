"""The project's DAGs, unchanged, on a real multi-process Airflow with two Celery workers.

The cluster (``cxw.cluster``) is docker-compose.yaml's configuration on this machine's
PostgreSQL (a fresh metadata database) and Redis: api-server, scheduler, dag-processor
and two ``airflow celery worker`` processes. The test generates a small demo company,
serves its helpdesk on loopback, triggers the four extract DAGs for the period through the
REST API as a user would, waits for them and the asset-triggered ``transform`` run, and
checks that the tasks ran on both workers and that the published marts hold what the
sources hold. Everything it started is stopped, and nothing is left running.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxw.cli import EXTRACT_DAGS, TRANSFORM_DAG
from cxw.cluster import Cluster, ClusterPlan, database_exists
from cxw.processes import log_tail
from cxw.settings import Settings
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from cxw_demo.run import demo_environment
from tests.conftest import POSTGRES, require_service

pytestmark = pytest.mark.e2e

START, END = date(2026, 5, 1), date(2026, 5, 10)
CUSTOMERS = 300
TOKEN = "cluster-token"
RUNS_TIMEOUT = 8 * 60  # seconds for the extract runs and the transform run together
TERMINAL = {"success", "failed"}


def postgres_admin_url() -> str:
    return (
        f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}"
        f"/{POSTGRES['dbname']}"
    )


def redis_url() -> str:
    host = os.environ.get("CXW_TEST_REDIS_HOST", "127.0.0.1")
    port = os.environ.get("CXW_TEST_REDIS_PORT", "6379")
    return f"redis://{host}:{port}/0"


def require_postgres_and_redis() -> None:
    import psycopg2
    import redis

    try:
        psycopg2.connect(postgres_admin_url(), connect_timeout=3).close()
    except psycopg2.OperationalError as error:
        require_service("PostgreSQL", False, f"{postgres_admin_url()}: {error}")
    try:
        redis.Redis.from_url(redis_url(), socket_timeout=3).ping()
    except redis.RedisError as error:
        require_service("Redis", False, f"{redis_url()}: {error}")


def wait_for_runs(api: Any, deadline: float) -> dict[str, list[dict]]:
    """Poll until every extract run and a transform run have finished; fail fast on a
    failed run. Returns the runs of every DAG."""
    while True:
        runs = {
            dag_id: api.get(f"dags/{dag_id}/dagRuns", limit=50)["dag_runs"]
            for dag_id in (*EXTRACT_DAGS, TRANSFORM_DAG)
        }
        failed = [
            f"{run['dag_id']} {run['dag_run_id']}"
            for dag_runs in runs.values()
            for run in dag_runs
            if run["state"] == "failed"
        ]
        assert not failed, f"failed runs: {failed}"
        finished = all(
            dag_runs and all(run["state"] in TERMINAL for run in dag_runs)
            for dag_runs in runs.values()
        )
        if finished:
            return runs
        if time.monotonic() > deadline:
            states = {d: [r["state"] for r in dag_runs] for d, dag_runs in runs.items()}
            raise AssertionError(f"runs not finished after {RUNS_TIMEOUT}s: {states}")
        time.sleep(3)


def task_instances(api: Any, runs: dict[str, list[dict]]) -> list[dict]:
    return [
        ti
        for dag_id, dag_runs in runs.items()
        for run in dag_runs
        for ti in api.get(f"dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances")[
            "task_instances"
        ]
    ]


def source_ticket_ids(sources: Path) -> set[int]:
    with open(sources / "helpdesk" / "ticket_events.jsonl") as handle:
        return {json.loads(line)["ticket_id"] for line in handle}


def source_daily_orders(sources: Path) -> list[tuple]:
    """experience.daily_orders computed straight from the shop's database (UTC days;
    cancelled orders do not count)."""
    with sqlite3.connect(sources / "shop.db") as connection:
        rows = connection.execute(
            "select date(placed_at), count(*), count(distinct customer_id), sum(total) "
            "from orders where status != 'cancelled' group by 1 order by 1"
        ).fetchall()
    return [
        (date.fromisoformat(day), placed, customers, Decimal(str(total)).quantize(Decimal("0.01")))
        for day, placed, customers, total in rows
    ]


def print_logs(log_dir: Path) -> None:
    for path in sorted(log_dir.glob("*.log")):
        print(f"\n===== {path.name} (last 60 lines) =====\n{log_tail(path, 60)}")


def test_the_dags_run_unchanged_on_two_celery_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_postgres_and_redis()
    began = time.monotonic()
    sources = tmp_path / "sources"
    generate(sources, CUSTOMERS, START, END, seed=11)
    monkeypatch.setenv("CXW_HOME", str(tmp_path / "cxw"))
    settings = Settings.from_env()
    plan = ClusterPlan(
        settings=settings,
        airflow_home=tmp_path / "airflow",
        log_dir=tmp_path / "logs",
        workers=2,
        # One task at a time per worker: the four extract tasks queued together must
        # spread over both workers.
        worker_concurrency=1,
        triggerer=False,  # no deferrable task in these DAGs
        postgres_url=postgres_admin_url(),
        redis_url=redis_url(),
    )
    moment = datetime.combine(END + timedelta(days=1), datetime.min.time(), UTC)
    with HelpdeskServer(sources / "helpdesk", token=TOKEN, now=int(moment.timestamp())) as server:
        env = {
            **demo_environment(sources, server.url, TOKEN, base=os.environ),
            "CXW_TASK_RETRIES": "0",
        }
        cluster = Cluster(plan, env=env)
        try:
            with cluster:
                print(f"cluster up in {cluster.started_seconds:.1f}s at {cluster.api_url}")
                api = cluster.api()
                api.wait_for_dags([*EXTRACT_DAGS, TRANSFORM_DAG])
                # A catch-up over the period, as the run that is due now: its logical date
                # is the DAG's next one, so the scheduler adds no run of its own for it.
                window = {
                    "window_start": START.isoformat(),
                    "window_end": (END + timedelta(days=1)).isoformat(),
                }
                for dag_id in EXTRACT_DAGS:
                    due = api.get(f"dags/{dag_id}")["next_dagrun_logical_date"]
                    api.trigger(dag_id, due, conf=window)
                # The transform DAG first: asset events queue runs only for unpaused DAGs.
                for dag_id in (TRANSFORM_DAG, *EXTRACT_DAGS):
                    api.set_paused(dag_id, False)
                runs_began = time.monotonic()
                runs = wait_for_runs(api, runs_began + RUNS_TIMEOUT)
                runs_seconds = time.monotonic() - runs_began
                tis = task_instances(api, runs)
        except BaseException:
            print_logs(plan.log_dir)
            raise

    print(f"runs took {runs_seconds:.1f}s; whole test {time.monotonic() - began:.1f}s")
    for ti in sorted(tis, key=lambda ti: ti["start_date"] or ""):
        print(f"  {ti['dag_id'] + '.' + ti['task_id']:<32} {ti['state']:<8} on {ti['hostname']}")

    # Everything it started is stopped; the metadata database is gone.
    assert cluster.leftover_processes() == []
    assert not database_exists(postgres_admin_url(), plan.database)

    # One run per extract DAG (the triggered catch-up) and one asset-triggered transform.
    for dag_id in EXTRACT_DAGS:
        assert [run["run_type"] for run in runs[dag_id]] == ["manual"], dag_id
    assert [run["run_type"] for run in runs[TRANSFORM_DAG]] == ["asset_triggered"]
    assert all(run["state"] == "success" for r in runs.values() for run in r)
    assert tis and all(ti["state"] == "success" for ti in tis)
    assert {ti["task_id"] for ti in tis if ti["dag_id"] == TRANSFORM_DAG} == {
        "build_warehouse",
        "validate_marts",
        "publish",
        "source_freshness",
        "build_reports",
    }
    assert all(ti["pool"] == "warehouse_writer" for ti in tis if ti["dag_id"] == TRANSFORM_DAG)
    # Both workers ran tasks, and only the workers did.
    assert {ti["hostname"] for ti in tis} == set(cluster.worker_names)

    # The published marts hold what the sources hold.
    with duckdb.connect(str(settings.published_path), read_only=True) as warehouse:
        tickets = {
            row[0] for row in warehouse.execute("select ticket_id from service.tickets").fetchall()
        }
        daily_orders = warehouse.execute(
            "select order_date, orders_placed, ordering_customers, gross_revenue "
            "from experience.daily_orders order by order_date"
        ).fetchall()
        customers = warehouse.execute("select count(*) from experience.customers").fetchone()[0]
    assert tickets == source_ticket_ids(sources)
    assert daily_orders == source_daily_orders(sources)
    with sqlite3.connect(sources / "shop.db") as shop:
        assert customers == shop.execute("select count(*) from customers").fetchone()[0]
    assert (settings.reports_dir / "dashboard.html").exists()
