"""The service mart built incrementally equals a full rebuild, and reads only new batches.

Batch 1 (landed 2026-01-06, built as of 2026-01-05): ticket 1 solved on Monday 5th,
ticket 2 an unanswered phone ticket, ticket 4 solved on the 5th with one reply.
Batch 2 (landed 2026-01-09, built as of 2026-01-08): ticket 1 changes days later (Ada
writes again on the 8th, the ticket is reopened, Ana replies, it waits in pending), a
new ticket 3 is opened and solved on the 7th, ticket 1 gets a CES answer, and one event
of batch 1 is sent again. Ticket 2 gets nothing new, but its waiting time and SLA run
on with the as-of date, as do ticket 5's (unanswered, 60 of its 480 business minutes
used by the end of the 5th: inside target then, breached by the 8th); ticket 4, solved,
gets nothing new at all. Ticket 6, answered and solved in batch 1, comes back deleted in
batch 2: its rows leave every incremental ticket model, not only the marts.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxw import pipeline, warehouse
from cxw.lake import Window, batch_path, with_batch_columns, write_parquet_atomic
from cxw.settings import Settings
from tests.dbt.conftest import event, ts
from tests.handmade.shop import create_orders_db

FIRST = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
SECOND = Window(datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 9, tzinfo=UTC))
SERVICE_TABLES = ("tickets", "daily_kpis", "agents", "sla_events", "ticket_backlog")
TICKET = {"submitter_id": None, "group_id": 1, "tags": "[]", "satisfaction_comment": None,
          "assignee_id": 10, "priority": "normal", "order_id_field": "",
          "satisfaction_score": "unoffered"}


DELETED_TICKET = {**TICKET, "id": 6, "created_at": ts("2026-01-05 09:00"),
                  "updated_at": ts("2026-01-05 09:45"), "status": "solved",
                  "requester_id": 20, "channel": "email", "subject": "Typo"}
# The incremental ticket models (schema intermediate), each keyed by ticket_id.
TICKET_MODELS = (
    "int_ticket_field_changes", "int_ticket_replies", "int_tickets_timed",
    "int_ticket_spans_business_minutes", "int_ticket_status_spans",
    "int_sla_reply_time_instances", "int_sla_reply_time_measured",
    "int_sla_status_time_measured",
)


def land(settings: Settings, window: Window, source: str, entity: str, rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    frame["_record"] = [json.dumps(row, default=str) for row in rows]
    batch = with_batch_columns(frame, window, window.end)
    write_parquet_atomic(batch, batch_path(settings.lake_dir, source, entity, window.batch_id))


def land_first_batch(settings: Settings) -> None:
    database = create_orders_db(settings.home / "orders.db", "tiny_shop")
    pipeline.land_orders(FIRST.start, FIRST.end, f"sqlite:///{database}")
    land(settings, FIRST, "helpdesk", "users", [
        {"id": i, "name": n, "email": e, "role": r,
         "created_at": ts("2025-06-01"), "updated_at": ts("2025-06-01")}
        for i, n, e, r in (
            (10, "Ana Agent", "ana@shop.example", "agent"),
            (20, "Ada", "ada.lovelace@example.com", "end-user"),
            (21, "Grace", "grace.h@elsewhere.example", "end-user"),
        )
    ])
    land(settings, FIRST, "helpdesk", "groups", [{"id": 1, "name": "Support"}])
    land(settings, FIRST, "helpdesk", "schedule_intervals", [
        {"schedule_id": 1, "schedule_name": "Support hours", "time_zone": "Berlin",
         "start_time": 1440 * day + 540, "end_time": 1440 * day + 1020}
        for day in range(1, 6)
    ])
    land(settings, FIRST, "helpdesk", "holidays", [
        {"schedule_id": 1, "holiday_id": 1, "name": "New Year",
         "start_date": "2026-01-01", "end_date": "2026-01-01"}
    ])
    land(settings, FIRST, "helpdesk", "sla_policy_metrics", [
        {"policy_id": 1, "title": "Standard", "priority": p, "metric": m,
         "target": t, "business_hours": b}
        for p, m, t, b in (
            ("normal", "first_reply_time", 480, True), ("high", "first_reply_time", 60, True),
            ("normal", "next_reply_time", 240, True),
            ("normal", "requester_wait_time", 2880, False),
            ("normal", "agent_work_time", 960, True),
        )
    ])
    land(settings, FIRST, "helpdesk", "tickets", [
        {**TICKET, "id": 1, "created_at": ts("2026-01-02 16:00"),
         "updated_at": ts("2026-01-05 10:00"), "status": "solved", "requester_id": 20,
         "channel": "email", "subject": "Where is my order?", "order_id_field": "100"},
        {**TICKET, "id": 2, "created_at": ts("2026-01-05 10:00"),
         "updated_at": ts("2026-01-05 10:05"), "status": "open", "priority": "high",
         "requester_id": 21, "channel": "voice", "subject": "Call"},
        {**TICKET, "id": 4, "created_at": ts("2026-01-05 11:00"),
         "updated_at": ts("2026-01-05 12:00"), "status": "solved", "requester_id": 20,
         "channel": "email", "subject": "Invoice"},
        {**TICKET, "id": 5, "created_at": ts("2026-01-05 15:00"),
         "updated_at": ts("2026-01-05 15:00"), "status": "new", "requester_id": 21,
         "channel": "web", "subject": "Hello?"},
        DELETED_TICKET,
    ])
    land(settings, FIRST, "helpdesk", "ticket_events", [
        event(1, 100, 1, "2026-01-02 16:00", "Create", field_name="status", value="new"),
        event(2, 100, 1, "2026-01-02 16:00", "Comment", is_public=True, author_id=20),
        event(4, 102, 1, "2026-01-05 08:30", "Comment", is_public=True, author_id=10),
        event(5, 102, 1, "2026-01-05 08:30", "Change", field_name="status",
              value="pending", previous_value="new"),
        event(6, 103, 1, "2026-01-05 10:00", "Change", field_name="status",
              value="solved", previous_value="pending"),
        event(7, 200, 2, "2026-01-05 10:00", "Create", field_name="status", value="new"),
        event(8, 200, 2, "2026-01-05 10:00", "Comment", is_public=True, author_id=10),
        event(9, 201, 2, "2026-01-05 10:05", "Change", field_name="status",
              value="open", previous_value="new"),
        event(40, 400, 4, "2026-01-05 11:00", "Create", field_name="status", value="new"),
        event(41, 400, 4, "2026-01-05 11:00", "Comment", is_public=True, author_id=20),
        event(42, 401, 4, "2026-01-05 11:30", "Comment", is_public=True, author_id=10),
        event(43, 402, 4, "2026-01-05 12:00", "Change", field_name="status",
              value="solved", previous_value="new"),
        event(50, 500, 5, "2026-01-05 15:00", "Create", field_name="status", value="new"),
        event(51, 500, 5, "2026-01-05 15:00", "Comment", is_public=True, author_id=21),
        event(60, 600, 6, "2026-01-05 09:00", "Create", field_name="status", value="new"),
        event(61, 600, 6, "2026-01-05 09:00", "Comment", is_public=True, author_id=20),
        event(62, 601, 6, "2026-01-05 09:30", "Comment", is_public=True, author_id=10),
        event(63, 602, 6, "2026-01-05 09:45", "Change", field_name="status",
              value="solved", previous_value="new"),
    ])
    land(settings, FIRST, "surveys", "responses", [
        {"response_id": "r1", "survey_type": "csat", "submitted_at": ts("2026-01-05 12:00"),
         "respondent_email": "ada.lovelace@example.com", "customer_id": None,
         "ticket_id": 1, "order_id": None, "score": 5, "comment": "great"},
    ])


SECOND_BATCH_EVENTS = [
    # Sent again by the export (an overlapping window): still one event.
    event(9, 201, 2, "2026-01-05 10:05", "Change", field_name="status",
          value="open", previous_value="new"),
    # Ticket 1, three days after its solve: Ada writes again, Ana replies.
    event(10, 104, 1, "2026-01-08 09:00", "Comment", is_public=True, author_id=20),
    event(11, 104, 1, "2026-01-08 09:00", "Change", field_name="status",
          value="open", previous_value="solved"),
    event(12, 105, 1, "2026-01-08 10:00", "Comment", is_public=True, author_id=10),
    event(13, 105, 1, "2026-01-08 10:00", "Change", field_name="status",
          value="pending", previous_value="open"),
    # A new ticket, answered and solved the same day.
    event(30, 300, 3, "2026-01-07 14:00", "Create", field_name="status", value="new"),
    event(31, 300, 3, "2026-01-07 14:00", "Comment", is_public=True, author_id=21),
    event(32, 301, 3, "2026-01-07 15:00", "Comment", is_public=True, author_id=10),
    event(33, 302, 3, "2026-01-07 16:00", "Change", field_name="status",
          value="solved", previous_value="new"),
]


def land_second_batch(settings: Settings) -> None:
    land(settings, SECOND, "helpdesk", "tickets", [
        {**TICKET, "id": 1, "created_at": ts("2026-01-02 16:00"),
         "updated_at": ts("2026-01-08 10:00"), "status": "pending", "requester_id": 20,
         "channel": "email", "subject": "Where is my order?", "order_id_field": "100"},
        {**TICKET, "id": 3, "created_at": ts("2026-01-07 14:00"),
         "updated_at": ts("2026-01-07 16:00"), "status": "solved", "requester_id": 21,
         "channel": "web", "subject": "Return"},
        {**DELETED_TICKET, "updated_at": ts("2026-01-07 09:00"), "status": "deleted"},
    ])
    land(settings, SECOND, "helpdesk", "ticket_events", SECOND_BATCH_EVENTS)
    land(settings, SECOND, "surveys", "responses", [
        {"response_id": "r2", "survey_type": "ces", "submitted_at": ts("2026-01-08 12:00"),
         "respondent_email": "ada.lovelace@example.com", "customer_id": None,
         "ticket_id": 1, "order_id": None, "score": 3, "comment": None},
    ])


def service_tables(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            table: connection.execute(f"select * from service.{table} order by all").df()  # noqa: S608
            for table in SERVICE_TABLES
        }


def full_refresh(settings: Settings, home: Path, as_of: date) -> dict[str, pd.DataFrame]:
    """`dbt build --full-refresh` of the same lake in a separate home."""
    shutil.copytree(settings.lake_dir, home / "lake" / "raw")
    rebuilt = Settings(home, None, None, settings.email_salt)
    warehouse.build(rebuilt, as_of, full_refresh=True)
    return service_tables(rebuilt.warehouse_path)


def last_run_sql(settings: Settings, model_path: str) -> str:
    """The model's query as the last (incremental) run compiled it, watermark included."""
    models = settings.home / "dbt" / "target" / "compiled" / "cxw" / "models"
    return (models / model_path).read_text()


def rows_of_last_run(settings: Settings, model_path: str) -> pd.DataFrame:
    """What the model's query of the last run selects: the rows it processed."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        return connection.execute(last_run_sql(settings, model_path)).df()


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for table in SERVICE_TABLES:
        pd.testing.assert_frame_equal(left[table], right[table], check_dtype=False, obj=table)


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, pd.DataFrame]:
    """Batch 1 built as of the 5th: the settings and service.tickets."""
    home = tmp_path_factory.mktemp("incremental")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(home))
        settings = Settings.from_env()
        land_first_batch(settings)
        warehouse.build(settings, date(2026, 1, 5))
    return settings, service_tables(settings.warehouse_path)["tickets"]


@pytest.fixture(scope="module")
def incremental(first_build: tuple[Settings, pd.DataFrame]) -> Settings:
    """Then batch 2 landed and built incrementally as of the 8th."""
    settings, _ = first_build
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(settings.home))
        land_second_batch(settings)
        warehouse.build(settings, date(2026, 1, 8))
    return settings


def test_first_build_as_of_the_5th(first_build: tuple[Settings, pd.DataFrame]) -> None:
    tickets = first_build[1].set_index("ticket_id")
    assert tickets.loc[1, "status"] == "solved" and tickets.loc[1, "reopen_count"] == 0
    assert tickets.loc[2, "requester_wait_minutes"] == 14 * 60
    assert not tickets.loc[5, "is_first_reply_sla_breached"]  # 60 of 480 business minutes


def test_incremental_build_equals_a_full_refresh(
    incremental: Settings, tmp_path: Path
) -> None:
    built = service_tables(incremental.warehouse_path)
    assert_same_tables(built, full_refresh(incremental, tmp_path, date(2026, 1, 8)))

    tickets = built["tickets"].set_index("ticket_id")
    assert sorted(tickets.index) == [1, 2, 3, 4, 5]
    reopened = tickets.loc[1]
    assert reopened["status"] == "pending" and reopened["reopen_count"] == 1
    assert reopened["agent_reply_count"] == 2 and not reopened["is_one_touch_resolution"]
    assert pd.isna(reopened["full_resolution_minutes"])
    assert reopened["ces_score"] == 3
    # new 16:00 Jan 2 to 08:30 Jan 5, then open 09:00-10:00 Jan 8.
    assert reopened["requester_wait_minutes"] == 3870 + 60
    # Ticket 2 got no new event: its wait still ran on to the end of the new as-of date.
    assert tickets.loc[2, "requester_wait_minutes"] == 14 * 60 + 3 * 24 * 60
    assert bool(tickets.loc[5, "is_first_reply_sla_breached"])


def tickets_in_models(settings: Settings) -> dict[str, set[int]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return {
            model: {
                ticket_id
                for (ticket_id,) in connection.execute(
                    f"select distinct ticket_id from intermediate.{model}"  # noqa: S608
                ).fetchall()
            }
            for model in TICKET_MODELS
        }


def test_a_ticket_deleted_later_leaves_every_incremental_ticket_model(
    first_build: tuple[Settings, pd.DataFrame], incremental: Settings
) -> None:
    assert 6 in set(first_build[1]["ticket_id"])
    for model, tickets in tickets_in_models(incremental).items():
        assert 6 not in tickets, model
        assert 1 in tickets, model
    sla_tickets = set(service_tables(incremental.warehouse_path)["sla_events"]["ticket_id"])
    assert 6 not in sla_tickets and 1 in sla_tickets


def test_incremental_run_read_only_the_new_batch(incremental: Settings) -> None:
    model = "staging/helpdesk/stg_helpdesk__ticket_events.sql"
    assert "_loaded_at > cast('2026-01-06 00:00:00" in last_run_sql(incremental, model)
    events = rows_of_last_run(incremental, model)
    assert sorted(events["ticket_event_id"]) == sorted(e["child_id"] for e in SECOND_BATCH_EVENTS)
    assert set(events["loaded_at"]) == {pd.Timestamp(SECOND.end).tz_localize(None)}

    # Milestones: the changed ticket 1, the new ticket 3 and the unresolved tickets 2
    # and 5 (their waits run to the as-of date); not ticket 4, solved and untouched.
    timed = rows_of_last_run(incremental, "intermediate/service/int_tickets_timed.sql")
    assert sorted(timed["ticket_id"]) == [1, 2, 3, 5]
    spans = rows_of_last_run(
        incremental, "intermediate/service/int_ticket_spans_business_minutes.sql"
    )
    assert sorted(set(spans["ticket_id"])) == [1, 2, 3, 5]
    # SLA instances: measured again for the same tickets (2 and 5 still wait for a
    # first reply, so their clocks run on), never for ticket 4.
    for model in ("int_sla_reply_time_measured", "int_sla_status_time_measured"):
        measured = rows_of_last_run(incremental, f"intermediate/service/sla/{model}.sql")
        assert set(measured["ticket_id"]) <= {1, 2, 3, 5} and 1 in set(measured["ticket_id"])


# Last: it builds again, replacing the compiled queries the test above reads.
def test_a_rerun_for_an_older_as_of_date_equals_its_full_refresh(
    incremental: Settings, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(incremental.home))
        warehouse.build(incremental, date(2026, 1, 6))
    assert_same_tables(
        service_tables(incremental.warehouse_path),
        full_refresh(incremental, tmp_path, date(2026, 1, 6)),
    )

