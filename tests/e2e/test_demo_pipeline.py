"""The whole pipeline through Airflow on a small demo company: all four extract DAGs and
the transform DAG on a real scheduler (``cxw run``'s path: a catch-up of the period, then a
one-day backfill), then what a data team relies on:

- the runs are the scheduler's, with the data intervals asked for and real durations, and
  the marts equal those of the same task functions called directly;

- service.tickets agrees with metrics computed independently from the raw helpdesk
  audits (pandas here, the simulator's own business calendar for business minutes);
- rerunning a day leaves every mart equal in content;
- a reader holding the published warehouse open keeps reading during a rebuild;
- a failed build leaves the last good warehouse published.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cxw import local_airflow
from cxw.cli import run_range, show
from cxw.settings import Settings
from cxw.warehouse import mart_row_counts
from cxw_demo.business_time import BusinessClock, holidays_for
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from cxw_demo.run import demo_environment

pytestmark = pytest.mark.e2e

START, END = date(2026, 5, 1), date(2026, 5, 28)


def mart_digests(path: Path) -> dict[str, str]:
    """A content digest of every mart table (row order does not matter)."""
    digests = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('service', 'experience') order by 1"
        ).fetchall()
        for (table,) in tables:
            frame = connection.sql(f"select * from {table}").df()  # noqa: S608
            rows = sorted(frame.astype(str).itertuples(index=False, name=None))
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("cxw")
    # Where `make demo` keeps its company: `make airflow` finds it there afterwards.
    sources = home / "demo" / "sources"
    generate(sources, 120, START, END, seed=7)
    moment = datetime.combine(END + timedelta(days=1), datetime.min.time(), UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(home))
        settings = Settings.from_env()
        with HelpdeskServer(sources / "helpdesk", token="e2e-token",
                            now=int(moment.timestamp())) as server:
            env = {
                **demo_environment(sources, server.url, "e2e-token", base=os.environ),
                "AIRFLOW_HOME": str(home / "airflow"),
                "CXW_TASK_RETRIES": "0",
            }
            began = datetime.now(UTC)
            result = run_range(settings, START, END, env=env, catch_up=True)
            yield settings, sources, env, server, result, began


def test_every_mart_is_published_and_validated(demo_run) -> None:
    settings, *_ = demo_run
    counts = mart_row_counts(settings.published_path)
    for table in ("service.tickets", "service.daily_kpis", "service.agents",
                  "service.sla_events", "service.ticket_backlog",
                  "experience.customers", "experience.touchpoints", "experience.sessions",
                  "experience.monthly_kpis", "experience.cohort_retention",
                  "experience.service_impact"):
        assert counts.get(table, 0) > 0, table
        results = settings.reports_dir / "validation" / "marts" / f"{table}.json"
        assert json.loads(results.read_text())["success"], table
    assert (settings.reports_dir / "dashboard.html").exists()
    assert (settings.reports_dir / "dbt-docs.html").exists()



def test_the_printed_numbers_are_the_marts_and_the_reports_exist(demo_run, capsys) -> None:
    """What `make demo` / `cxw show` print is what an analyst reads from the marts."""
    settings, *_ = demo_run
    show(settings)
    printed = capsys.readouterr().out
    # "  <label, 38 wide><value, 12 wide>  <unit and base>"
    lines = {
        line[2:40].strip(): (line[40:52].strip(), line[54:])
        for line in printed.splitlines() if line[:2] == "  " and len(line) > 54
    }
    with duckdb.connect(str(settings.published_path), read_only=True) as connection:
        tickets, breach_rate = connection.execute(
            "select count(*), avg(is_first_reply_sla_breached::int) from service.tickets"
        ).fetchone()
        (customers,) = connection.execute("select count(*) from experience.customers").fetchone()
        # NPS over every answer, as experience.monthly_kpis and MetricFlow count it.
        (nps,) = connection.execute(
            "select 100.0 * (count(*) filter (score >= 9) - count(*) filter (score <= 6)) "
            "/ count(*) from semantic.survey_answers where survey_type = 'nps'"
        ).fetchone()
    assert lines["Tickets"][0] == f"{tickets:,d}"
    assert lines["Customers"][0] == f"{customers:,d}"
    assert lines["First-reply SLA breach rate"] == (
        f"{breach_rate:.1%}", "of tickets with an SLA policy"
    )
    assert lines["NPS"] == (f"{nps:.1f}", "-100 to 100, of all NPS answers")
    assert lines["First reply, median"][1] == "business minutes, of replied tickets"
    freshness = json.loads((settings.reports_dir / "source-freshness.json").read_text())
    assert {entry["status"] for entry in freshness} <= {"pass", "no rows"}  # landed just now
    for report in ("dashboard.html", "dbt-docs.html", "gx-data-docs/index.html"):
        path = settings.reports_dir / report
        assert str(path) in printed and path.exists(), report

def independent_ticket_metrics(sources: Path) -> pd.DataFrame:
    """First reply, replies and reopens straight from the audits the helpdesk serves."""
    users = pd.DataFrame(json.loads((sources / "helpdesk" / "users.json").read_text()))
    agents = set(users.loc[users["role"].isin(["agent", "admin"]), "id"])
    rows = []
    with open(sources / "helpdesk" / "ticket_events.jsonl") as handle:
        audits = [json.loads(line) for line in handle]
    for audit in sorted(audits, key=lambda a: (a["ticket_id"], a["timestamp"], a["id"])):
        for child in audit["child_events"]:
            rows.append({"ticket_id": audit["ticket_id"], "at": audit["timestamp"],
                         "audit_id": audit["id"], "child_id": child["id"], **child})
    events = pd.DataFrame(rows)
    comments = events[events["event_type"] == "Comment"].copy()
    comments["number"] = comments.groupby("ticket_id").cumcount()
    replies = comments[
        (comments["number"] > 0) & comments["public"].astype(bool)
        & comments["author_id"].isin(agents)
    ]
    created = events.groupby("ticket_id")["at"].min()
    first_reply = replies.groupby("ticket_id")["at"].min()
    status = events[events["field_name"] == "status"]
    reopens = status[
        (status["event_type"] == "Change") & (status["previous_value"] == "solved")
        & status["value"].isin(["new", "open", "pending", "hold"])
    ].groupby("ticket_id").size()
    return pd.DataFrame({
        "created": created,
        "first_reply": first_reply,
        "agent_reply_count": replies.groupby("ticket_id").size(),
        "reopen_count": reopens,
    }).fillna({"agent_reply_count": 0, "reopen_count": 0})


def test_ticket_metrics_match_an_independent_computation(demo_run) -> None:
    settings, sources, *_ = demo_run
    expected = independent_ticket_metrics(sources)
    with duckdb.connect(str(settings.published_path), read_only=True) as connection:
        tickets = connection.sql("select * from service.tickets").df().set_index("ticket_id")
    assert set(tickets.index) == set(expected.index)
    joined = tickets.join(expected, rsuffix="_expected")
    replied = joined[joined["first_reply"].notna()]
    assert len(replied) >= 5
    calendar = (replied["first_reply"] - replied["created"]) / 60
    assert np.allclose(replied["first_reply_minutes"], calendar)
    assert (joined["agent_reply_count"] == joined["agent_reply_count_expected"]).all()
    assert (joined["reopen_count"] == joined["reopen_count_expected"]).all()
    assert joined["first_reply_minutes"].isna().equals(joined["first_reply"].isna())

    # Business minutes by the simulator's own calendar (minute resolution: within 1 min).
    start, end = int(replied["created"].min()), int(replied["first_reply"].max())
    clock = BusinessClock(start - 86400, end + 86400, holidays_for(range(2026, 2027)))
    for ticket in replied.itertuples():
        minutes = np.arange(int(ticket.created), int(ticket.first_reply), 60)
        business = int(clock.is_business_time(minutes).sum()) if len(minutes) else 0
        assert abs(ticket.first_reply_business_minutes - business) <= 1, ticket.Index


def test_the_runs_were_the_schedulers_with_real_durations(demo_run) -> None:
    """What the metadata database (through the REST API) says about the catch-up."""
    *_, result, began = demo_run
    ended = datetime.now(UTC)
    # One triggered run per extract DAG whose data interval is the whole period
    # [2026-05-01, 2026-05-29), not `dags test` runs.
    assert sorted(run.dag_id for run in result.extract_runs) == [
        "extract_helpdesk", "extract_orders", "extract_surveys", "extract_web"
    ]
    for run in result.extract_runs:
        assert (run.run_type, run.state) == ("manual", "success"), run
        assert run.data_interval_start.startswith("2026-05-01T00:00:00"), run
        assert run.data_interval_end.startswith("2026-05-29T00:00:00"), run
    # transform: triggered by the four assets, as scheduled.
    transform = result.transform_run
    assert (transform.run_type, transform.state) == ("asset_triggered", "success")
    for run in [*result.extract_runs, transform]:
        start, end = (datetime.fromisoformat(t) for t in (run.start_date, run.end_date))
        # Real start and end: inside this test's run (not the past logical date), and the
        # duration Airflow shows is end - start.
        assert began <= start <= end <= ended, run
        assert run.duration == pytest.approx((end - start).total_seconds(), abs=0.01), run


def test_the_marts_equal_the_task_functions_called_directly(demo_run, tmp_path) -> None:
    """Airflow changes nothing in the numbers: the same four extracts and the build,
    called in this process on a fresh home with the same sources, publish equal marts."""
    from benchmarks.run import run_stages

    settings, _, env, *_ = demo_run
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AIRFLOW_CONN_ORDERS_DB", "AIRFLOW_CONN_HELPDESK_API",
                     "CXW_WEB_EXPORT_PATH", "CXW_SURVEY_DROP_PATH", "CXW_EMAIL_SALT"):
            patch.setenv(name, env[name])
        patch.setenv("CXW_HOME", str(tmp_path / "direct"))
        run_stages(START, END)
        direct = Settings.from_env().published_path
        assert mart_digests(direct) == mart_digests(settings.published_path)


def test_rerun_of_a_day_keeps_marts_equal_and_readers_reading(demo_run) -> None:
    settings, _, env, *_ = demo_run
    before = mart_digests(settings.published_path)
    reader = duckdb.connect(str(settings.published_path), read_only=True)
    count = reader.execute("select count(*) from service.tickets").fetchall()[0][0]

    # The last day again, as an Airflow backfill (one run per extract DAG, then transform).
    result = run_range(settings, END, END, env=env)
    assert {run.run_type for run in result.extract_runs} == {"backfill"}
    assert result.transform_run.state == "success"

    assert reader.execute("select count(*) from service.tickets").fetchall()[0][0] == count
    reader.close()
    assert mart_digests(settings.published_path) == before


def test_a_failed_build_leaves_the_last_good_warehouse_published(demo_run) -> None:
    settings, _, env, *_ = demo_run
    published = settings.published_path.read_bytes()
    broken = {**env, "CXW_DBT_TARGET": "no_such_target"}
    with pytest.raises(local_airflow.AirflowFailed, match="no_such_target"):
        local_airflow.run_dag(settings, "transform", END, env=broken)
    assert settings.published_path.read_bytes() == published


def test_after_the_demo_make_airflow_shows_the_sources_and_runs_a_day(demo_run) -> None:
    """`make airflow` (`python -m cxw_demo airflow`) after the demo: the four sources are
    connections, the demo helpdesk is served, a rejected API token fails its task at once
    (no retry although it has 2) with the cause and the log file, unpaused and triggered
    for the last day every DAG run succeeds, and SIGTERM stops every process it started.
    Checked through the REST API."""
    import signal
    import subprocess
    import sys

    import psutil

    from cxw.cli import wait_for_extracts, wait_for_transform
    from cxw.processes import free_port

    settings, *_ = demo_run
    airflow_home = settings.home / "airflow"
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW_CONN_", "CXW_WEB", "CXW_SURVEY"))
    }
    env.update({"CXW_HOME": str(settings.home), "AIRFLOW_HOME": str(airflow_home),
                "CXW_TASK_RETRIES": "2"})
    command = subprocess.Popen(
        [sys.executable, "-m", "cxw_demo", "airflow", "--port", str(free_port())],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        endpoint = None
        while endpoint is None:
            assert command.poll() is None, command.stdout.read()
            time.sleep(1)
            endpoint = local_airflow.running_endpoint(airflow_home)
        api = endpoint.api()
        connections = {c["connection_id"] for c in api.get("connections")["connections"]}
        assert {"helpdesk_api", "orders_db", "web_export", "survey_drop"} <= connections
        extract_dags = ["extract_helpdesk", "extract_web", "extract_orders", "extract_surveys"]
        for dag_id in [*extract_dags, "transform"]:
            api.set_paused(dag_id, False)
        alive = lambda: None  # noqa: E731 - the loops only need a check hook

        # A rejected token (401 from the helpdesk) is permanent: failed after one try.
        helpdesk = api.get("connections/helpdesk_api")
        # The token `cxw airflow` generated, from the file it imported (owner-only).
        imported = json.loads((airflow_home / "source-connections.json").read_text())
        token = imported["helpdesk_api"]["password"]
        api.request("PATCH", "connections/helpdesk_api", params={"update_mask": "password"},
                    json={"connection_id": "helpdesk_api", "conn_type": helpdesk["conn_type"],
                          "password": "not-the-token"})
        since = datetime.now(UTC)
        # (The day's backfill run from the rerun test, cleared: it runs again.)
        run = local_airflow.trigger_window(api, "extract_helpdesk", END, END)
        where = {"run_id": run.run_id}
        (failed,) = wait_for_extracts(api, {"extract_helpdesk": where}, since, 1, 2, alive)
        assert failed.state == "failed"
        tasks = api.get(f"dags/extract_helpdesk/dagRuns/{failed.run_id}/taskInstances")[
            "task_instances"]
        (task,) = [task for task in tasks if task["state"] == "failed"]
        # The settings check, the DAG's first task, finds the rejected token before any
        # extraction starts; it failed for good while tries were left (a transient error
        # would be up_for_retry).
        assert task["task_id"] == "check_settings", task
        assert task["try_number"] < task["max_tries"], task
        failure = local_airflow.failure_of(api, failed, airflow_home)
        assert "ConfigError" in failure.cause and "401" in failure.cause, failure.cause
        assert failure.log_path.is_file()
        assert "not-the-token" not in failure.log_path.read_text()
        api.request("PATCH", "connections/helpdesk_api", params={"update_mask": "password"},
                    json={"connection_id": "helpdesk_api", "conn_type": helpdesk["conn_type"],
                          "password": token})

        since = datetime.now(UTC)
        wheres = {
            dag_id: {"run_id": local_airflow.trigger_window(api, dag_id, END, END).run_id}
            for dag_id in extract_dags
        }
        runs = wait_for_extracts(api, wheres, since, 1, 2, alive)
        assert [run.state for run in runs] == ["success"] * 4, runs
        assert wait_for_transform(api, since, END, 2, alive).state == "success"
    finally:
        command.send_signal(signal.SIGTERM)
        output, _ = command.communicate(timeout=120)
    assert command.returncode in (0, 130), output
    left = [
        process for process in psutil.process_iter()
        if _environ(process).get("AIRFLOW_HOME") == str(airflow_home)
    ]
    assert left == [], left


def _environ(process) -> dict[str, str]:
    import psutil

    try:
        return process.environ()
    except psutil.Error:
        return {}
