"""``as_of`` snapshots: the same shop seen earlier, as an incremental pipeline meets it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cxw_demo.generate import generate

AS_OF = "2026-01-20"


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory, small_params: dict) -> Path:
    out = tmp_path_factory.mktemp("demo_snapshot")
    generate(out, as_of=AS_OF, **small_params)
    return out


def _orders(path: Path) -> dict[int, tuple]:
    with sqlite3.connect(path) as db:
        return {row[0]: row for row in db.execute("select id, status, updated_at from orders")}


def test_orders_change_between_snapshot_and_end(snapshot, small_dataset):
    full_dir, _ = small_dataset
    early, late = _orders(snapshot / "shop.db"), _orders(full_dir / "shop.db")
    assert early and set(early) < set(late)
    assert max(row[2] for row in early.values()) < AS_OF
    changed = [i for i in early if early[i][1] != late[i][1]]
    assert changed, "orders move on: paid -> shipped -> delivered, refunds"
    assert all(late[i][2] > early[i][2] for i in changed), "and their updated_at moves with them"


def test_survey_drops_are_the_days_already_exported(snapshot, small_dataset):
    full_dir, _ = small_dataset
    early = sorted(p.name for p in (snapshot / "surveys").glob("*.csv"))
    assert early and all(name < f"responses_{AS_OF.replace('-', '')}.csv" for name in early)
    for name in early:
        assert (snapshot / "surveys" / name).read_bytes() == (
            full_dir / "surveys" / name
        ).read_bytes()


def test_recent_ga4_days_are_rewritten_later(snapshot, small_dataset):
    full_dir, _ = small_dataset
    early = sorted((snapshot / "ga4").glob("events_*.jsonl"))
    assert len(early) == 19
    counts = {
        p.name: (
            len(p.read_text().splitlines()),
            len((full_dir / "ga4" / p.name).read_text().splitlines()),
        )
        for p in early
    }
    assert all(before <= after for before, after in counts.values())
    recent = [counts[p.name] for p in early[-3:]]
    assert sum(b for b, _ in recent) < sum(a for _, a in recent), "late hits arrive within 72 h"
    older = [counts[p.name] for p in early[:-3]]
    assert all(b == a for b, a in older), "older days are settled"


def test_helpdesk_snapshot_is_a_prefix_of_the_story(snapshot, small_dataset):
    full_dir, _ = small_dataset

    def load(folder: Path) -> dict[int, dict]:
        lines = (folder / "helpdesk" / "tickets.jsonl").read_text().splitlines()
        return {t["id"]: t for t in map(json.loads, lines)}

    early, late = load(snapshot), load(full_dir)
    assert early and set(early) < set(late)
    assert any(early[i]["status"] != late[i]["status"] for i in early)
    for ticket_id, ticket in early.items():
        assert ticket["requester_id"] == late[ticket_id]["requester_id"]
        assert ticket["updated_at"] <= late[ticket_id]["updated_at"]
