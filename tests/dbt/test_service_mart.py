"""dbt build (models and data tests; unit tests: test_unit_tests.py) on a hand-made raw
layer, and the service mart's values checked against numbers computed by hand.

The raw helpdesk and survey batches are written straight into the lake in the landed
layout; the orders come through the real extractor from the tiny shop database.

Ticket 1: opened by Ada (customer 1) Friday 2026-01-02 16:00 UTC = 17:00 Berlin, after
hours (the schedule is Mon-Fri 09:00-17:00 Berlin; Thursday 2026-01-01 is a holiday).
Agent Ana replies Monday 08:30 UTC (09:30 Berlin) and solves it at 10:00 UTC.
  first reply: 3870 calendar minutes, 30 business minutes (Mon 09:00-09:30 Berlin)
  resolution: 3960 calendar minutes, 120 business minutes
Ticket 2: a phone call Ana logged for Grace (not a customer email match) Monday 10:00,
still open with no public reply; high priority, 60 business-minute target: breached.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.dbt.conftest import query


def test_ticket_metrics_match_the_hand_computed_values(built: Path) -> None:
    tickets = query(built, "select * from service.tickets order by ticket_id")
    one, two = tickets.to_dict("records")
    assert one["customer_id"] == 1 and one["order_id"] == 100
    assert one["first_reply_at"] == pd.Timestamp("2026-01-05 08:30")
    assert one["first_reply_minutes"] == 3870
    assert one["first_reply_business_minutes"] == 30
    assert one["full_resolution_minutes"] == 3960
    assert one["full_resolution_business_minutes"] == 120
    assert one["agent_reply_count"] == 1 and one["is_one_touch_resolution"]
    assert bool(one["is_first_reply_sla_breached"]) is False  # 30 of 480 business minutes
    assert one["requester_wait_minutes"] == 3870
    assert one["csat_score"] == 5 and one["satisfaction_rating"] == "good"

    assert pd.isna(two["customer_id"]) and pd.isna(two["order_id"])
    assert pd.isna(two["first_reply_at"]) and two["agent_reply_count"] == 0
    # Unanswered since Monday 10:00 UTC = 11:00 Berlin: 360 business minutes by 17:00.
    assert bool(two["is_first_reply_sla_breached"])
    assert two["requester_wait_minutes"] == 14 * 60  # new/open until the end of Jan 5


def test_a_deleted_ticket_is_kept_in_staging_and_left_out_of_every_count(built: Path) -> None:
    # Ticket 3 (email, created Jan 3, deleted Jan 4) passed the landing suite and the
    # staging tests; the marts hold tickets 1 and 2 only, and the email channel's counts
    # are those of ticket 1 alone (test_daily_kpis_and_agents: created [1, 0, 0, 0]).
    staged = query(built, "select ticket_id, is_deleted from staging.stg_helpdesk__tickets")
    assert dict(zip(staged["ticket_id"], staged["is_deleted"], strict=True)) == {
        1: False, 2: False, 3: True,
    }
    assert query(built, "select ticket_id from service.tickets order by 1")[
        "ticket_id"
    ].tolist() == [1, 2]


def test_daily_kpis_and_agents(built: Path) -> None:
    kpis = query(built, "select * from service.daily_kpis order by date, channel")
    email = kpis[kpis["channel"] == "email"].set_index("date")
    assert email["tickets_created"].tolist() == [1, 0, 0, 0]
    assert email["open_backlog"].tolist() == [1, 1, 1, 0]
    assert email.loc[pd.Timestamp("2026-01-05"), "tickets_solved"] == 1
    assert email.loc[pd.Timestamp("2026-01-05"), "csat_pct"] == 100
    voice = kpis[kpis["channel"] == "voice"].set_index("date")
    assert voice.loc[pd.Timestamp("2026-01-05"), "open_backlog"] == 1
    assert voice.loc[pd.Timestamp("2026-01-05"), "first_reply_sla_breach_rate"] == 1

    agents = query(built, "select * from service.agents order by agent_id")
    assert agents["agent_id"].tolist() == [10, 11]
    ana = agents.iloc[0]
    assert ana["tickets_solved"] == 1 and ana["group_name"] == "Support"
    assert ana["first_reply_minutes_median"] == 3870 and ana["csat_pct"] == 100


def test_no_raw_email_in_any_mart(built: Path) -> None:
    columns = query(
        built,
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('service', 'experience')",
    )
    raw_email_columns = {"email", "email_normalized", "respondent_email"}
    assert raw_email_columns.isdisjoint(columns["column_name"])
