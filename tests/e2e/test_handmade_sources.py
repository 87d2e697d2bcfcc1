"""All four sources, hand-made, through Airflow: the marts hold the numbers a reader
computes by hand from the files in ``tests/handmade/`` (see its README for the story).

Monday 2026-02-02 and Tuesday 2026-02-03 run as the daily schedule runs them (an Airflow
backfill of each day on one local Airflow: the four extract DAGs, then the transform DAG
their assets trigger), with the
sources as they stood after each day: the orders database gets Tuesday's changes
(``orders_day2.sql``) before Tuesday's run, the survey platform drops each day's export
after that day, and the helpdesk (served over HTTP in the Zendesk format) answers as of
half past midnight after each day. Monday's published warehouse is kept to check what
the marts said on Monday; Tuesday's is the final one.

Business hours are Monday to Friday 09:00-17:00 in "London", which is UTC in February,
so business minutes are read straight off the UTC times below.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest

from cxw.cli import run_range
from cxw.dag_defaults import SOURCES_END_SETTING
from cxw.local_airflow import LocalAirflow
from cxw.settings import Settings
from cxw_demo.helpdesk_server import HelpdeskServer
from tests.handmade.shop import HANDMADE, apply_days, create_orders_db

pytestmark = pytest.mark.e2e

MONDAY, TUESDAY = date(2026, 2, 2), date(2026, 2, 3)
SALT = "handmade-salt"
TOKEN = "handmade-token"
ORDER_FIELD_ID = 360000000001  # helpdesk/meta.json
# GA4 session keys: user_pseudo_id - ga_session_id (the session's start, unix seconds)
ADA_MORNING = "111111111.1770019200-1770019200"  # Monday 08:00, anonymous
ADA_NOON = "111111111.1770019200-1770033600"  # Monday 12:00, logs in as 1
VISITOR = "222222222.1770044400-1770044400"  # Monday 15:00, never logs in
KATHERINE = "444444444.1770133800-1770133800"  # Tuesday 15:50, logs in as 4


def at(text: str) -> datetime:
    """A mart timestamp (UTC, naive as DuckDB returns it)."""
    return datetime.fromisoformat(text)


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def query(path: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        result = connection.execute(sql)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def by_key(path: Path, table: str, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in query(path, f"select * from {table}")}  # noqa: S608


def assert_matches(actual: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    """Every expected column equal (floats to 1e-6); columns not named are not checked."""
    for column, value in expected.items():
        got = actual[column]
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=1e-6), f"{what}.{column}"
        else:
            assert got == value, f"{what}.{column}: {got!r} != {value!r}"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run Monday, keep its published warehouse, run Tuesday: {'monday': .., 'tuesday': ..}."""
    root = tmp_path_factory.mktemp("handmade")
    shop = create_orders_db(root / "shop.db", "orders_day1")
    drop = root / "surveys"
    drop.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(root / "cxw"))
        settings = Settings.from_env()
        with HelpdeskServer(
            HANDMADE / "helpdesk", token=TOKEN, now=unix("2026-02-03T00:30:00")
        ) as server:
            env = {
                **os.environ,
                "CXW_HOME": str(settings.home),
                "AIRFLOW_HOME": str(root / "airflow"),
                "AIRFLOW_CONN_ORDERS_DB": f"sqlite:///{shop}",
                "AIRFLOW_CONN_HELPDESK_API": (
                    f"http://{quote('agent@shop.example', safe='')}:{TOKEN}"
                    f"@127.0.0.1:{server.port}?order_field_id={ORDER_FIELD_ID}"
                ),
                "CXW_WEB_EXPORT_PATH": str(HANDMADE / "ga4"),
                "CXW_SURVEY_DROP_PATH": str(drop),
                "CXW_EMAIL_SALT": SALT,
                "CXW_TASK_RETRIES": "0",
            }
            shutil.copy(HANDMADE / "surveys" / "responses_20260202.csv", drop)
            # One Airflow for both days (each run_range reuses it); the sources end Tuesday.
            with LocalAirflow(settings, env={**env, SOURCES_END_SETTING: TUESDAY.isoformat()}):
                run_range(settings, MONDAY, MONDAY, env=env)
                monday = root / "monday.duckdb"
                shutil.copy(settings.published_path, monday)

                apply_days(shop, "orders_day2")
                shutil.copy(HANDMADE / "surveys" / "responses_20260203.csv", drop)
                server.now = unix("2026-02-04T00:30:00")
                run_range(settings, TUESDAY, TUESDAY, env=env)
    return {"monday": monday, "tuesday": settings.published_path}


# -- Monday (as of 2026-02-02) ---------------------------------------------------------


def test_monday_tickets(published: dict[str, Path]) -> None:
    tickets = by_key(published["monday"], "service.tickets", "ticket_id")
    assert sorted(tickets) == [1, 2, 3, 5]  # ticket 4 is opened on Tuesday
    # Ticket 1: opened 12:30, Sam's internal note at 12:35 is not a reply, his public
    # reply at 12:50 is: 12:50 - 12:30 = 20 minutes, all inside 09:00-17:00.
    assert_matches(
        tickets[1],
        {
            "customer_id": 1,
            "order_id": 1001,
            "status": "solved",
            "first_reply_at": at("2026-02-02 12:50"),
            "first_reply_minutes": 20.0,
            "first_reply_business_minutes": 20.0,
            "agent_reply_count": 1,
            "is_first_reply_sla_breached": False,  # 20 <= 240 (normal)
            "satisfaction_rating": "offered",  # Ada rates it "good" only on Tuesday
        },
        "monday ticket 1",
    )
    # Ticket 2 (high, target 60 business minutes): opened 16:30, unanswered at the end of
    # Monday: 16:30-17:00 = 30 business minutes waited, not yet over 60.
    assert_matches(
        tickets[2],
        {
            "status": "new",
            "first_reply_at": None,
            "first_reply_minutes": None,
            "is_first_reply_sla_breached": False,
            "requester_wait_minutes": 450.0,  # new from 16:30 to 24:00 = 7.5 h
        },
        "monday ticket 2",
    )
    # Ticket 3 (normal, target 240): opened 11:00, only an admin's internal note; by the
    # end of Monday 11:00-17:00 = 360 business minutes > 240: breached while unanswered.
    assert_matches(
        tickets[3],
        {
            "customer_id": 3,
            "status": "open",
            "first_reply_at": None,
            "agent_reply_count": 0,
            "is_first_reply_sla_breached": True,
        },
        "monday ticket 3",
    )
    # Ticket 5 as Monday's run sees it (the helpdesk answers as of Tuesday 00:30): open
    # since Linus wrote at 16:30, still normal. Waiting: new 09:00-10:00 (60) + open
    # 11:00-12:00 (60) + hold 12:00-16:00 (240) + open 16:30-24:00 (450) = 810; pending
    # 10:00-11:00 and 16:00-16:30 left out. Its first next reply (11:00 -> 16:00) is
    # breached already.
    assert_matches(
        tickets[5],
        {
            "customer_id": None,  # linus@kernel.example is no shop customer
            "status": "open",
            "priority": "normal",
            "first_reply_minutes": 60.0,  # 09:00 -> 10:00
            "is_first_reply_sla_breached": False,  # 60 <= 240 (normal)
            "requester_wait_minutes": 810.0,
            "on_hold_minutes": 240.0,
            "agent_wait_minutes": 90.0,  # pending 60 + 30
            "next_reply_sla_breach_count": 1,
            "is_any_sla_breached": True,
        },
        "monday ticket 5",
    )


def test_monday_daily_kpis(published: dict[str, Path]) -> None:
    rows = query(published["monday"], "select * from service.daily_kpis where date = '2026-02-02'")
    kpis = {row["channel"]: row for row in rows}
    assert sorted(kpis) == ["api", "chat", "email", "web"]
    # email: ticket 1 created and solved (20 min, one reply); web: ticket 2 still new;
    # chat: ticket 3 open and already breached; api: ticket 5, open.
    assert_matches(
        kpis["api"],
        {
            "tickets_created": 1,
            "tickets_solved": 0,
            "open_backlog": 1,
            "first_reply_minutes_median": 60.0,
            "first_reply_sla_breach_rate": 0.0,
            # next replies started Monday: 11:00 (breached), 16:30 (still running): 1 / 2
            "next_reply_sla_breach_rate": 0.5,
            "sla_breach_rate": 1.0,  # ticket 5 has a breached instance
        },
        "monday api",
    )
    assert_matches(
        kpis["email"],
        {
            "tickets_created": 1,
            "tickets_solved": 1,
            "open_backlog": 0,
            "first_reply_minutes_median": 20.0,
            "first_reply_sla_breach_rate": 0.0,
            "one_touch_resolution_rate": 1.0,
        },
        "monday email",
    )
    assert_matches(
        kpis["web"],
        {
            "tickets_created": 1,
            "tickets_solved": 0,
            "open_backlog": 1,
            "first_reply_minutes_median": None,
            "first_reply_sla_breach_rate": 0.0,
        },
        "monday web",
    )
    assert_matches(
        kpis["chat"],
        {
            "tickets_created": 1,
            "tickets_solved": 0,
            "open_backlog": 1,
            "first_reply_sla_breach_rate": 1.0,
            "sla_breach_rate": 1.0,
            "next_reply_sla_breach_rate": None,  # no next reply on chat
        },
        "monday chat",
    )


def test_monday_customers_and_nps(published: dict[str, Path]) -> None:
    customers = by_key(published["monday"], "experience.customers", "customer_id")
    # Ada: order 1001 shipped, not delivered yet (so not late yet); both laptop sessions
    # are hers already, the morning one stitched through Monday's login.
    assert_matches(
        customers[1],
        {
            "order_count": 1,
            "net_revenue": Decimal("65.00"),
            "late_delivery_count": 0,
            "web_session_count": 2,
            "ticket_count": 1,
            "latest_nps_score": None,
        },
        "monday Ada",
    )
    # Grace: order 1002 = 80.00, no refund yet; ticket 2; NPS 8 (Monday's export).
    assert_matches(
        customers[2],
        {
            "order_count": 1,
            "net_revenue": Decimal("80.00"),
            "ticket_count": 1,
            "latest_nps_score": 8,
            "nps_category": "passive",
        },
        "monday Grace",
    )
    # Monday's answers: Grace 8 (passive), Katherine 9 (promoter):
    # NPS = 100 x (1 promoter - 0 detractors) / 2 answers = 50.
    (february,) = query(published["monday"], "select * from experience.monthly_kpis")
    assert_matches(
        february,
        {
            "month": date(2026, 2, 1),
            "nps": 50.0,
            "nps_responses": 2,
            "csat_pct": None,
            # sessions S1, S2 (purchase 1001), S3: 1 / 3
            "session_conversion_rate": 1 / 3,
            "net_revenue": Decimal("175.00"),  # 1001 65.00 + 1002 80.00 + 1004 30.00
        },
        "monday monthly_kpis",
    )


# -- Tuesday (as of 2026-02-03) --------------------------------------------------------


def test_tickets(published: dict[str, Path]) -> None:
    tickets = by_key(published["tuesday"], "service.tickets", "ticket_id")
    assert sorted(tickets) == [1, 2, 3, 4, 5]
    assert_matches(
        tickets[1],
        {
            "customer_id": 1,  # requester ada.lovelace@example.com = customer 1's email, trimmed
            "order_id": 1001,
            "channel": "email",
            "priority": "normal",
            "status": "solved",
            "group_name": "Support",
            "assignee_id": 501,
            "created_at": at("2026-02-02 12:30"),
            "first_reply_at": at("2026-02-02 12:50"),  # not the internal note at 12:35
            "first_reply_minutes": 20.0,  # 12:30 -> 12:50
            "first_reply_business_minutes": 20.0,  # all inside Monday 09:00-17:00
            "first_solved_at": at("2026-02-02 12:50"),
            "last_solved_at": at("2026-02-02 12:50"),
            "full_resolution_minutes": 20.0,  # solved with the reply: 12:30 -> 12:50
            "full_resolution_business_minutes": 20.0,
            "reopen_count": 0,
            "agent_reply_count": 1,
            "requester_wait_minutes": 20.0,  # new from 12:30 to the solve at 12:50
            "is_one_touch_resolution": True,
            "first_reply_sla_target_minutes": 240.0,  # normal priority
            "is_first_reply_sla_breached": False,  # 20 <= 240
            "csat_score": 5,  # r-201
            "satisfaction_rating": "good",  # Ada's rating, Tuesday 09:00
        },
        "ticket 1",
    )
    assert_matches(
        tickets[2],
        {
            "customer_id": 2,  # requester Grace@Example.com
            "order_id": 1002,
            "channel": "web",
            "priority": "high",
            "status": "solved",
            "first_reply_at": at("2026-02-03 09:45"),
            # Monday 16:30 -> Tuesday 09:45 = 7 h 30 + 9 h 45 = 17 h 15 = 1035 minutes
            "first_reply_minutes": 1035.0,
            # business: Monday 16:30-17:00 (30) + Tuesday 09:00-09:45 (45) = 75
            "first_reply_business_minutes": 75.0,
            "full_resolution_minutes": 1035.0,  # solved with the reply
            "full_resolution_business_minutes": 75.0,
            "agent_reply_count": 1,
            "requester_wait_minutes": 1035.0,  # new until the solve
            "first_reply_sla_target_minutes": 60.0,
            "is_first_reply_sla_breached": True,  # 75 > 60 business minutes
            "csat_score": 2,  # r-202
            "satisfaction_rating": "offered",
        },
        "ticket 2",
    )
    assert_matches(
        tickets[3],
        {
            "customer_id": 3,  # requester "alan.turing@example.com " = ALAN.TURING@example.com
            "order_id": None,  # empty order field
            "channel": "chat",
            "status": "open",
            "assignee_id": 500,
            "first_reply_at": None,
            "first_reply_minutes": None,
            "first_reply_business_minutes": None,
            "agent_reply_count": 0,
            "full_resolution_minutes": None,
            "is_one_touch_resolution": False,
            # new 11:00-11:30 (30) + open 11:30 Monday -> end of Tuesday (12 h 30 + 24 h = 2190)
            "requester_wait_minutes": 2220.0,
            # unanswered: Monday 11:00-17:00 (360) + Tuesday 09:00-17:00 (480) = 840 > 240
            "is_first_reply_sla_breached": True,
            "csat_score": None,
            "satisfaction_rating": "unoffered",
        },
        "ticket 3",
    )
    assert_matches(
        tickets[4],
        {
            "customer_id": 2,  # Grace@Example.com again
            "order_id": 1003,
            "channel": "email",
            "status": "solved",
            "first_reply_minutes": 25.0,  # 13:05 -> 13:30
            "first_reply_business_minutes": 25.0,  # inside Tuesday 09:00-17:00
            "is_first_reply_sla_breached": False,  # 25 <= 240
            "is_one_touch_resolution": True,
        },
        "ticket 4",
    )
    # Ticket 5 (Linus, api): statuses new 09:00-10:00, pending 10:00-11:00, open
    # 11:00-12:00, hold 12:00-16:00, pending 16:00-16:30, open 16:30 -> Tuesday 09:30,
    # solved 09:30-10:00, open 10:00-11:00, solved at 11:00 (priority high from 10:05).
    assert_matches(
        tickets[5],
        {
            "customer_id": None,
            "channel": "api",
            "priority": "high",
            "status": "solved",
            "assignee_id": 501,
            "first_reply_at": at("2026-02-02 10:00"),  # not Linus's second comment at 09:30
            "first_reply_minutes": 60.0,
            "first_reply_business_minutes": 60.0,
            "first_solved_at": at("2026-02-03 09:30"),
            "last_solved_at": at("2026-02-03 11:00"),
            "first_resolution_minutes": 1470.0,  # Monday 09:00 -> Tuesday 09:30 = 24 h 30
            "full_resolution_minutes": 1560.0,  # -> Tuesday 11:00 = 26 h
            "reopen_count": 1,
            "agent_reply_count": 4,  # 10:00, 16:00, Tuesday 09:30 and 11:00 (not the note)
            # new 60 + open 60 + hold 240 + open 16:30 -> 09:30 (17 h = 1020) + open 60
            "requester_wait_minutes": 1440.0,
            # business: 60 + 60 + 240 + (16:30-17:00 30 + 09:00-09:30 30) + 60 = 480
            "requester_wait_business_minutes": 480.0,
            "agent_work_minutes": 1200.0,  # 1440 - hold 240
            "agent_work_business_minutes": 240.0,  # 480 - hold 240
            "on_hold_minutes": 240.0,
            "agent_wait_minutes": 90.0,  # pending 60 + 30; solved 30 never counts
            # 1440 + 90 + 30 = 1560, the whole life
            "first_reply_sla_target_minutes": 60.0,  # high now
            "is_first_reply_sla_breached": False,  # 60 business minutes, not over 60
            "next_reply_sla_breach_count": 1,
            "is_any_sla_breached": True,
            "is_one_touch_resolution": False,
        },
        "ticket 5",
    )
    # Time in each state of the first four: never on hold or pending.
    for ticket_id, minutes in ((1, 20.0), (2, 1035.0), (4, 25.0)):
        assert_matches(
            tickets[ticket_id],
            {"agent_work_minutes": minutes, "on_hold_minutes": 0.0, "agent_wait_minutes": 0.0},
            f"ticket {ticket_id} states",
        )
    assert_matches(
        tickets[2],
        {
            "requester_wait_business_minutes": 75.0,
            "first_resolution_minutes": 1035.0,
            "next_reply_sla_breach_count": 0,  # Grace never wrote again
            "is_any_sla_breached": True,  # first reply 75 > 60
        },
        "ticket 2 SLA",
    )
    assert_matches(
        tickets[1], {"is_any_sla_breached": False, "next_reply_sla_breach_count": 0}, "ticket 1"
    )


def test_daily_kpis_for_tuesday(published: dict[str, Path]) -> None:
    rows = query(published["tuesday"], "select * from service.daily_kpis where date = '2026-02-03'")
    kpis = {row["channel"]: row for row in rows}
    assert sorted(kpis) == ["api", "chat", "email", "web"]
    assert_matches(
        kpis["api"],
        {
            "tickets_created": 0,
            "tickets_solved": 1,  # ticket 5, last solved 11:00
            "open_backlog": 0,
            "full_resolution_minutes_median": 1560.0,
            "one_touch_resolution_rate": 0.0,  # four replies
            "requester_wait_minutes_median": 1440.0,
            "next_reply_sla_breach_rate": 0.0,  # 10:00 -> 11:00, 60 of 60 (high)
            "sla_breach_rate": None,  # no ticket created on api on Tuesday
        },
        "tuesday api",
    )
    (monday_api,) = query(
        published["tuesday"],
        "select * from service.daily_kpis where date = '2026-02-02' and channel = 'api'",
    )
    # Monday's two next replies seen on Tuesday: 11:00 breached, 16:30 answered in time.
    assert_matches(monday_api, {"next_reply_sla_breach_rate": 0.5}, "monday api, on tuesday")
    assert_matches(
        kpis["email"],
        {
            "tickets_created": 1,  # ticket 4
            "tickets_solved": 1,  # ticket 4 (ticket 1 was solved on Monday)
            "open_backlog": 0,
            "first_reply_minutes_median": 25.0,  # ticket 4 alone
            "first_reply_minutes_p90": 25.0,
            "full_resolution_minutes_median": 25.0,
            "one_touch_resolution_rate": 1.0,  # 1 reply
            "first_reply_sla_breach_rate": 0.0,  # 25 <= 240
            "sla_breach_rate": 0.0,  # ticket 4: every target met
            "requester_wait_minutes_median": 25.0,  # ticket 4, new 13:05 -> 13:30
            "csat_pct": 100.0,  # r-201 (ticket 1, email) scored 5: 100 x 1/1
        },
        "tuesday email",
    )
    assert_matches(
        kpis["web"],
        {
            "tickets_created": 0,
            "tickets_solved": 1,  # ticket 2, solved 09:45
            "open_backlog": 0,
            "first_reply_minutes_median": None,  # nothing created on web on Tuesday
            "full_resolution_minutes_median": 1035.0,  # ticket 2
            "requester_wait_minutes_median": 1035.0,  # ticket 2, new until the solve
            "csat_pct": 0.0,  # r-202 (ticket 2, web) scored 2: 100 x 0/1
        },
        "tuesday web",
    )
    assert_matches(
        kpis["chat"],
        {
            "tickets_created": 0,
            "tickets_solved": 0,
            "open_backlog": 1,  # ticket 3 still open at the end of Tuesday
            "csat_pct": None,
        },
        "tuesday chat",
    )


# SLA policy (helpdesk/sla_policies.json), business minutes unless "calendar":
#   normal: first reply 240, next reply 120, requester wait 1440 calendar, agent work 480
#   high:   first reply 60,  next reply 60,  requester wait 1200 calendar, agent work 240
# Columns: (target, due, reached, elapsed, breached, active).
TUESDAY_SLA = {
    # Ticket 1, normal: due 12:30 + 240 business = 16:30 (inside Monday's hours).
    (1, "first_reply_time"): (240.0, "2026-02-02 16:30", "2026-02-02 12:50", 20.0, False, False),
    # reached at the solve, under target: no due time.
    (1, "requester_wait_time"): (1440.0, None, "2026-02-02 12:50", 20.0, False, False),
    (1, "agent_work_time"): (480.0, None, "2026-02-02 12:50", 20.0, False, False),
    # Ticket 2, high: 30 business minutes Monday 16:30-17:00, 30 more Tuesday -> 09:30.
    (2, "first_reply_time"): (60.0, "2026-02-03 09:30", "2026-02-03 09:45", 75.0, True, False),
    (2, "requester_wait_time"): (1200.0, None, "2026-02-03 09:45", 1035.0, False, False),
    (2, "agent_work_time"): (240.0, None, "2026-02-03 09:45", 75.0, False, False),
    # Ticket 3, normal, unanswered at the end of Tuesday (Wednesday 00:00): first reply
    # due Monday 11:00 + 240 = 15:00; 360 + 480 = 840 business minutes so far.
    (3, "first_reply_time"): (240.0, "2026-02-02 15:00", None, 840.0, True, False),
    # new 30 + open 11:30 Monday -> Wednesday 00:00 (2190) = 2220 > 1440, due 24 h on.
    (3, "requester_wait_time"): (1440.0, "2026-02-03 11:00", None, 2220.0, True, False),
    # 360 Monday + 120 Tuesday = 480 at Tuesday 11:00; 840 by the end.
    (3, "agent_work_time"): (480.0, "2026-02-03 11:00", None, 840.0, True, False),
    # Ticket 4, normal: Tuesday 13:05-17:00 = 235, + 5 Wednesday -> 09:05.
    (4, "first_reply_time"): (240.0, "2026-02-04 09:05", "2026-02-03 13:30", 25.0, False, False),
    (4, "requester_wait_time"): (1440.0, None, "2026-02-03 13:30", 25.0, False, False),
    (4, "agent_work_time"): (480.0, None, "2026-02-03 13:30", 25.0, False, False),
    # Ticket 5: first reply reached while normal (keeps 240): 09:00 -> 10:00.
    (5, "first_reply_time"): (240.0, "2026-02-02 13:00", "2026-02-02 10:00", 60.0, False, False),
    # The last solve (11:00) is after the change to high: high's targets.
    # requester wait: 60 (new) + 60 (open) + 240 (hold) = 360 by Monday 16:00, then open
    # from 16:30: 840 more reach 1200 at Tuesday 06:30; 1440 in all > 1200.
    (5, "requester_wait_time"): (
        1200.0, "2026-02-03 06:30", "2026-02-03 11:00", 1440.0, True, False
    ),
    # agent work (no hold, no pending): 60 + 60 + 30 + 30 + 60 = 240, on target: no breach.
    (5, "agent_work_time"): (240.0, None, "2026-02-03 11:00", 240.0, False, False),
}
# Ticket 5's next replies: (start, priority, target, due, reached, elapsed, breached).
TICKET_5_NEXT_REPLIES = [
    # Linus writes 11:00 and 11:20 (one instance, from the older); Sam answers 16:00:
    # 11:00-16:00 = 300 business minutes > 120 (hold time counts for replies); due 13:00.
    ("2026-02-02 11:00", "normal", 120.0, "2026-02-02 13:00", "2026-02-02 16:00", 300.0, True),
    # 16:30 -> Tuesday 09:30 across the night: 30 + 30 = 60 <= 120; due 30 + 90 -> 10:30.
    ("2026-02-02 16:30", "normal", 120.0, "2026-02-03 10:30", "2026-02-03 09:30", 60.0, False),
    # The comment that reopens the solved ticket starts one; answered 11:00, after the
    # change to high at 10:05: high's 60, met exactly (60 is not over 60).
    ("2026-02-03 10:00", "high", 60.0, "2026-02-03 11:00", "2026-02-03 11:00", 60.0, False),
]


def optional_at(text: str | None) -> datetime | None:
    return at(text) if text else None


def test_sla_events(published: dict[str, Path]) -> None:
    rows = query(published["tuesday"], "select * from service.sla_events")
    assert len(rows) == len(TUESDAY_SLA) + len(TICKET_5_NEXT_REPLIES)  # 15 + 3
    instances = {(row["ticket_id"], row["metric"]): row for row in rows
                 if row["metric"] != "next_reply_time"}
    assert sorted(instances) == sorted(TUESDAY_SLA)
    tickets = by_key(published["tuesday"], "service.tickets", "ticket_id")
    for key, (target, due, reached, elapsed, breached, active) in TUESDAY_SLA.items():
        assert_matches(
            instances[key],
            {
                "target_minutes": target,
                "sla_due_at": optional_at(due),
                "reached_at": optional_at(reached),
                "elapsed_minutes": elapsed,
                "is_breached": breached,
                "is_active": active,
                "is_business_hours": key[1] != "requester_wait_time",
                "sla_started_at": tickets[key[0]]["created_at"],  # all three start there
            },
            f"sla {key}",
        )
    next_replies = sorted(
        (row for row in rows if row["metric"] == "next_reply_time"),
        key=lambda row: row["sla_started_at"],
    )
    assert [row["ticket_id"] for row in next_replies] == [5, 5, 5]
    for row, (start, priority, target, due, reached, elapsed, breached) in zip(
        next_replies, TICKET_5_NEXT_REPLIES, strict=True
    ):
        assert_matches(
            row,
            {
                "sla_event_id": f"5|next_reply_time|{start.replace(' ', 'T')}:00.000000Z",
                "sla_started_at": at(start),
                "priority": priority,
                "target_minutes": target,
                "sla_due_at": at(due),
                "reached_at": at(reached),
                "elapsed_minutes": elapsed,
                "is_breached": breached,
                "is_active": False,
            },
            f"ticket 5 next reply {start}",
        )


def test_monday_sla_events_still_running(published: dict[str, Path]) -> None:
    """As of Monday (the end: Tuesday 00:00), the targets still running."""
    rows = query(
        published["monday"],
        "select * from service.sla_events where reached_at is null",
    )
    running = {(row["ticket_id"], row["metric"]): row for row in rows}
    expected = {
        # Ticket 2 (high), new since 16:30: 30 business minutes, due Tuesday 09:30.
        (2, "first_reply_time"): ("2026-02-03 09:30", 30.0, False, True),
        # 16:30-24:00 = 450 calendar; 750 to go from Tuesday 00:00 -> 12:30.
        (2, "requester_wait_time"): ("2026-02-03 12:30", 450.0, False, True),
        # 30 business; 210 to go from Tuesday's opening 09:00 -> 12:30.
        (2, "agent_work_time"): ("2026-02-03 12:30", 30.0, False, True),
        # Ticket 3: 11:00-17:00 = 360 > 240, due 15:00.
        (3, "first_reply_time"): ("2026-02-02 15:00", 360.0, True, False),
        # 30 + 750 = 780 of 1440; 660 to go from Tuesday 00:00 -> 11:00.
        (3, "requester_wait_time"): ("2026-02-03 11:00", 780.0, False, True),
        # 360 of 480; 120 to go from 09:00 -> 11:00.
        (3, "agent_work_time"): ("2026-02-03 11:00", 360.0, False, True),
        # Ticket 5 (normal on Monday): Linus wrote 16:30, 30 business minutes so far.
        (5, "next_reply_time"): ("2026-02-03 10:30", 30.0, False, True),
        # 60 + 60 + 240 + 450 = 810 of 1440; 630 to go -> Tuesday 10:30.
        (5, "requester_wait_time"): ("2026-02-03 10:30", 810.0, False, True),
        # 60 + 60 + 30 = 150 of 480; 330 to go from 09:00 -> 14:30.
        (5, "agent_work_time"): ("2026-02-03 14:30", 150.0, False, True),
    }
    assert sorted(running) == sorted(expected)
    for key, (due, elapsed, breached, active) in expected.items():
        assert_matches(
            running[key],
            {
                "sla_due_at": at(due),
                "elapsed_minutes": elapsed,
                "is_breached": breached,
                "is_active": active,
            },
            f"monday sla {key}",
        )


# (date, ticket_id): (status, priority, channel, group_name, assignee_id, age_days)
MONDAY_BACKLOG = {
    # Ticket 2: new, assigned only with Tuesday's reply.
    (date(2026, 2, 2), 2): ("new", "high", "web", "Support", None, 0),
    (date(2026, 2, 2), 3): ("open", "normal", "chat", "Support", 500, 0),
    # Ticket 5 at the end of Monday: open since 16:30, still normal.
    (date(2026, 2, 2), 5): ("open", "normal", "api", "Support", 501, 0),
}


@pytest.mark.parametrize("day", ["monday", "tuesday"])
def test_ticket_backlog(published: dict[str, Path], day: str) -> None:
    # Tickets 1 (solved Monday), 4 (opened and solved Tuesday) never end a day unsolved;
    # 2 and 5 are solved on Tuesday; only ticket 3 is left at the end of Tuesday.
    expected = dict(MONDAY_BACKLOG)
    if day == "tuesday":
        expected[(date(2026, 2, 3), 3)] = ("open", "normal", "chat", "Support", 500, 1)
    rows = query(published[day], "select * from service.ticket_backlog")
    backlog = {(row["date"], row["ticket_id"]): row for row in rows}
    assert sorted(backlog) == sorted(expected)
    columns = ("status", "priority", "channel", "group_name", "assignee_id", "age_days")
    for key, values in expected.items():
        assert_matches(backlog[key], dict(zip(columns, values, strict=True)), f"backlog {key}")


def email_hash(email: str) -> str:
    return hashlib.sha256((SALT + email.strip().lower()).encode()).hexdigest()


def test_customers(published: dict[str, Path]) -> None:
    customers = by_key(published["tuesday"], "experience.customers", "customer_id")
    assert sorted(customers) == [1, 2, 3, 4]
    assert_matches(
        customers[1],
        {
            "email_hash": email_hash(" Ada.Lovelace@Example.com"),
            "country": "GB",
            "signup_at": at("2026-02-02 12:04"),
            # the anonymous 08:00 visit, stitched: earlier than her signup and first order
            "first_seen_at": at("2026-02-02 08:00"),
            "acquisition_source": "google",
            "acquisition_medium": "organic",  # that visit's
            "first_order_at": at("2026-02-02 12:10"),
            "order_count": 1,
            "net_revenue": Decimal("65.00"),
            "avg_order_value": Decimal("65.00"),
            "is_repeat_customer": False,
            "late_delivery_count": 1,  # 1001 promised Mon 02-02, delivered Tue 02-03
            "web_session_count": 2,
            "ticket_count": 1,
            "contact_rate": 1.0,  # 1 ticket / 1 order
            "latest_nps_score": 10,
            "nps_category": "promoter",
            "avg_csat": 5.0,
            "tenure_days": 1,  # first order Mon 02-02 -> as of Tue 02-03
            "days_since_last_order": 1,
            "is_churned": False,
        },
        "Ada",
    )
    assert_matches(
        customers[2],
        {
            "email_hash": email_hash("grace@example.com"),
            "first_seen_at": at("2026-01-15 09:00"),  # signup; no web visits
            "acquisition_source": "(direct)",
            "acquisition_medium": "(none)",
            "order_count": 1,  # 1003 was cancelled
            "net_revenue": Decimal("60.00"),  # 1002: 80.00 - 20.00 refund
            "late_delivery_count": 0,  # delivered 02-03, promised 02-04
            "web_session_count": 0,
            "ticket_count": 2,
            "contact_rate": 2.0,  # tickets 2 and 4 / 1 order
            "latest_nps_score": 8,
            "nps_category": "passive",
            "avg_csat": 2.0,
        },
        "Grace",
    )
    assert_matches(
        customers[3],
        {
            "email_hash": email_hash("ALAN.TURING@example.com"),
            "order_count": 0,
            "net_revenue": Decimal("0.00"),
            "avg_order_value": None,
            "first_order_at": None,
            "tenure_days": None,
            "is_churned": False,
            "ticket_count": 1,
            "contact_rate": None,  # a ticket but no orders
            # r-204 has no customer_id: linked by " Alan.Turing@Example.com"
            "latest_nps_score": 3,
            "nps_category": "detractor",
            "avg_csat": None,
        },
        "Alan",
    )
    assert_matches(
        customers[4],
        {
            "order_count": 2,
            "net_revenue": Decimal("75.00"),  # 30.00 + 45.00
            "avg_order_value": Decimal("37.50"),  # 75.00 / 2
            "is_repeat_customer": True,
            "web_session_count": 1,
            "acquisition_source": "bing",
            "acquisition_medium": "cpc",
            "ticket_count": 0,
            "contact_rate": 0.0,  # 0 tickets / 2 orders
            "latest_nps_score": 9,
            "nps_category": "promoter",
        },
        "Katherine",
    )


def test_sessions_are_stitched(published: dict[str, Path]) -> None:
    sessions = by_key(published["tuesday"], "experience.sessions", "session_key")
    assert sorted(sessions) == sorted([ADA_MORNING, ADA_NOON, VISITOR, KATHERINE])
    # The 08:00 visit never carried a user_id; the same device logged in as 1 at noon.
    assert_matches(
        sessions[ADA_MORNING],
        {
            "customer_id": 1,
            "started_at": at("2026-02-02 08:00"),
            "ended_at": at("2026-02-02 08:03"),
            "source": "google",
            "medium": "organic",
            "landing_page": "https://www.shop.example/books",
            "page_views": 2,
            "is_engaged": True,
            "has_add_to_cart": False,
            "order_id": None,
        },
        "Ada's anonymous session",
    )
    assert_matches(
        sessions[ADA_NOON],
        {
            "customer_id": 1,
            "source": "newsletter",
            "medium": "email",
            "campaign": "feb_books",
            "landing_page": "https://www.shop.example/newsletter/february",
            "page_views": 1,
            "has_add_to_cart": True,
            "has_checkout": True,
            "order_id": 1001,
        },
        "Ada's noon session",
    )
    assert_matches(
        sessions[VISITOR],
        {
            "customer_id": None,
            "source": "(direct)",
            "medium": "(none)",
            "is_engaged": False,
        },
        "the anonymous visitor",
    )
    assert_matches(
        sessions[KATHERINE],
        {
            "customer_id": 4,
            "source": "bing",
            "medium": "cpc",
            "order_id": 1005,
        },
        "Katherine's session",
    )


def test_touchpoints_put_the_journey_on_one_time_line(published: dict[str, Path]) -> None:
    rows = query(
        published["tuesday"],
        "select touchpoint_type, source_id, stage, channel, detail from experience.touchpoints "
        "where customer_id = 1 order by occurred_at, touchpoint_id",
    )
    assert [tuple(row.values()) for row in rows] == [
        # the stitched anonymous visit
        ("web_session", ADA_MORNING, "discover", "google / organic", "2 page views"),
        ("web_session", ADA_NOON, "purchase", "newsletter / email", "1 page views, checkout"),
        ("order", "1001", "purchase", "shop", "delivered 65.00 EUR"),  # 12:10
        ("ticket", "1", "support", "email", "solved"),  # 12:30
        ("delivery", "1001", "deliver", "shipping", "late by 1 days"),  # Tue 10:00
        ("survey", "r-201", "feedback", "survey", "csat 5"),  # Tue 10:00
        ("survey", "r-203", "feedback", "survey", "nps 10"),  # Tue 12:00
    ]
    alan = query(
        published["tuesday"],
        "select touchpoint_id from experience.touchpoints where customer_id = 3 order by 1",
    )
    assert [row["touchpoint_id"] for row in alan] == ["survey:r-204", "ticket:3"]


def test_monthly_kpis(published: dict[str, Path]) -> None:
    (february,) = query(published["tuesday"], "select * from experience.monthly_kpis")
    assert_matches(
        february,
        {
            "month": date(2026, 2, 1),
            # NPS answers: Ada 10 and Katherine 9 (promoters), Grace 8 (passive), Alan 3
            # (detractor): 100 x (2 - 1) / 4 = 25
            "nps": 25.0,
            "nps_responses": 4,
            "promoters_pct": 50.0,
            "detractors_pct": 25.0,
            "csat_pct": 50.0,  # CSAT 5 (r-201) and 2 (r-202): 100 x 1 / 2
            "ces_mean": None,
            "active_customers": 3,  # Ada, Grace, Katherine ordered (Grace's 1003 is cancelled)
            "new_customers": 3,
            "repeat_purchase_rate": 1 / 3,  # Katherine's 1005 follows her 1004
            "churned_customers": 0,
            # 5 tickets (Linus's ticket 5 included: a contact, if not a customer's) /
            # 4 counted orders (1001, 1002, 1004, 1005) x 100
            "contacts_per_100_orders": 125.0,
            "net_revenue": Decimal("200.00"),  # 65 + (80 - 20) + 30 + 45
            "session_conversion_rate": 0.5,  # 2 sessions with a purchase / 4 sessions
        },
        "monthly_kpis 2026-02",
    )


def test_service_impact(published: dict[str, Path]) -> None:
    segments = by_key(published["tuesday"], "experience.service_impact", "service_segment")
    # Katherine: no ticket. Ada: ticket 1 answered within SLA. Grace: ticket 4 within SLA
    # but ticket 2 breached, and the worst counts. Alan: ticket 3 still open.
    expected = {
        "no_ticket": (1, 100.0, 1.0, 0.0, Decimal("75.00")),  # NPS 9; 2 orders
        "reply_within_sla": (1, 100.0, 0.0, 0.0, Decimal("65.00")),  # NPS 10; 1 order
        "reply_sla_breached": (1, 0.0, 0.0, 0.0, Decimal("60.00")),  # NPS 8 (passive)
        "unresolved": (1, -100.0, None, None, Decimal("0.00")),  # NPS 3; no orders
    }
    assert sorted(segments) == sorted(expected)
    for segment, (customers, nps, repeat, churn, revenue) in expected.items():
        assert_matches(
            segments[segment],
            {
                "customers": customers,
                "nps": nps,
                "repeat_purchase_rate": repeat,
                "churn_rate": churn,
                "avg_net_revenue": revenue,
            },
            segment,
        )


@pytest.mark.parametrize("day", ["monday", "tuesday"])
def test_no_raw_email_in_any_mart(published: dict[str, Path], day: str) -> None:
    """Every email in the sources holds an '@'; no value of any mart column may."""
    with duckdb.connect(str(published[day]), read_only=True) as connection:
        columns = connection.execute(
            "select table_schema || '.' || table_name, column_name from information_schema.columns "
            "where table_schema in ('service', 'experience')"
        ).fetchall()
        assert len({table for table, _ in columns}) >= 9
        for table, column in columns:
            hits = connection.execute(
                f"select count(*) from {table} where cast(\"{column}\" as varchar) like '%@%'"  # noqa: S608
            ).fetchone()[0]
            assert hits == 0, f"{table}.{column} holds an email"
