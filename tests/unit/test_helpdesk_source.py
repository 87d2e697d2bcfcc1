"""The helpdesk extractor against the demo Zendesk simulator, over real HTTP on loopback."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cxw import landing, pipeline
from cxw.lake import Window
from cxw.landing import BatchRejected, land_batch
from cxw.ledger import last_runs
from cxw.settings import Settings
from cxw.sources import helpdesk
from cxw.sources.helpdesk import (
    ENTITIES,
    HISTORY_START,
    HelpdeskAuthError,
    HelpdeskClient,
    HelpdeskConfig,
    HelpdeskError,
    SyncBoundExceeded,
)
from cxw.state import SyncState
from cxw.validation import suite_path
from cxw_demo.config import DEFAULT_AGENT_EMAIL, DEFAULT_TOKEN, ORDER_FIELD_ID, SimulationConfig
from cxw_demo.helpdesk_data import build_helpdesk, load_helpdesk, write_helpdesk
from cxw_demo.helpdesk_server import HelpdeskServer, ServerFaults
from cxw_demo.world import build_world

SIM = SimulationConfig(customers=300, start=date(2026, 1, 5), end=date(2026, 1, 10), seed=7)
SIM_END = datetime.fromtimestamp(SIM.end_ts, UTC)
EVERYTHING = Window(HISTORY_START, SIM_END)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def helpdesk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("helpdesk")
    write_helpdesk(build_helpdesk(build_world(SIM)), folder)
    return folder


@pytest.fixture(scope="module")
def generated(helpdesk_dir: Path) -> dict[str, Any]:
    return load_helpdesk(helpdesk_dir)


@pytest.fixture(scope="module")
def running_server(helpdesk_dir: Path) -> Iterator[HelpdeskServer]:
    # One server for the module: stopping one costs half a second (its poll interval).
    with HelpdeskServer(helpdesk_dir) as running:
        yield running


@pytest.fixture
def server(running_server: HelpdeskServer) -> HelpdeskServer:
    """The simulator, well-behaved, its clock ten minutes after the simulated range."""
    running_server.now = SIM.end_ts + 600
    running_server.faults = ServerFaults()
    running_server.requests_served = 0
    return running_server


def client_for(
    server: HelpdeskServer, token: str = DEFAULT_TOKEN, **options: Any
) -> HelpdeskClient:
    options.setdefault("backoff_seconds", 0.01)
    config = HelpdeskConfig(server.url, DEFAULT_AGENT_EMAIL, token, ORDER_FIELD_ID)
    return HelpdeskClient(config, **options)


def ids(records: list[dict[str, Any]]) -> list[int]:
    return sorted(record["id"] for record in records)


def child_ids(audits: list[dict[str, Any]]) -> list[int]:
    return sorted(child["id"] for audit in audits for child in audit["child_events"])


def batches(home: Path, entity: str) -> list[Path]:
    return sorted((home / "lake" / "raw" / "helpdesk" / entity).glob("*.parquet"))


def assert_same_batch(again: pd.DataFrame, before: pd.DataFrame) -> None:
    """Equal but for the load time."""
    pd.testing.assert_frame_equal(
        again.drop(columns="_loaded_at"), before.drop(columns="_loaded_at")
    )


def read_all(home: Path, entity: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(path) for path in batches(home, entity)], ignore_index=True)


# -- paging ----------------------------------------------------------------------------


def test_ticket_cursor_pages_until_end_of_stream(server: HelpdeskServer, generated: dict) -> None:
    with client_for(server, per_page=4) as client:
        fetched = helpdesk.fetch_tickets(client, EVERYTHING)
    assert ids(fetched.records) == ids(generated["tickets"])
    assert fetched.pages >= len(generated["tickets"]) / 4 > 1
    assert fetched.cursor  # the last after_cursor, for the sync state

    # A window in the middle stops once the items pass its end, short of end_of_stream.
    with client_for(server, per_page=4) as client:
        early = helpdesk.fetch_tickets(client, Window(HISTORY_START, utc(2026, 1, 7)))
    assert 0 < early.pages < fetched.pages
    assert all(t["updated_at"] < "2026-01-07" for t in early.records)


def test_repeated_ticket_events_across_pages_are_deduplicated(
    server: HelpdeskServer, generated: dict
) -> None:
    served: list[int] = []
    with client_for(server, per_page=5) as client:
        get = client.get

        def counting_get(*args: Any, **kwargs: Any) -> dict[str, Any]:
            body = get(*args, **kwargs)
            served.extend(event["id"] for event in body.get("ticket_events", []))
            return body

        client.get = counting_get  # type: ignore[method-assign]
        fetched = helpdesk.fetch_ticket_events(client, EVERYTHING)
    assert len(served) > len(set(served)), "the simulator repeats each page's last second"
    assert ids(fetched.records) == ids(generated["ticket_events"])
    rows = ENTITIES["ticket_events"].frame(fetched.records, client.config)
    assert rows["child_id"].tolist() == child_ids(generated["ticket_events"])


# -- faults ----------------------------------------------------------------------------


def test_rate_limit_waits_retry_after_then_gets_everything(
    server: HelpdeskServer, generated: dict
) -> None:
    server.faults = ServerFaults(rate_limit_every=2, retry_after=1)
    sleeps: list[float] = []
    with client_for(server, per_page=4, sleep=sleeps.append) as client:
        fetched = helpdesk.fetch_tickets(client, EVERYTHING)
    assert ids(fetched.records) == ids(generated["tickets"])
    assert sleeps and set(sleeps) == {1.0}

    # And for real: the second request is rate-limited, the client sleeps a second.
    server.faults, server.requests_served = ServerFaults(rate_limit_every=2, retry_after=1), 0
    with client_for(server) as client:
        client.get(helpdesk.GROUPS_PATH)
        began = time.monotonic()
        assert client.get(helpdesk.GROUPS_PATH)["groups"]
    assert time.monotonic() - began >= 1.0


def test_server_errors_are_retried_with_exponential_backoff(
    server: HelpdeskServer, generated: dict
) -> None:
    server.faults = ServerFaults(error_every=3, error_burst=2, error_status=503)
    sleeps: list[float] = []
    with client_for(server, per_page=4, sleep=sleeps.append, backoff_seconds=0.5) as client:
        fetched = helpdesk.fetch_tickets(client, EVERYTHING)
    assert ids(fetched.records) == ids(generated["tickets"])
    assert any(0.5 <= s <= 0.55 for s in sleeps) and any(1.0 <= s <= 1.1 for s in sleeps)


def test_persistent_server_errors_give_up_after_bounded_attempts(server: HelpdeskServer) -> None:
    server.faults = ServerFaults(error_every=1, error_burst=1, error_status=502)
    with client_for(server, max_attempts=3) as client, pytest.raises(
        HelpdeskError, match="failed 3 times; last: HTTP 502"
    ):
        client.get(helpdesk.GROUPS_PATH)
    assert server.requests_served == 3


def test_timeouts_are_retried(server: HelpdeskServer) -> None:
    server.faults = ServerFaults(delay_seconds=0.5)
    sleeps: list[float] = []

    def sleep_while_server_recovers(seconds: float) -> None:
        sleeps.append(seconds)
        server.faults = ServerFaults()

    with client_for(server, timeout=(1.0, 0.2), sleep=sleep_while_server_recovers) as client:
        assert client.get(helpdesk.GROUPS_PATH)["groups"]
    assert len(sleeps) == 1


def test_a_cursor_loop_ends_the_sync_with_an_error(
    server: HelpdeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The server answers c1, c2, c1, ...: not the same cursor twice in a row, still a loop.
    server.faults = ServerFaults(cursor_loop=True)
    caplog.set_level(logging.INFO, logger="cxw.sources.helpdesk")
    with client_for(server, per_page=2) as client, pytest.raises(
        SyncBoundExceeded, match="returned an after_cursor it had returned before .page 3."
    ):
        client.begin_sync("tickets")
        helpdesk.fetch_tickets(client, EVERYTHING)
    assert "helpdesk.tickets: /api/v2/incremental/tickets/cursor.json page 1 read" in caplog.text


def test_a_sync_stops_at_its_page_count(server: HelpdeskServer) -> None:
    with client_for(server, per_page=2, max_pages=3) as client, pytest.raises(
        SyncBoundExceeded,
        match=r"read 3 pages without reaching the end of the stream \(CXW_HELPDESK_MAX_PAGES=3\)",
    ):
        helpdesk.read_entity(client, ENTITIES["tickets"], EVERYTHING)


def test_a_silent_server_ends_the_sync_at_its_deadline(helpdesk_dir: Path) -> None:
    # Every request is accepted and never answered: each try times out after 0.2 s and
    # is retried (up to 1000 attempts) until the sync's 1 s deadline ends it.
    with HelpdeskServer(helpdesk_dir, faults=ServerFaults(silent=True)) as silent, client_for(
        silent, timeout=(0.5, 0.2), max_attempts=1000, sync_deadline_seconds=1.0
    ) as client, pytest.raises(SyncBoundExceeded) as caught:
        helpdesk.read_entity(client, ENTITIES["groups"], EVERYTHING)
    message = str(caught.value)
    assert message.startswith("helpdesk.groups: sync stopped after ")
    assert "past its deadline of 1 s (CXW_HELPDESK_SYNC_DEADLINE_SECONDS)" in message
    assert "last on /api/v2/groups.json: ReadTimeout" in message
    assert client.requests_made < 1000, "ended by the deadline, not by running out of tries"


def test_wrong_token_fails_clearly_without_leaking_it(
    server: HelpdeskServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "not-the-token-8f3a1c"
    client = client_for(server, token=secret)
    with caplog.at_level(logging.DEBUG), client, pytest.raises(HelpdeskAuthError) as error:
        helpdesk.fetch_tickets(client, EVERYTHING)
    message = str(error.value)
    assert "HTTP 401" in message and "helpdesk_api" in message and DEFAULT_AGENT_EMAIL in message
    assert client.requests_made == 1, "bad credentials are not retried"
    for text in (message, repr(error.value), caplog.text, repr(client.config)):
        assert secret not in text


# -- flattening ------------------------------------------------------------------------


CONFIG = HelpdeskConfig("https://support.example", "agent@example", "t", order_field_id=777)


def test_ticket_row_takes_the_order_field_and_keeps_the_record() -> None:
    ticket = {
        "id": 9, "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-01-05T11:00:00Z",
        "status": "open", "priority": None, "requester_id": 5, "submitter_id": 5,
        "assignee_id": None, "group_id": 3, "via": {"channel": "email"}, "subject": "Late",
        "tags": ["late", "order"],
        "custom_fields": [{"id": 1, "value": "x"}, {"id": 777, "value": "100042"}],
        "satisfaction_rating": {"score": "bad", "comment": "Slow"},
        "brand_new_field": {"kept": True},
    }
    row = ENTITIES["tickets"].frame([ticket], CONFIG).iloc[0]
    assert (row["order_id_field"], row["channel"]) == ("100042", "email")
    assert row["tags"] == '["late","order"]'
    assert (row["satisfaction_score"], row["satisfaction_comment"]) == ("bad", "Slow")
    assert json.loads(row["_record"]) == ticket
    without = {**ticket, "custom_fields": [{"id": 777, "value": ""}], "satisfaction_rating": None}
    row = ENTITIES["tickets"].frame([without], CONFIG).iloc[0]
    assert row["order_id_field"] == "" and row["satisfaction_score"] is None


def test_a_deleted_ticket_passes_the_landing_suite(cxw_home: Path) -> None:
    # A routine Zendesk deletion: the export sends the ticket again, status "deleted".
    deleted = {
        "id": 9, "created_at": "2026-01-05T10:00:00Z", "updated_at": "2026-01-06T11:00:00Z",
        "status": "deleted", "priority": "normal", "requester_id": 5, "submitter_id": 5,
        "assignee_id": None, "group_id": 3, "via": {"channel": "email"}, "subject": "Spam",
        "tags": [], "custom_fields": [], "satisfaction_rating": None,
    }
    window = Window(utc(2026, 1, 6), utc(2026, 1, 7))
    landed = land_batch(
        ENTITIES["tickets"].frame([deleted], CONFIG),
        source="helpdesk",
        entity="tickets",
        columns=ENTITIES["tickets"].columns,
        window=window,
        origin="test",
        settings=Settings.from_env(),
    )
    assert pd.read_parquet(landed)["status"].tolist() == ["deleted"]


def test_ticket_events_give_one_row_per_child_event_deduplicated() -> None:
    audit = {
        "id": 70, "ticket_id": 9, "timestamp": 1767607200, "created_at": "2026-01-05T10:00:00Z",
        "updater_id": 5, "via": {"channel": "web"}, "event_type": "Audit",
        "child_events": [
            {"id": 1, "event_type": "Comment", "public": False, "author_id": 5, "body": "Note"},
            {"id": 2, "event_type": "Change", "field_name": "status", "value": "open",
             "previous_value": "new"},
            {"id": 3, "event_type": "Change", "field_name": "tags", "value": ["a", "b"],
             "previous_value": None},
            {"id": 4, "event_type": "SatisfactionRating", "score": "good", "comment": "Thanks"},
        ],
    }
    empty = {"id": 71, "ticket_id": 9, "timestamp": 1767607300, "via": None, "child_events": []}
    rows = ENTITIES["ticket_events"].frame([audit, audit, empty], CONFIG)
    assert rows["child_id"].tolist() == [1, 2, 3, 4, None]
    comment, status, tags, rating, bare = rows.to_dict("records")
    assert (comment["is_public"], comment["author_id"], comment["body"]) == (False, 5, "Note")
    assert (status["value"], status["previous_value"], status["is_public"]) == ("open", "new", None)
    assert tags["value"] == '["a","b"]' and tags["previous_value"] is None
    assert (rating["value"], rating["body"]) == ("good", "Thanks")
    assert json.loads(comment["_record"]) == audit
    assert (bare["audit_id"], bare["created_at"]) == (71, "2026-01-05T10:01:40+00:00")


def test_simulator_tickets_flatten_with_their_order_numbers(
    server: HelpdeskServer, generated: dict
) -> None:
    with client_for(server) as client:
        records = helpdesk.fetch_tickets(client, EVERYTHING).records
    rows = ENTITIES["tickets"].frame(records, client.config)
    expected = {
        t["id"]: next(f["value"] for f in t["custom_fields"] if f["id"] == ORDER_FIELD_ID)
        for t in generated["tickets"]
    }
    assert dict(zip(rows["id"], rows["order_id_field"], strict=True)) == expected
    assert any(expected.values())
    assert set(rows["channel"]) <= {"email", "web", "chat", "voice", "api"}


# -- landing, reruns and state ---------------------------------------------------------


def run_window(server: HelpdeskServer, start: datetime, end: datetime, **options: Any) -> dict:
    """Run the task as the scheduler would: ten minutes after the window closed."""
    server.now = int(end.timestamp()) + 600
    return pipeline.land_helpdesk(start, end, client=client_for(server, **options))


# Two three-day windows: the first reads the whole history, the second the usual span.
WINDOWS = [
    (utc(2026, 1, 5) + timedelta(days=3 * n), utc(2026, 1, 5) + timedelta(days=3 * n + 3))
    for n in range(2)
]


def test_windows_land_every_record_once_and_a_rerun_gives_the_same_batch(
    server: HelpdeskServer, generated: dict, cxw_home: Path
) -> None:
    # Through rate limits and 5xx bursts (waits skipped: the fault tests time them).
    server.faults = ServerFaults(rate_limit_every=5, error_every=7, error_burst=2)
    for start, end in WINDOWS:
        run_window(server, start, end, per_page=7, sleep=lambda seconds: None)
    assert WINDOWS[-1][1] == SIM_END and server.requests_served > 20
    server.faults = ServerFaults()

    tickets = read_all(cxw_home, "tickets").sort_values(["id", "updated_at"])
    latest = tickets.drop_duplicates("id", keep="last").set_index("id")
    for ticket in generated["tickets"]:  # the helpdesk as it stands at the end
        row = latest.loc[ticket["id"]]
        assignee = None if pd.isna(row["assignee_id"]) else row["assignee_id"]
        assert (row["status"], assignee) == (ticket["status"], ticket["assignee_id"])
        assert row["updated_at"] == pd.Timestamp(ticket["updated_at"])
    assert len(latest) == len(generated["tickets"])
    events = read_all(cxw_home, "ticket_events")
    assert sorted(set(events["child_id"])) == child_ids(generated["ticket_events"])
    assert set(read_all(cxw_home, "users")["id"]) == {u["id"] for u in generated["users"]}

    state = SyncState(Settings.from_env(), "helpdesk").load()
    assert set(state) == set(ENTITIES)
    first_id, last_id = (Window(*WINDOWS[0]).batch_id, Window(*WINDOWS[-1]).batch_id)
    assert {(s["first_batch_id"], s["batch_id"]) for s in state.values()} == {(first_id, last_id)}
    assert state["tickets"]["cursor"] and state["ticket_events"]["cursor"]

    second = Window(*WINDOWS[1])
    before = {e: pd.read_parquet(batches(cxw_home, e)[1]) for e in ENTITIES}
    run_window(server, second.start, second.end, per_page=3)  # other page boundaries
    for entity, frame in before.items():
        assert [p.name for p in batches(cxw_home, entity)][1] == f"{second.batch_id}.parquet"
        again = pd.read_parquet(batches(cxw_home, entity)[1])
        assert len(batches(cxw_home, entity)) == len(WINDOWS), "replaced, not added"
        assert_same_batch(again, frame)


def test_first_window_and_its_reruns_read_the_whole_history() -> None:
    first, later = Window(*WINDOWS[0]), Window(*WINDOWS[1])
    assert helpdesk.read_span(first, None) == Window(HISTORY_START, first.end)
    landed = {"first_batch_id": first.batch_id}
    assert helpdesk.read_span(first, landed).start == HISTORY_START
    assert helpdesk.read_span(later, landed) == Window(later.start - timedelta(hours=1), later.end)


def spoil_a_ticket_status(source: Path, target: Path) -> int:
    """Copy the helpdesk data with one ticket's last status change set to 'weird'."""
    shutil.copytree(source, target)
    path = target / "ticket_events.jsonl"
    audits = [json.loads(line) for line in path.read_text().splitlines()]
    changes = [
        child for audit in audits for child in audit["child_events"]
        if child.get("field_name") == "status"
    ]
    changes[-1]["value"] = "weird"
    path.write_text("".join(json.dumps(audit) + "\n" for audit in audits))
    return next(a["ticket_id"] for a in audits if changes[-1] in a["child_events"])


def test_bad_record_is_quarantined_and_nothing_published_changes(
    server: HelpdeskServer, helpdesk_dir: Path, tmp_path: Path, cxw_home: Path
) -> None:
    start, end = WINDOWS[-1]
    run_window(server, start, end)
    published = batches(cxw_home, "tickets")
    content = published[0].read_bytes()
    state = SyncState(Settings.from_env(), "helpdesk")
    saved = state.get("tickets")
    users_landed_at = state.get("users")["landed_at"]

    ticket_id = spoil_a_ticket_status(helpdesk_dir, tmp_path / "spoiled")
    spoiled = HelpdeskServer(tmp_path / "spoiled", now=server.now)
    with spoiled, pytest.raises(BatchRejected) as error:
        run_window(spoiled, start, end)
    message = str(error.value)
    assert message.startswith("helpdesk.tickets: batch 20260108T000000_20260111T000000 from http")
    assert "expect_column_values_to_be_in_set(column='status'" in message
    assert "'weird'" in message and f"'id': {ticket_id}" in message
    assert (error.value.quarantine_path / "validation.json").exists()
    assert batches(cxw_home, "tickets") == published and published[0].read_bytes() == content
    assert state.get("tickets") == saved, "a rejected batch does not move the sync state"
    assert state.get("users")["landed_at"] > users_landed_at, "the other entities still land"
    record = last_runs(Settings.from_env())["helpdesk"]
    assert list(record["rejected"]) == ["tickets"] and len(record["landed"]) == len(ENTITIES) - 1


def test_state_is_saved_only_after_each_batch_lands(
    server: HelpdeskServer, cxw_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start, end = WINDOWS[0]
    land = landing.land_table

    def land_then_crash_on_users(table: Any, frame: pd.DataFrame, **kwargs: Any) -> Path:
        if kwargs["entity"] == "users":
            raise OSError("disk full while writing the users batch")
        return land(table, frame, **kwargs)

    monkeypatch.setattr(landing, "land_table", land_then_crash_on_users)
    with pytest.raises(OSError, match="disk full"):
        run_window(server, start, end)
    state = SyncState(Settings.from_env(), "helpdesk")
    assert set(state.load()) == {"tickets", "ticket_events"}, "landed before the crash"
    assert not batches(cxw_home, "users")
    tickets = pd.read_parquet(batches(cxw_home, "tickets")[0])

    monkeypatch.setattr(landing, "land_table", land)
    landed = run_window(server, start, end)  # the retry
    assert set(state.load()) == set(ENTITIES)
    assert landed["users"] == len(read_all(cxw_home, "users")) > 0
    assert_same_batch(pd.read_parquet(batches(cxw_home, "tickets")[0]), tickets)


def test_next_page_links_to_other_hosts_are_refused(server: HelpdeskServer) -> None:
    with client_for(server) as client, pytest.raises(HelpdeskError, match="refusing to follow"):
        client.get("https://elsewhere.example/api/v2/groups.json?page=2")


def test_every_entity_has_a_suite_requiring_its_contract_columns() -> None:
    for entity in ENTITIES.values():
        suite = json.loads(suite_path(helpdesk.SOURCE, entity.name).read_text())
        required = [
            e["kwargs"]["column"]
            for e in suite["expectations"]
            if e["type"] == "expect_column_to_exist"
        ]
        assert required == list(entity.columns) and entity.columns["_record"] == "str"
