"""A hand-made raw layer, built once per session with the real dbt project.

See test_service_mart.py for the hand-computed story of its tickets.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest

from cxw import pipeline, warehouse
from cxw.lake import Window, batch_path, with_batch_columns, write_parquet_atomic
from cxw.settings import Settings
from cxw_demo.config import DEFAULT_AGENT_EMAIL, ORDER_FIELD_ID
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from tests.handmade.shop import create_orders_db

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def land(settings: Settings, source: str, entity: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    frame["_record"] = [json.dumps(row, default=str) for row in rows]
    batch = with_batch_columns(frame, WINDOW, datetime(2026, 1, 6, tzinfo=UTC))
    write_parquet_atomic(batch, batch_path(settings.lake_dir, source, entity, WINDOW.batch_id))


def event(child_id, audit_id, ticket_id, at, child_type, **fields) -> dict:
    return {
        "audit_id": audit_id,
        "ticket_id": ticket_id,
        "created_at": ts(at),
        "updater_id": fields.get("author_id"),
        "via_channel": "email",
        "child_id": child_id,
        "child_type": child_type,
        "field_name": fields.get("field_name"),
        "value": fields.get("value"),
        "previous_value": fields.get("previous_value"),
        "is_public": fields.get("is_public"),
        "author_id": fields.get("author_id"),
        "body": fields.get("body"),
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The January tiny shop (``tests/handmade/tiny_shop.sql``, orders 100-103) and its
    helpdesk, landed in-process and built. It is not the end-to-end test's Monday/Tuesday
    shop (``tests/handmade/orders_day*.sql`` and the files beside them), and cannot honestly
    be: its tickets pin what that story has no room for (Berlin business hours across a
    holiday, a ticket deleted in the helpdesk, orders referenced from tickets by id 100)
    and every number the tests on this fixture compute by hand (test_service_mart.py's
    docstring tells the story) comes from these rows. Both shops load through one loader on the
    orders database's one schema (tests/handmade/shop.py)."""
    home = tmp_path_factory.mktemp("cxw")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(home))
        settings = Settings.from_env()
        database = create_orders_db(home / "orders.db", "tiny_shop")
        for day in (1, 2):
            pipeline.land_orders(
                datetime(2026, 1, day, tzinfo=UTC),
                datetime(2026, 1, day + 1, tzinfo=UTC),
                f"sqlite:///{database}",
            )
        users = [
            (10, "Ana Agent", "ana@shop.example", "agent"),
            (11, "Ben Admin", "ben@shop.example", "admin"),
            (20, "Ada", " Ada.Lovelace@Example.com", "end-user"),
            (21, "Grace", "grace.h@elsewhere.example", "end-user"),
        ]
        land(settings, "helpdesk", "users", [
            {"id": i, "name": n, "email": e, "role": r,
             "created_at": ts("2025-06-01"), "updated_at": ts("2025-06-01")}
            for i, n, e, r in users
        ])
        land(settings, "helpdesk", "groups", [{"id": 1, "name": "Support"}])
        land(settings, "helpdesk", "schedule_intervals", [
            {"schedule_id": 1, "schedule_name": "Support hours", "time_zone": "Berlin",
             "start_time": 1440 * day + 540, "end_time": 1440 * day + 1020}
            for day in range(1, 6)
        ])
        land(settings, "helpdesk", "holidays", [
            {"schedule_id": 1, "holiday_id": 1, "name": "New Year",
             "start_date": "2026-01-01", "end_date": "2026-01-01"}
        ])
        land(settings, "helpdesk", "sla_policy_metrics", [
            {"policy_id": 1, "title": "Standard", "priority": p, "metric": "first_reply_time",
             "target": t, "business_hours": True}
            for p, t in (("normal", 480), ("high", 60))
        ])
        ticket = {"submitter_id": None, "group_id": 1, "tags": "[]",
                  "satisfaction_comment": None, "assignee_id": 10}
        land(settings, "helpdesk", "tickets", [
            {**ticket, "id": 1, "created_at": ts("2026-01-02 16:00"),
             "updated_at": ts("2026-01-05 10:00"), "status": "solved", "priority": "normal",
             "requester_id": 20, "channel": "email", "subject": "Where is my order?",
             "order_id_field": "100", "satisfaction_score": "good"},
            {**ticket, "id": 2, "created_at": ts("2026-01-05 10:00"),
             "updated_at": ts("2026-01-05 10:05"), "status": "open", "priority": "high",
             "requester_id": 21, "channel": "voice", "subject": "Call",
             "order_id_field": "", "satisfaction_score": "unoffered"},
            # Deleted in the helpdesk: the export sends it again with status "deleted".
            {**ticket, "id": 3, "created_at": ts("2026-01-03 09:00"),
             "updated_at": ts("2026-01-04 09:00"), "status": "deleted", "priority": "normal",
             "requester_id": 20, "channel": "email", "subject": "Spam",
             "order_id_field": "", "satisfaction_score": "unoffered"},
        ])
        land(settings, "helpdesk", "ticket_events", [
            event(1, 100, 1, "2026-01-02 16:00", "Create", field_name="status", value="new"),
            event(2, 100, 1, "2026-01-02 16:00", "Comment", is_public=True, author_id=20),
            event(3, 101, 1, "2026-01-05 08:20", "Comment", is_public=False, author_id=11),
            event(4, 102, 1, "2026-01-05 08:30", "Comment", is_public=True, author_id=10),
            event(5, 102, 1, "2026-01-05 08:30", "Change", field_name="status",
                  value="pending", previous_value="new"),
            event(6, 103, 1, "2026-01-05 10:00", "Change", field_name="status",
                  value="solved", previous_value="pending"),
            # The phone ticket: Ana's opening comment is not a reply.
            event(7, 200, 2, "2026-01-05 10:00", "Create", field_name="status", value="new"),
            event(8, 200, 2, "2026-01-05 10:00", "Comment", is_public=True, author_id=10),
            event(9, 201, 2, "2026-01-05 10:05", "Change", field_name="status",
                  value="open", previous_value="new"),
            event(10, 300, 3, "2026-01-03 09:00", "Create", field_name="status", value="new"),
            event(11, 301, 3, "2026-01-04 09:00", "Change", field_name="status",
                  value="deleted", previous_value="new"),
        ])
        land(settings, "surveys", "responses", [
            {"response_id": "r1", "survey_type": "csat", "submitted_at": ts("2026-01-05 12:00"),
             "respondent_email": "ada.lovelace@example.com", "customer_id": None,
             "ticket_id": 1, "order_id": None, "score": 5, "comment": "great"},
        ])
        warehouse.build(settings, date(2026, 1, 5))
    return settings.warehouse_path


def query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.sql(sql).df()


# A small generated company with every source, for what needs the whole project
# (the semantic layer, key numbers, the dashboard's panels).
COMPANY_START, COMPANY_END = date(2026, 5, 2), date(2026, 6, 30)
COMPANY_WINDOW = (datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
COMPANY_TOKEN = "semantic-token"
COMPANY_NOW = int(COMPANY_WINDOW[1].timestamp())


def point_at(patch: pytest.MonkeyPatch, sources: Path, server: HelpdeskServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    patch.setenv(
        "AIRFLOW_CONN_HELPDESK_API",
        f"http://{quote(DEFAULT_AGENT_EMAIL, safe='')}:{COMPANY_TOKEN}@127.0.0.1:{port}"
        f"?order_field_id={ORDER_FIELD_ID}",
    )
    patch.setenv("AIRFLOW_CONN_ORDERS_DB", f"sqlite:///{sources / 'shop.db'}")
    patch.setenv("CXW_WEB_EXPORT_PATH", str(sources / "ga4"))
    patch.setenv("CXW_SURVEY_DROP_PATH", str(sources / "surveys"))


@pytest.fixture(scope="session")
def small_company(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The simulator's two months of a 150-customer company (every source), landed,
    built into a warehouse and published."""
    root = tmp_path_factory.mktemp("small_company")
    sources = root / "sources"
    generate(sources, 150, COMPANY_START, COMPANY_END, seed=11)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(root / "cxw"))
        settings = Settings.from_env()
        with HelpdeskServer(sources / "helpdesk", token=COMPANY_TOKEN, now=COMPANY_NOW) as server:
            point_at(patch, sources, server)
            pipeline.land_helpdesk(*COMPANY_WINDOW)
            pipeline.land_web(*COMPANY_WINDOW)
            pipeline.land_orders(*COMPANY_WINDOW)
            pipeline.land_surveys(*COMPANY_WINDOW)
        warehouse.build(settings, COMPANY_END)
        warehouse.publish(settings)
    return settings
