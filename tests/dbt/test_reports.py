"""The reports a user opens after a build: key numbers and the static CX dashboard,
rendered by a real browser (headless Chromium from Debian's `chromium` package)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxw import reports
from cxw.reports import build_dashboard, key_numbers
from cxw.settings import Settings

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
]
# A drawn mark in vl-convert's SVG: a path, rect, symbol or text inside a mark group.
MARK = re.compile(
    r'<g class="mark-(?:line|rect|symbol|text)[^"]*role-mark[^"]*"[^>]*>\s*<(?:path|text)'
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is required in CI (apt-get install chromium) but not installed")
    pytest.skip("chromium not installed here (apt-get install chromium)")


def render(page: Path, profile: Path) -> tuple[str, str]:
    """The DOM as the browser built it, and the browser's log."""
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    )
    return done.stdout, done.stderr


def figures(dom: str) -> dict[str, str]:
    """Each panel's name and the HTML of its figure."""
    parts = re.split(r'(?=<figure data-panel=")', dom)
    return {
        re.match(r'<figure data-panel="(\w+)"', part).group(1): part.split("</figure>")[0]
        for part in parts[1:]
    }


def test_key_numbers_give_nothing_without_the_semantic_table(built: Path) -> None:
    # The hand-made warehouse has no web analytics: the models over them (customers,
    # sessions, key_numbers) are not built, and no number is made up in their place.
    numbers = key_numbers(built)
    assert "nps" not in numbers and "tickets" not in numbers


def test_the_dashboard_draws_every_panel_in_a_browser_and_tiles_equal_the_marts(
    small_company: Settings, tmp_path: Path
) -> None:
    page = build_dashboard(small_company.published_path, tmp_path / "reports")
    dom, log = render(page, tmp_path / "profile")

    panels = figures(dom)
    assert set(panels) == {
        "service_vs_experience", "first_reply_by_channel", "backlog", "agents", "ces",
        "churn", "revenue", "conversion", "cohort_retention", "service_impact",
        "sla_breaches", "backlog_age", "web_funnel", "nps_drivers", "detractor_follow_up",
    }
    with duckdb.connect(str(small_company.published_path), read_only=True) as connection:
        (recent_detractors,) = connection.execute(
            "select count(*) from experience.detractor_follow_up"
        ).fetchone()
    for name, html in panels.items():
        if name == "detractor_follow_up" and recent_detractors == 0:
            # The small company may have no detractor in the last 30 days: said, not drawn.
            assert "No data yet" in html
            continue
        assert len(MARK.findall(html)) >= 1, f"{name} drew no marks"
        assert int(re.search(r'data-points="(\d+)"', html).group(1)) > 0, name
    assert "Uncaught" not in log and "<script" not in page.read_text()
    assert "panel-error" not in dom
    assert not re.search(r"""(?:src|href)=["']?https?:""", page.read_text()), "offline"
    assert oct(page.stat().st_mode & 0o777) == oct(0o644)

    with duckdb.connect(str(small_company.published_path), read_only=True) as connection:
        marts = connection.sql("select * from semantic.key_numbers").df().iloc[0]
    tiles = dict(re.findall(r'data-key="(\w+)" data-value="([^"]*)"', dom))
    shown = dict(re.findall(
        r'data-key="(\w+)"[^>]*><div class="label">[^<]*</div><div class="value">([^<]*)<', dom
    ))
    assert set(tiles) == {figure.key for figure in reports.KEY_FIGURES}
    for figure in reports.KEY_FIGURES:
        expected = marts[figure.key]
        if pd.isna(expected):
            assert tiles[figure.key] == "" and shown[figure.key] == "n/a", figure.key
        else:
            assert float(tiles[figure.key]) == pytest.approx(float(expected)), figure.key
            assert shown[figure.key] == reports.format_figure(expected, figure.kind)
    as_of = re.search(r'data-as-of="([\d-]+)"', dom).group(1)
    assert as_of == str(marts["as_of_date"].date())
    assert "Replied within SLA" in panels["service_impact"]  # human labels
    assert "reply_within_sla" not in panels["service_impact"]


def tiny_new_marts(path: Path) -> None:
    """Hand-made rows of the marts the sla and analytics streams add (marts.md)."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema service; create schema experience")
        frames = {
            # Two breaches of first_reply_time in the week of Mon 2 Feb, one of
            # next_reply_time in the week of Mon 9 Feb, one not breached: 2 week x metric
            # rows with breaches + 1 row with none = 3 points.
            "service.sla_events": pd.DataFrame({
                "sla_event_id": ["1-f", "2-f", "3-n", "4-f"],
                "ticket_id": [1, 2, 3, 4],
                "priority": ["normal"] * 4,
                "metric": ["first_reply_time", "first_reply_time", "next_reply_time",
                           "first_reply_time"],
                "target_minutes": [60.0] * 4,
                "is_business_hours": [True] * 4,
                "sla_started_at": pd.to_datetime(["2026-02-02 09:00", "2026-02-04 09:00",
                                                  "2026-02-10 09:00", "2026-02-11 09:00"]),
                "sla_due_at": pd.to_datetime(["2026-02-02 10:00", "2026-02-04 10:00",
                                              "2026-02-10 10:00", "2026-02-11 10:00"]),
                "reached_at": pd.to_datetime(["2026-02-02 11:00", None, "2026-02-10 12:00",
                                              "2026-02-11 09:30"]),
                "elapsed_minutes": [120.0, 300.0, 180.0, 30.0],
                "is_breached": [True, True, True, False],
                "is_active": [False, False, False, False],
            }),
            # Ticket 7 open on two days (ages 0 and 1: "0-1 days"), ticket 8 aged 40 days.
            "service.ticket_backlog": pd.DataFrame({
                "date": [date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 3)],
                "ticket_id": [7, 7, 8],
                "status": ["open", "pending", "hold"],
                "priority": ["normal", "normal", "high"],
                "channel": ["email", "email", "web"],
                "group_name": ["Support"] * 3,
                "assignee_id": [10, 10, 11],
                "age_days": [0, 1, 40],
            }),
            "experience.nps_drivers": pd.DataFrame({
                "driver": ["late_delivery", "contacted_support", "repeat_customer"],
                "respondents_with": [10, 20, 30],
                "respondents_without": [90, 80, 70],
                "nps_with": [-40.0, 10.0, 50.0],
                "nps_without": [30.0, 25.0, 10.0],
                "nps_gap": [-70.0, -15.0, 40.0],
                "prevalence": [0.1, 0.2, 0.3],
                "potential_nps_gain": [7.0, 3.0, 0.0],
                "rank": [1, 2, 3],
                "is_significant": [True, False, True],
            }),
            "experience.web_funnel": pd.DataFrame({
                "date": [date(2026, 2, 2)] * 2,
                "default_channel_group": ["Organic Search", "Email"],
                "device_category": ["desktop", "mobile"],
                "sessions": [100, 10],
                "sessions_with_view_item": [60, 8],
                "sessions_with_add_to_cart": [20, 5],
                "sessions_with_checkout": [10, 3],
                "sessions_with_purchase": [5, 2],
                "purchase_revenue": [250.0, 80.0],
                "conversion_rate": [0.05, 0.2],
            }),
            "experience.detractor_follow_up": pd.DataFrame({
                "response_id": ["a", "b", "c"],
                "customer_id": [1, 2, None],
                "submitted_at": pd.to_datetime(["2026-02-01"] * 3),
                "score": [2, 5, 6],
                "comment_redacted": ["late [email]", "meh", None],
                "comment_sentiment": [-0.5, 0.0, None],
                "last_order_id": [100, 101, None],
                "had_late_delivery": [False, True, None],
                "open_ticket_id": [7, None, None],
                "had_sla_breach": [True, False, None],
                "follow_up_priority": [1, 2, 3],
            }),
        }
        for name, frame in frames.items():
            connection.register("frame", frame)
            connection.execute(f"create table {name} as select * from frame")  # noqa: S608
            connection.unregister("frame")


def test_panels_of_the_new_marts_draw_from_their_contract_columns(tmp_path: Path) -> None:
    published = tmp_path / "published.duckdb"
    tiny_new_marts(published)
    page = build_dashboard(published, tmp_path / "reports", freshness=[])
    dom, _ = render(page, tmp_path / "profile")
    panels = figures(dom)
    assert set(panels) == {
        "sla_breaches", "backlog_age", "nps_drivers", "web_funnel", "detractor_follow_up"
    }
    for name, html in panels.items():
        assert len(MARK.findall(html)) >= 1, f"{name} drew no marks"
    points = {name: int(re.search(r'data-points="(\d+)"', html).group(1))
              for name, html in panels.items()}
    # sla: (week 2 Feb, first reply)=2, (week 9 Feb, next reply)=1, (week 9 Feb, first
    # reply)=0 -> 3 rows; backlog: (2 Feb, age 0), (3 Feb, age 1), (3 Feb, age 40) -> 3;
    # drivers: 3; funnel: 2 channels x 5 steps = 10; follow-up: priorities 1, 2, 3 -> 3.
    assert points == {"sla_breaches": 3, "backlog_age": 3, "nps_drivers": 3,
                      "web_funnel": 10, "detractor_follow_up": 3}
    assert "First reply" in panels["sla_breaches"] and "Next reply" in panels["sla_breaches"]
    assert "over 30 days" in panels["backlog_age"] and "0-1 days" in panels["backlog_age"]
    assert "not significant" in panels["nps_drivers"]  # contacted_support's legend entry
    assert "1 - open ticket or SLA breach" in panels["detractor_follow_up"]
    # Email: 2 of 10 sessions purchased = 20%; Organic Search 5 of 100 = 5%.
    assert "Organic Search" in panels["web_funnel"]
    assert "Stale sources" not in dom and "unknown" in dom  # no key_numbers table here


def test_stale_sources_are_listed_at_the_top(tmp_path: Path) -> None:
    published = tmp_path / "published.duckdb"
    tiny_new_marts(published)
    freshness = [
        {"source": "web.events", "status": "error", "max_loaded_at": "2026-01-28 00:30:00"},
        {"source": "orders.orders", "status": "pass", "max_loaded_at": "2026-02-03 00:30:00"},
    ]
    text = build_dashboard(published, tmp_path / "reports", freshness=freshness).read_text()
    stale = re.findall(r"data-source='([\w.]+)'", text)
    assert stale == ["web.events"]
    assert text.index("Stale sources") < text.index("<figure")


def test_an_empty_panel_says_so_and_a_broken_panel_does_not_take_the_page_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = tmp_path / "published.duckdb"
    with duckdb.connect(str(published)) as connection:
        # One month of orders: only month 0 (always 100%), which the heat map leaves out.
        connection.execute(
            "create schema experience; create table experience.cohort_retention as "
            "select date '2026-05-01' as cohort_month, 0 as months_since_first_order, "
            "10 as cohort_size, 10 as active_customers, 1.0 as retention_rate"
        )
    tiny_new_marts_path = tmp_path / "new.duckdb"
    tiny_new_marts(tiny_new_marts_path)
    text = build_dashboard(published, tmp_path / "a", freshness=[]).read_text()
    (cohorts,) = re.findall(r"<figure data-panel='cohort_retention'.*?</figure>", text)
    assert "data-points='0'" in cohorts and "No data yet." in cohorts

    def broken(marts: reports.Marts) -> None:
        raise RuntimeError("chart library exploded")

    monkeypatch.setattr(reports, "PANELS", [broken, reports.panel_nps_drivers])
    text = build_dashboard(tiny_new_marts_path, tmp_path / "b", freshness=[]).read_text()
    assert "could not be drawn: chart library exploded" in text
    assert "data-panel='nps_drivers' data-points='3'" in text
