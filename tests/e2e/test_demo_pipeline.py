"""The whole pipeline through Airflow on a small demo company: all four extract DAGs and
the transform DAG, then what a data team relies on:

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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cxw import local_airflow
from cxw.cli import demo_environment, run_range, show
from cxw.settings import Settings
from cxw.warehouse import mart_row_counts
from cxw_demo.business_time import BusinessClock, holidays_for
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer

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
    sources = tmp_path_factory.mktemp("sources")
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
            run_range(settings, START, END, env=env)
            yield settings, sources, env, server


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
    """What `cxw demo` / `cxw show` print is what an analyst reads from the marts."""
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


def test_rerun_of_a_day_keeps_marts_equal_and_readers_reading(demo_run) -> None:
    settings, _, env, _ = demo_run
    before = mart_digests(settings.published_path)
    reader = duckdb.connect(str(settings.published_path), read_only=True)
    count = reader.execute("select count(*) from service.tickets").fetchall()[0][0]

    run_range(settings, END, END, env=env, daily=True)

    assert reader.execute("select count(*) from service.tickets").fetchall()[0][0] == count
    reader.close()
    assert mart_digests(settings.published_path) == before


def test_a_failed_build_leaves_the_last_good_warehouse_published(demo_run) -> None:
    settings, _, env, _ = demo_run
    published = settings.published_path.read_bytes()
    broken = {**env, "CXW_DBT_TARGET": "no_such_target"}
    with pytest.raises(local_airflow.AirflowFailed, match="no_such_target"):
        local_airflow.run_dag(settings, "transform", END, env=broken)
    assert settings.published_path.read_bytes() == published
