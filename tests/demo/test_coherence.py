"""The data tells one true story: identifiers agree across sources, experience drives behaviour."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd

from cxw_demo.world import World


def test_every_transaction_id_is_an_order_and_user_ids_are_customers(small_dataset):
    out, _ = small_dataset
    with sqlite3.connect(out / "shop.db") as db:
        order_ids = {str(row[0]) for row in db.execute("select id from orders")}
        customer_ids = {str(row[0]) for row in db.execute("select id from customers")}
        totals = {str(r[0]): r[1] for r in db.execute("select id, total from orders")}
    transactions, user_ids, pseudo_with_user = [], set(), {}
    for path in sorted((out / "ga4").glob("events_*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            if event["user_id"] is not None:
                user_ids.add(event["user_id"])
                pseudo_with_user.setdefault(event["user_pseudo_id"], set()).add(event["user_id"])
            if event["event_name"] == "purchase":
                transaction = event["ecommerce"]["transaction_id"]
                transactions.append(transaction)
                assert abs(event["ecommerce"]["purchase_revenue"] - totals[transaction]) < 0.005
    assert transactions and set(transactions) <= order_ids
    assert len(transactions) == len(set(transactions))
    assert len(set(transactions)) > 0.8 * len(order_ids), "most orders are tracked"
    assert user_ids and user_ids <= customer_ids
    assert all(len(ids) == 1 for ids in pseudo_with_user.values()), (
        "a browser belongs to one customer"
    )


def test_anonymous_events_before_login_stitch_to_the_customer(small_dataset):
    out, _ = small_dataset
    sessions: dict[tuple[str, int], list[dict]] = {}
    for path in sorted((out / "ga4").glob("events_*.jsonl")):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            sid = next(
                p["value"]["int_value"]
                for p in event["event_params"]
                if p["key"] == "ga_session_id"
            )
            sessions.setdefault((event["user_pseudo_id"], sid), []).append(event)
    with_login = [
        events for events in sessions.values() if any(e["event_name"] == "login" for e in events)
    ]
    assert with_login
    for events in with_login:
        events.sort(key=lambda e: e["event_timestamp"])
        names = [e["event_name"] for e in events]
        login_at = names.index("login")
        assert all(e["user_id"] is None for e in events[:login_at])
        assert all(e["user_id"] is not None for e in events[login_at:])


def test_helpdesk_links_to_orders_and_customers(small_dataset):
    out, _ = small_dataset
    with sqlite3.connect(out / "shop.db") as db:
        order_ids = {str(row[0]) for row in db.execute("select id from orders")}
        emails = {row[0].strip().lower() for row in db.execute("select email from customers")}
    folder = out / "helpdesk"
    tickets = [json.loads(line) for line in (folder / "tickets.jsonl").read_text().splitlines()]
    users = {u["id"]: u for u in json.loads((folder / "users.json").read_text())}
    order_values = [
        f["value"] for t in tickets for f in t["custom_fields"] if f["id"] == 360000000001
    ]
    assert {v for v in order_values if v} <= order_ids
    requester_emails = [users[t["requester_id"]]["email"] for t in tickets]
    linked = [e for e in requester_emails if e.strip().lower() in emails]
    assert len(linked) > 0.7 * len(requester_emails)
    assert any(e != e.strip().lower() for e in requester_emails) or len(requester_emails) < 10


def _nps_by_customer(world: World) -> pd.Series:
    answers = world.survey_answers
    nps = answers[answers["survey_type"] == "nps"].sort_values("submitted_at")
    return nps.groupby("customer_id")["score"].last()


def test_late_deliveries_raise_tickets_and_lower_nps(medium_world: World):
    orders, tickets = medium_world.orders, medium_world.tickets
    late = orders["is_late"].to_numpy() & (orders["status"] != "cancelled").to_numpy()
    assert 0.05 < late.mean() < 0.25
    has_ticket = orders["has_ticket"].to_numpy()
    assert has_ticket[late].mean() > 2 * has_ticket[~late].mean()
    late_customers = set(orders.loc[late, "customer_id"])
    nps = _nps_by_customer(medium_world)
    with_late = nps[nps.index.isin(late_customers)]
    without = nps[~nps.index.isin(late_customers)]
    assert len(with_late) > 30 and len(without) > 100
    assert with_late.mean() < without.mean() - 0.3
    assert set(tickets["reason"]) == {"late_delivery", "damaged_item", "refund_request", "how_to"}


def test_bad_service_lowers_satisfaction_and_repeat_purchases(medium_world: World):
    tickets, answers = medium_world.tickets, medium_world.survey_answers
    csat = answers[answers["survey_type"] == "csat"].merge(
        tickets[["id", "breached"]], left_on="ticket_id", right_on="id"
    )
    assert csat.loc[csat["breached"], "score"].mean() < csat.loc[~csat["breached"], "score"].mean()
    orders = medium_world.orders.sort_values("placed_at")
    first_orders = orders.groupby("customer_id").head(1)
    order_count = orders.groupby("customer_id").size()
    bad = set(tickets.loc[tickets["breached"] | ~tickets["resolves"], "order_id"])
    first_bad = first_orders["id"].isin(bad).to_numpy()
    repeat = (order_count.loc[first_orders["customer_id"]] > 1).to_numpy()
    assert first_bad.sum() > 20
    assert repeat[first_bad].mean() < repeat[~first_bad].mean()


def test_ticket_lifecycles_cover_every_status(medium_world: World):
    tickets = medium_world.tickets
    assert tickets["unanswered"].any() and tickets["reopened"].any()
    assert (tickets["replies"] == 1).any() and tickets["t_hold"].notna().any()
    assert tickets["escalated"].any(), "some priorities change mid-life"
    # Some requesters write twice before the agent's next reply.
    nudged = tickets[tickets["t_cust2b"].notna()]
    assert len(nudged) and (nudged["t_cust2"] < nudged["t_cust2b"]).all()
    assert (nudged["t_cust2b"] < nudged["t_hold"].fillna(nudged["t_reply2"])).all()
    assert set(tickets["channel"]) == {"email", "web", "chat", "voice", "api"}
    # Agents answer inside business hours (email and web queue up outside them).
    queued = tickets[tickets["channel"].isin(["email", "web"]) & tickets["t_reply1"].notna()]
    open_ = medium_world.clock.is_business_time(queued["t_reply1"].to_numpy().astype(np.int64) - 60)
    assert open_.mean() > 0.97
    # Updates keep arriving days after creation.
    assert (tickets["t_close"] - tickets["t_create"]).dropna().min() > 4 * 86400


def test_seasonality_and_weekdays(medium_world: World):
    placed = pd.to_datetime(medium_world.orders["placed_at"], unit="s")
    by_month = placed.dt.month.value_counts()
    assert by_month[12] > by_month[7]
    weekday = placed.dt.day_of_week.value_counts()
    assert weekday[6] > weekday[5]  # Sunday browsing beats Saturday
