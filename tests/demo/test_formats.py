"""Each output matches sources.md field by field: names, types, nesting, encodings."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cxw_demo.config import ORDER_FIELD_ID

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ORDER_COLUMNS = {
    "customers": [
        "id",
        "email",
        "first_name",
        "last_name",
        "country",
        "marketing_opt_in",
        "created_at",
        "updated_at",
    ],
    "products": ["id", "sku", "title", "category", "price", "updated_at"],
    "orders": [
        "id",
        "customer_id",
        "status",
        "currency",
        "subtotal",
        "shipping",
        "tax",
        "total",
        "placed_at",
        "promised_delivery_date",
        "shipped_at",
        "delivered_at",
        "updated_at",
    ],
    "order_items": ["id", "order_id", "product_id", "quantity", "unit_price", "updated_at"],
    "refunds": ["id", "order_id", "amount", "reason", "created_at"],
}
SURVEY_COLUMNS = [
    "response_id",
    "survey_type",
    "submitted_at",
    "respondent_email",
    "customer_id",
    "ticket_id",
    "order_id",
    "score",
    "comment",
]
TICKET_STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}


def _ga4_events(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, json.loads(line))
        for path in sorted((folder / "ga4").glob("events_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def _survey_rows(folder: Path) -> list[tuple[str, dict[str, str]]]:
    rows = []
    for path in sorted((folder / "surveys").glob("responses_*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows.extend((path.name, row) for row in csv.DictReader(handle))
    return rows


def _param(event: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((p["value"] for p in event["event_params"] if p["key"] == key), None)


def test_orders_db_tables_and_columns(small_dataset):
    out, _ = small_dataset
    with sqlite3.connect(out / "shop.db") as db:
        for table, columns in ORDER_COLUMNS.items():
            found = [row[1] for row in db.execute(f"pragma table_info({table})")]
            assert found == columns, table
        statuses = {row[0] for row in db.execute("select distinct status from orders")}
        assert statuses <= {"pending", "paid", "shipped", "delivered", "cancelled", "refunded"}
        assert {"delivered", "shipped"} <= statuses
        for table, column in [
            ("orders", "placed_at"),
            ("orders", "updated_at"),
            ("customers", "created_at"),
            ("refunds", "created_at"),
            ("order_items", "updated_at"),
            ("products", "updated_at"),
        ]:
            values = [row[0] for row in db.execute(f"select {column} from {table}")]
            assert values and all(TIMESTAMP.match(v) for v in values), (table, column)
        shipped = [
            r[0] for r in db.execute("select shipped_at from orders where shipped_at is not null")
        ]
        assert shipped and all(TIMESTAMP.match(v) for v in shipped)
        assert db.execute(
            "select count(*) from orders where promised_delivery_date not glob "
            "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
        ).fetchone() == (0,)
        # Money adds up, in the shop's currency, to the cent.
        bad = db.execute(
            "select count(*) from orders where abs(subtotal + shipping + tax - total) > 0.001 "
            "or currency != 'EUR'"
        ).fetchone()
        assert bad == (0,)
        assert db.execute("select count(*) from refunds where amount <= 0").fetchone() == (0,)
        # Refunds come after the order, usually by weeks; updated_at never precedes placed_at.
        lag = db.execute(
            "select min(julianday(r.created_at) - julianday(o.placed_at)) from refunds r "
            "join orders o on o.id = r.order_id"
        ).fetchone()[0]
        assert lag is not None and lag > 0
        assert db.execute(
            "select count(*) from orders where updated_at < placed_at"
        ).fetchone() == (0,)


def test_customer_emails_are_messy(small_dataset):
    out, _ = small_dataset
    with sqlite3.connect(out / "shop.db") as db:
        emails = [row[0] for row in db.execute("select email from customers")]
    assert any(email != email.strip() for email in emails), "stray spaces"
    assert any(email.strip() != email.strip().lower() for email in emails), "mixed case"
    assert any(email == email.strip().lower() for email in emails), "clean ones too"
    normalised = [email.strip().lower() for email in emails]
    assert len(set(normalised)) == len(normalised)


def test_ga4_files_follow_the_export_schema(small_dataset):
    out, manifest = small_dataset
    files = sorted((out / "ga4").glob("events_*.jsonl"))
    assert len(files) == 31
    events = _ga4_events(out)
    assert len(events) == manifest["counts"]["ga4"]["events"]
    engaged_types = set()
    names = set()
    for file_name, event in events:
        assert file_name == f"events_{event['event_date']}.jsonl"
        assert isinstance(event["event_timestamp"], int)
        names.add(event["event_name"])
        session_id = _param(event, "ga_session_id")
        assert isinstance(session_id["int_value"], int)
        assert isinstance(_param(event, "ga_session_number")["int_value"], int)
        engaged = _param(event, "session_engaged")
        if engaged is not None:
            engaged_types.add(type(engaged.get("int_value", engaged.get("string_value"))))
            assert engaged in ({"int_value": 1}, {"string_value": "1"})
        assert event["user_id"] is None or isinstance(event["user_id"], str)
        assert isinstance(event["user_pseudo_id"], str)
        assert set(event["device"]) >= {"category", "operating_system", "web_info"}
        assert "browser" in event["device"]["web_info"]
        assert set(event["geo"]) >= {"country", "city"}
        assert set(event["traffic_source"]) == {"source", "medium", "name"}
        collected = event["collected_traffic_source"]
        assert collected is None or set(collected) >= {
            "manual_source",
            "manual_medium",
            "manual_campaign_name",
        }
        assert isinstance(event["items"], list)
        assert event["stream_id"] and event["platform"] == "WEB"
        if event["event_name"] == "purchase":
            assert isinstance(event["ecommerce"]["transaction_id"], str)
            assert isinstance(event["ecommerce"]["purchase_revenue"], float | int)
            assert event["items"]
        if event["event_name"] == "page_view":
            assert {"page_location", "page_title", "page_referrer"} <= {
                p["key"] for p in event["event_params"]
            }
    assert engaged_types == {int, str}
    assert {
        "first_visit",
        "session_start",
        "page_view",
        "login",
        "view_item",
        "add_to_cart",
        "begin_checkout",
        "purchase",
    } <= names


def test_survey_csv_drops(small_dataset):
    out, _ = small_dataset
    paths = sorted((out / "surveys").glob("responses_*.csv"))
    assert paths
    for path in paths:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark"
        header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert header == SURVEY_COLUMNS
    rows = _survey_rows(out)
    ranges = {"nps": range(0, 11), "csat": range(1, 6), "ces": range(1, 8)}
    for _, row in rows:
        assert int(row["score"]) in ranges[row["survey_type"]]
        assert ISO_Z.match(row["submitted_at"])
        assert row["ticket_id"] == "" or row["ticket_id"].isdigit()
    assert {row["survey_type"] for _, row in rows} == {"nps", "csat", "ces"}
    assert any(row["customer_id"] == "" for _, row in rows), "some answers link by email only"


def test_survey_comments_are_multiline_quoted_csv(tmp_path):
    """The awkward comments round-trip through the csv module across a whole year's files."""
    from cxw_demo.generate import generate

    generate(tmp_path, customers=1000, start="2025-11-01", end="2025-12-31", seed=3)
    rows = _survey_rows(tmp_path)
    comments = [row["comment"] for _, row in rows]
    tricky = [c for c in comments if "\n" in c and "," in c and '"' in c]
    assert tricky, "a comment with a line break, a comma and quotes"
    raw = "".join(p.read_text(encoding="utf-8-sig") for p in (tmp_path / "surveys").glob("*.csv"))
    assert '""' in raw  # RFC 4180 doubled quotes
    ids: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for name, row in rows:
        ids.setdefault(row["response_id"], []).append((name, row))
    repeated = [versions for versions in ids.values() if len(versions) > 1]
    assert repeated, "re-exports repeat responses in later files"
    assert any(len({v["submitted_at"] for _, v in versions}) > 1 for versions in repeated), "edits"
    for versions in repeated:
        assert versions[0][0] < versions[-1][0], "the repeat is in a later file"


def test_helpdesk_records(small_dataset):
    out, _ = small_dataset
    folder = out / "helpdesk"
    tickets = [json.loads(line) for line in (folder / "tickets.jsonl").read_text().splitlines()]
    assert tickets
    for ticket in tickets:
        assert {
            "id",
            "created_at",
            "updated_at",
            "status",
            "priority",
            "requester_id",
            "submitter_id",
            "assignee_id",
            "group_id",
            "via",
            "subject",
            "tags",
            "custom_fields",
            "satisfaction_rating",
        } <= set(ticket)
        assert ticket["status"] in TICKET_STATUSES
        assert ticket["priority"] in {"low", "normal", "high", "urgent", None}
        assert ticket["via"]["channel"] in {"email", "web", "chat", "voice", "api"}
        assert ISO_Z.match(ticket["created_at"]) and ticket["updated_at"] >= ticket["created_at"]
        fields = {field["id"]: field["value"] for field in ticket["custom_fields"]}
        assert isinstance(fields[ORDER_FIELD_ID], str)
        assert ticket["satisfaction_rating"]["score"] in {"offered", "unoffered", "good", "bad"}
    events = [
        json.loads(line) for line in (folder / "ticket_events.jsonl").read_text().splitlines()
    ]
    for event in events:
        assert event["event_type"] == "Audit"
        assert isinstance(event["timestamp"], int) and ISO_Z.match(event["created_at"])
        for child in event["child_events"]:
            assert isinstance(child["id"], int)
            if child["event_type"] == "Change":
                assert {"field_name", "value", "previous_value"} <= set(child)
            if child["event_type"] == "Comment":
                assert isinstance(child["public"], bool) and {"author_id", "body"} <= set(child)
    first = {}
    for event in events:
        first.setdefault(event["ticket_id"], event)
    assert all(
        any(c["event_type"] == "Comment" for c in event["child_events"]) for event in first.values()
    ), "the first audit holds the opening comment"
    users = json.loads((folder / "users.json").read_text())
    assert {user["role"] for user in users} == {"end-user", "agent", "admin"}
    schedule = json.loads((folder / "schedules.json").read_text())[0]
    assert schedule["time_zone"] == "Berlin"
    assert all(0 <= i["start_time"] < i["end_time"] <= 10080 for i in schedule["intervals"])


@pytest.mark.parametrize("compress", [True])
def test_ga4_gzip_option(tmp_path, compress):
    import gzip

    from cxw_demo.generate import generate

    generate(
        tmp_path, customers=20, start="2026-02-01", end="2026-02-03", seed=1, gzip_web=compress
    )
    paths = sorted((tmp_path / "ga4").glob("events_*.jsonl.gz"))
    assert [p.name for p in paths] == [f"events_2026020{d}.jsonl.gz" for d in (1, 2, 3)]
    lines = gzip.decompress(paths[0].read_bytes()).decode().splitlines()
    assert lines and json.loads(lines[0])["event_date"] == "20260201"
