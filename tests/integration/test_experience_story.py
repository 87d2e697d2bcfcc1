"""The marts tell the demo company's true story (issue 6).

In the simulator an order that goes wrong (a late parcel, a ticket whose first reply
breached the SLA or that was never resolved) sinks the customer's mood, and so their NPS
answer, and keeps most of them from ordering again. Built at the demo's default size,
the marts must show it: customers with a late delivery, and customers whose first reply
breached the SLA, have a lower NPS and a higher churn rate than those without.

This is the demo company's story, so it is checked here, on the demo company, and never
inside the production `dbt build`: a real company's data need not show it to publish.
The test builds the warehouse and checks the numbers from the marts, naming them when
the story does not hold. The sources are landed by calling the DAG
tasks' functions directly: this is about the marts, not about Airflow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from cxw import pipeline
from cxw_demo.generate import generate
from cxw_demo.helpdesk_server import HelpdeskServer
from cxw_demo.run import DEMO_CUSTOMERS, DEMO_END, DEMO_START, demo_environment

TOKEN = "story-token"


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo company at its default size, landed and built as of its last day."""
    root = tmp_path_factory.mktemp("story")
    patch = pytest.MonkeyPatch()
    patch.setenv("CXW_HOME", str(root / "cxw"))
    sources = root / "sources"
    generate(sources, DEMO_CUSTOMERS, DEMO_START, DEMO_END, seed=42)
    start = datetime.combine(DEMO_START, datetime.min.time(), UTC)
    end = datetime.combine(DEMO_END + timedelta(days=1), datetime.min.time(), UTC)
    try:
        with HelpdeskServer(sources / "helpdesk", token=TOKEN, now=int(end.timestamp())) as server:
            for name, value in demo_environment(sources, server.url, TOKEN, base={}).items():
                patch.setenv(name, value)
            for extract in (
                pipeline.land_helpdesk,
                pipeline.land_web,
                pipeline.land_orders,
                pipeline.land_surveys,
            ):
                extract(start, end)
        return Path(pipeline.build_warehouse(DEMO_END))
    finally:
        patch.undo()


def groups(warehouse: Path, sql: str) -> dict[bool, tuple[int, float, float]]:
    """(customers, NPS, churn rate) of the bad-experience group (True) and the rest."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(sql).fetchall()
    return {is_bad: (customers, nps, churn) for is_bad, customers, nps, churn in rows}


def test_customers_with_a_late_delivery_score_lower_and_churn_more(demo_warehouse: Path) -> None:
    by_late = groups(
        demo_warehouse,
        """
        select
            late_delivery_count > 0,
            count(*),
            100.0 * (count(*) filter (nps_category = 'promoter')
                - count(*) filter (nps_category = 'detractor'))
                / count(nps_category),
            avg(is_churned::int)
        from experience.customers
        where order_count >= 1
        group by 1
        """,
    )
    late, on_time = by_late[True], by_late[False]
    assert late[0] >= 100 and on_time[0] >= 100, f"groups too small to compare: {by_late}"
    assert late[1] < on_time[1] - 10, f"NPS late {late[1]:.1f} vs on time {on_time[1]:.1f}"
    assert late[2] > on_time[2], f"churn late {late[2]:.3f} vs on time {on_time[2]:.3f}"


def test_customers_whose_first_reply_breached_the_sla_score_lower_and_churn_more(
    demo_warehouse: Path,
) -> None:
    by_breach = groups(
        demo_warehouse,
        """
        select service_segment = 'reply_sla_breached', customers, nps, churn_rate
        from experience.service_impact
        where service_segment in ('reply_within_sla', 'reply_sla_breached')
        """,
    )
    breached, within = by_breach[True], by_breach[False]
    assert breached[0] >= 30 and within[0] >= 100, f"groups too small: {by_breach}"
    assert breached[1] < within[1] - 10, f"NPS breached {breached[1]:.1f} vs {within[1]:.1f}"
    assert breached[2] > within[2], f"churn breached {breached[2]:.3f} vs {within[2]:.3f}"


def test_the_as_of_date_is_the_demo_s_last_day(demo_warehouse: Path) -> None:
    """Churn is measured at the data date, not the wall clock (a rerun gives the same)."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        (last_order,) = connection.execute(
            "select max(last_order_at)::date from experience.customers"
        ).fetchone()
    assert last_order <= DEMO_END < date.today()


def test_late_delivery_and_breached_replies_are_significant_nps_drivers(
    demo_warehouse: Path,
) -> None:
    """The simulator makes late parcels and breached replies cost NPS: the key-driver
    analysis must find both beyond noise, with NPS to gain by fixing them."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select driver, respondents_with, respondents_without, nps_gap, "
            "potential_nps_gain, is_significant from experience.nps_drivers"
        ).fetchall()
    drivers = {row[0]: row[1:] for row in rows}
    for driver in ("late_delivery", "reply_sla_breached"):
        with_, without, gap, gain, significant = drivers[driver]
        assert significant and gain > 0, (
            f"{driver}: {with_} with / {without} without, gap {gap:.1f}, "
            f"gain {gain:.2f}, significant {significant}"
        )


def test_detractor_and_support_comments_are_the_unhappy_ones(demo_warehouse: Path) -> None:
    """Comments carry the story: the last 30 days' detractors write negatively, and NPS
    comments about support (the simulator's complaints after a breached or unresolved
    ticket) are more negative and come with lower scores than NPS comments overall."""
    with duckdb.connect(str(demo_warehouse), read_only=True) as connection:
        count, sentiment = connection.execute(
            "select count(*), avg(comment_sentiment) from experience.detractor_follow_up "
            "where comment_redacted is not null"
        ).fetchone()
        support_sentiment, overall_sentiment, support_score, overall_score = (
            connection.execute(
                """
                select
                    sum(answers * avg_sentiment) filter (theme = 'support')
                        / sum(answers) filter (theme = 'support'),
                    sum(answers * avg_sentiment) / sum(answers),
                    sum(answers * avg_score) filter (theme = 'support')
                        / sum(answers) filter (theme = 'support'),
                    sum(answers * avg_score) / sum(answers)
                from experience.comment_themes_monthly
                where survey_type = 'nps'
                """
            ).fetchone()
        )
    assert count >= 5, f"only {count} detractor comments in the last 30 days"
    assert sentiment < 0, f"mean detractor comment sentiment {sentiment:.2f}"
    assert support_sentiment < 0 < overall_sentiment, (
        f"NPS comment sentiment: support {support_sentiment:.2f}, all {overall_sentiment:.2f}"
    )
    assert support_score < overall_score - 2, (
        f"NPS score with a support comment {support_score:.1f}, all {overall_score:.1f}"
    )


def test_no_raw_email_or_phone_in_the_published_marts(demo_warehouse: Path) -> None:
    """Every relation BI users read in the published warehouse, scanned value by value:
    the demo's comments carry emails and phone numbers, the marts only their masks."""
    from cxw import warehouse
    from cxw.personal_data import scan_warehouse
    from cxw.settings import Settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CXW_HOME", str(demo_warehouse.parent.parent))
        published = warehouse.publish(Settings.from_env())
    with duckdb.connect(str(published), read_only=True) as connection:
        (masked,) = connection.execute(
            "select count(*) from experience.detractor_follow_up "
            "where comment_redacted like '%[email]%' or comment_redacted like '%[phone]%'"
        ).fetchone()
    findings = scan_warehouse(published)  # every relation of the published file
    assert not findings, "\n".join(finding.describe() for finding in findings)
    assert masked >= 1, "the demo's detractors left contact details: they must show masked"
