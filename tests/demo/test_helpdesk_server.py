"""The fake Zendesk over real HTTP: auth, paging, clock, and the faults extractors must survive."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cxw_demo.helpdesk_server import HelpdeskServer, ServerFaults

TOKEN = "s3cret"
AUTH = ("agent@inkwell-books.example/token", TOKEN)
DAY = 86_400


@pytest.fixture(scope="module")
def helpdesk_dir(small_dataset) -> Path:
    out, _ = small_dataset
    return out / "helpdesk"


@pytest.fixture(scope="module")
def end_ts(helpdesk_dir: Path) -> int:
    return json.loads((helpdesk_dir / "meta.json").read_text())["end_ts"]


def _tickets_file(helpdesk_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (helpdesk_dir / "tickets.jsonl").read_text().splitlines()]


def _sync_tickets(url: str, start_time: int, per_page: int, cursor: str | None = None):
    seen: list[dict] = []
    params: dict = {"cursor": cursor} if cursor else {"start_time": start_time}
    pages = 0
    while True:
        body = requests.get(
            f"{url}/api/v2/incremental/tickets/cursor.json",
            params={**params, "per_page": per_page},
            auth=AUTH,
            timeout=10,
        ).json()
        seen.extend(body["tickets"])
        pages += 1
        params = {"cursor": body["after_cursor"]}
        if body["end_of_stream"]:
            return seen, body["after_cursor"], pages


def test_wrong_or_missing_token_is_rejected(helpdesk_dir, end_ts):
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts) as server:
        url = f"{server.url}/api/v2/groups.json"
        assert requests.get(url, auth=("a@b.example/token", "wrong"), timeout=5).status_code == 401
        assert requests.get(url, auth=("a@b.example", TOKEN), timeout=5).status_code == 401
        assert requests.get(url, timeout=5).status_code == 401
        bad_bearer = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
        assert bad_bearer.status_code == 401 and bad_bearer.json()["error"]
        assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).ok
        assert requests.get(url, auth=AUTH, timeout=5).ok
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0


def test_ticket_cursor_pages_to_end_of_stream(helpdesk_dir, end_ts):
    expected = _tickets_file(helpdesk_dir)
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts + 10 * DAY) as server:
        tickets, cursor, pages = _sync_tickets(server.url, 0, per_page=7)
        assert pages > 2
        assert sorted(t["id"] for t in tickets) == sorted(t["id"] for t in expected)
        keys = [(t["updated_at"], t["id"]) for t in tickets]
        assert keys == sorted(keys)
        # The served state at the end of the data is the state in tickets.jsonl.
        final = {t["id"]: t for t in expected}
        for ticket in tickets:
            assert ticket["status"] == final[ticket["id"]]["status"]
            assert ticket["updated_at"] == final[ticket["id"]]["updated_at"]
        # Nothing changed since: resuming from the kept cursor gives nothing new.
        again, _, _ = _sync_tickets(server.url, 0, per_page=7, cursor=cursor)
        assert again == []


def test_day_by_day_sync_sees_records_as_their_updated_at_passes(helpdesk_dir, end_ts):
    with HelpdeskServer(helpdesk_dir, token=TOKEN) as server:
        start = end_ts - 31 * DAY
        cursor, state = None, {}
        for day in range(1, 33):
            server.now = start + day * DAY
            tickets, cursor, _ = _sync_tickets(server.url, start, per_page=50, cursor=cursor)
            for ticket in tickets:
                assert ticket["updated_at"] <= time.strftime(
                    "%Y-%m-%dT%H:%M:%SZ", time.gmtime(server.now - 60)
                )
                state[ticket["id"]] = ticket
        final = {t["id"]: t for t in _tickets_file(helpdesk_dir)}
        assert state.keys() == final.keys()
        assert all(state[i]["status"] == final[i]["status"] for i in final)
        assert {t["status"] for t in state.values()} >= {"closed", "pending"} or len(state) < 10


def test_records_changed_in_the_last_minute_are_held_back(helpdesk_dir, end_ts):
    events = [
        json.loads(line) for line in (helpdesk_dir / "ticket_events.jsonl").read_text().splitlines()
    ]
    moment = events[len(events) // 2]["timestamp"]
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=moment + 30) as server:
        body = requests.get(
            f"{server.url}/api/v2/incremental/ticket_events.json",
            params={"start_time": moment - 3600},
            auth=AUTH,
            timeout=5,
        ).json()
        assert all(e["timestamp"] <= moment - 30 for e in body["ticket_events"])
        too_recent = requests.get(
            f"{server.url}/api/v2/incremental/ticket_events.json",
            params={"start_time": moment},
            auth=AUTH,
            timeout=5,
        )
        assert too_recent.status_code == 422


def test_ticket_events_repeat_across_pages_and_dedupe_by_id(helpdesk_dir, end_ts):
    expected = [
        json.loads(line) for line in (helpdesk_dir / "ticket_events.jsonl").read_text().splitlines()
    ]
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts + DAY) as server:
        start, seen, pages = 0, [], 0
        while True:
            body = requests.get(
                f"{server.url}/api/v2/incremental/ticket_events.json",
                params={"start_time": start, "include": "comment_events", "per_page": 20},
                auth=AUTH,
                timeout=5,
            ).json()
            assert body["count"] == len(body["ticket_events"])
            seen.extend(body["ticket_events"])
            start, pages = body["end_time"], pages + 1
            if body["end_of_stream"]:
                break
        ids = [event["id"] for event in seen]
        assert len(ids) > len(set(ids)), "items repeat across pages"
        assert set(ids) == {event["id"] for event in expected}
        assert any(c["event_type"] == "Comment" for e in seen for c in e["child_events"])
        plain = requests.get(
            f"{server.url}/api/v2/incremental/ticket_events.json",
            params={"start_time": 0},
            auth=AUTH,
            timeout=5,
        ).json()
        assert not any(
            c["event_type"] == "Comment" for e in plain["ticket_events"] for c in e["child_events"]
        )


def test_users_groups_schedules_and_sla(helpdesk_dir, end_ts):
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts + DAY) as server:
        users, params = [], {"start_time": 0, "per_page": 10}
        while True:
            body = requests.get(
                f"{server.url}/api/v2/incremental/users/cursor.json",
                params=params,
                auth=AUTH,
                timeout=5,
            ).json()
            users.extend(body["users"])
            params = {"cursor": body["after_cursor"], "per_page": 10}
            if body["end_of_stream"]:
                break
        assert len(users) == len(json.loads((helpdesk_dir / "users.json").read_text()))
        assert {"id", "name", "email", "role", "created_at", "updated_at"} <= set(users[0])
        groups, url = [], f"{server.url}/api/v2/groups.json?per_page=2"
        while url:
            body = requests.get(url, auth=AUTH, timeout=5).json()
            groups.extend(body["groups"])
            url = body["next_page"]
        assert len(groups) == 3 and {"id", "name"} <= set(groups[0])
        schedules = requests.get(
            f"{server.url}/api/v2/business_hours/schedules.json", auth=AUTH, timeout=5
        ).json()["schedules"]
        assert schedules[0]["time_zone"] == "Berlin"
        holidays = requests.get(
            f"{server.url}/api/v2/business_hours/schedules/{schedules[0]['id']}/holidays.json",
            auth=AUTH,
            timeout=5,
        ).json()["holidays"]
        assert {"name", "start_date", "end_date"} <= set(holidays[0])
        policies = requests.get(
            f"{server.url}/api/v2/slas/policies.json", auth=AUTH, timeout=5
        ).json()
        metrics = policies["sla_policies"][0]["policy_metrics"]
        assert {m["metric"] for m in metrics} == {
            "first_reply_time",
            "next_reply_time",
            "requester_wait_time",
            "agent_work_time",
        }
        assert {m["priority"] for m in metrics} == {"low", "normal", "high", "urgent"}
        assert len(metrics) == 16, "all four metrics for each priority"
        assert {m["business_hours"] for m in metrics} == {True, False}, "business and calendar"


def test_rate_limit_with_retry_after(helpdesk_dir, end_ts):
    faults = ServerFaults(rate_limit_every=3, retry_after=7)
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts, faults=faults) as server:
        codes = []
        for _ in range(6):
            response = requests.get(f"{server.url}/api/v2/groups.json", auth=AUTH, timeout=5)
            codes.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["Retry-After"] == "7"
        assert codes == [200, 200, 429, 200, 200, 429]


def test_error_bursts_and_slow_responses(helpdesk_dir, end_ts):
    faults = ServerFaults(error_every=5, error_burst=2, error_status=503, delay_seconds=0.05)
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts, faults=faults) as server:
        began = time.perf_counter()
        codes = [
            requests.get(f"{server.url}/api/v2/groups.json", auth=AUTH, timeout=5).status_code
            for _ in range(10)
        ]
        assert codes == [200, 200, 200, 503, 503] * 2
        assert time.perf_counter() - began >= 0.5


def test_cli_serves_until_stopped(helpdesk_dir, end_ts):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cxw_demo",
            "serve-helpdesk",
            "--data",
            str(helpdesk_dir.parent),
            "--port",
            "0",
            "--token",
            TOKEN,
            "--now",
            str(end_ts),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = line.split(" on ")[1].split()[0]
        assert requests.get(f"{url}/api/v2/groups.json", auth=AUTH, timeout=5).ok
        assert (
            requests.get(
                f"{url}/api/v2/groups.json", auth=("x/token", "bad"), timeout=5
            ).status_code
            == 401
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cursor_pages_can_repeat_items(helpdesk_dir, end_ts):
    expected = _tickets_file(helpdesk_dir)
    faults = ServerFaults(repeat_last_item=True)
    with HelpdeskServer(helpdesk_dir, token=TOKEN, now=end_ts + DAY, faults=faults) as server:
        tickets, _, pages = _sync_tickets(server.url, 0, per_page=5)
    ids = [ticket["id"] for ticket in tickets]
    assert pages > 2 and len(ids) > len(set(ids))
    assert set(ids) == {ticket["id"] for ticket in expected}
