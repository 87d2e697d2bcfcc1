"""Fault switches plant the malformed records they name; the CLI prints what it generated."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from cxw_demo.__main__ import main
from cxw_demo.faults import FAULTS, inject_faults
from cxw_demo.generate import generate


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, dict]:
    manifest = generate(
        tmp_path, customers=150, start="2026-01-01", end="2026-01-20", seed=4, faults=["all"]
    )
    return tmp_path, manifest


def test_every_fault_is_planted(damaged):
    out, manifest = damaged
    assert set(manifest["faults"]) == set(FAULTS)
    assert all(manifest["faults"].values())
    with sqlite3.connect(out / "shop.db") as db:
        assert db.execute("select count(*) from refunds where amount < 0").fetchone()[0] == 1
        assert db.execute(
            "select count(*) from orders where placed_at = '2026-13-45 25:61:00'"
        ).fetchone() == (1,)
        columns = [row[1] for row in db.execute("pragma table_info(customers)")]
        assert columns[-1] == "loyalty_tier"
    survey = sorted((out / "surveys").glob("*.csv"))[-1]
    raw = survey.read_bytes()
    assert not raw.endswith(b"\r\n"), "truncated mid-row"
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][-1] == "language"
    assert any(row and row[0] == "" for row in rows[1:])
    assert any(len(row) > 1 and row[1] == "pulse" for row in rows[1:])
    ga4 = sorted((out / "ga4").glob("*.jsonl"))[-1]
    lines = ga4.read_text().splitlines()
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[-1])
    first = json.loads(lines[0])
    assert first["user_pseudo_id"] is None and first["device"]["category"] == "smart fridge"
    assert "privacy_info" in first
    events = (out / "helpdesk" / "ticket_events.jsonl").read_text().splitlines()
    ids = [json.loads(line)["id"] for line in events]
    assert len(ids) > len(set(ids))


def test_unknown_fault_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="unknown faults"):
        inject_faults(tmp_path, ["gremlins"])


def test_cli_generate_prints_counts(tmp_path: Path, capsys):
    code = main(
        ["generate", "--out", str(tmp_path), "--customers", "30",
         "--start", "2026-01-01", "--end", "2026-01-10", "--seed", "1"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "orders_db: customers 30" in printed and "ga4: files 10" in printed
    assert (tmp_path / "shop.db").exists() and (tmp_path / "manifest.json").exists()
