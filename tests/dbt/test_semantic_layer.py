"""The semantic layer agrees with the marts: MetricFlow (`mf query`, offline, over the
DuckDB warehouse) gives the same NPS, CSAT %, first reply time and retention as the
tables BI tools read, on two months of the demo simulator's data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cxw import cli, reports
from cxw.settings import DBT_PROJECT_DIR, Settings


@pytest.fixture(scope="module")
def settings(small_company: Settings) -> Settings:
    return small_company


def mf_query(settings: Settings, *args: str) -> pd.DataFrame:
    """Run the MetricFlow CLI against this warehouse and return its answer.

    `mf` reads `<project dir>/target/semantic_manifest.json`, not dbt's --target-path,
    so it runs in a directory holding the project's dbt_project.yml and profiles.yml
    and, as its target, the one `dbt build` wrote under CXW_HOME.
    """
    project = settings.home / "mf"
    project.mkdir(exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        if not (project / name).exists():
            (project / name).symlink_to(DBT_PROJECT_DIR / name)
    if not (project / "target").exists():
        (project / "target").symlink_to(settings.home / "dbt" / "target")
    answer = settings.home / "mf_answer.csv"
    env = {
        **os.environ,
        "CXW_HOME": str(settings.home),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        # The CLI asks PyPI for a newer version on every call; keep it off the network.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    mf = Path(sys.executable).with_name("mf")
    done = subprocess.run(
        [str(mf), "query", *args, "--csv", str(answer)],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0 and answer.exists(), done.stdout + done.stderr
    return pd.read_csv(answer)


def query(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.sql(sql).df()


def test_nps_and_csat_by_month_match_monthly_kpis(settings: Settings) -> None:
    semantic = mf_query(
        settings, "--metrics", "nps,csat_pct", "--group-by", "metric_time__month",
        "--order", "metric_time__month",
    )
    semantic["month"] = pd.to_datetime(semantic["metric_time__month"]).dt.date
    kpis = query(
        settings,
        "select month, nps, csat_pct from experience.monthly_kpis "
        "where nps_responses > 0 order by month",
    )
    kpis["month"] = pd.to_datetime(kpis["month"]).dt.date
    assert len(kpis) >= 2, "two months of survey answers"
    merged = kpis.merge(semantic, on="month", how="outer", suffixes=("_mart", "_mf"))
    assert len(merged) == len(kpis), merged
    for metric in ("nps", "csat_pct"):
        assert merged[f"{metric}_mf"].to_numpy() == pytest.approx(
            merged[f"{metric}_mart"].to_numpy(), abs=1e-6, nan_ok=True
        ), metric


def test_first_reply_median_is_the_exact_median(settings: Settings) -> None:
    semantic = mf_query(settings, "--metrics", "first_reply_minutes_median,tickets")
    direct = query(
        settings,
        "select quantile_cont(first_reply_minutes, 0.5) as median, count(*) as tickets "
        "from service.tickets",
    )
    assert int(semantic["tickets"].iloc[0]) == int(direct["tickets"].iloc[0]) > 0
    assert semantic["first_reply_minutes_median"].iloc[0] == pytest.approx(
        direct["median"].iloc[0], abs=1e-6
    )


def test_retention_curve_matches_cohort_retention(settings: Settings) -> None:
    semantic = mf_query(
        settings, "--metrics", "retention",
        "--group-by", "cohort_offset__months_since_first_order",
        "--order", "cohort_offset__months_since_first_order",
    )
    direct = query(
        settings,
        "select months_since_first_order, sum(active_customers) / sum(cohort_size) as retention "
        "from experience.cohort_retention group by 1 order by 1",
    )
    assert semantic["retention"].to_numpy() == pytest.approx(direct["retention"].to_numpy())
    assert semantic["retention"].iloc[0] == pytest.approx(1.0), "month 0 retains everyone"


AGREED = ("nps", "csat_pct", "first_reply_business_minutes_median", "repeat_purchase_rate")


def test_cxw_show_the_dashboard_and_metricflow_agree(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One definition per metric: MetricFlow over the build, semantic.key_numbers in the
    published file, what `cxw show` prints and the dashboard's tiles are the same numbers."""
    semantic = mf_query(settings, "--metrics", ",".join(AGREED)).iloc[0]
    numbers = reports.key_numbers(settings.published_path)
    figures = {figure.key: figure for figure in reports.KEY_FIGURES}
    for metric in AGREED:
        assert numbers[metric] == pytest.approx(float(semantic[metric]), abs=1e-9), metric
    # Not the latest answer per customer (experience.customers.nps_category): every answer.
    answers = query(
        settings,
        "select 100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6))"
        " / count(*) as nps from semantic.survey_answers where survey_type = 'nps'",
    )
    assert numbers["nps"] == pytest.approx(answers["nps"].iloc[0])

    cli.show(settings)
    printed = capsys.readouterr().out
    for metric in AGREED:
        figure = figures[metric]
        shown = reports.format_figure(float(semantic[metric]), figure.kind)
        line = f"  {figure.label:<38}{shown:>12}  {figure.description}"
        assert line in printed.splitlines(), (line, printed)
    assert "business minutes, of replied tickets" in printed
    assert "of customers who ordered" in printed

    page = reports.build_dashboard(settings.published_path, tmp_path).read_text()
    tiles = dict(re.findall(r"data-key='(\w+)' data-value='([^']*)'", page))
    for metric in AGREED:
        assert float(tiles[metric]) == pytest.approx(float(semantic[metric]), abs=1e-9), metric


def test_customer_dimensions_group_the_semantic_layer(settings: Settings) -> None:
    """Customers by service segment (semantic.customer_segments) as service_impact counts
    them, repeat purchase per segment as service_impact rates it, NPS by country."""
    semantic = mf_query(
        settings, "--metrics", "customers,repeat_purchase_rate",
        "--group-by", "customer__service_segment",
    ).set_index("customer__service_segment")
    impact = query(settings, "select * from experience.service_impact where customers > 0")
    impact = impact.set_index("service_segment")
    assert set(semantic.index) == set(impact.index)
    assert semantic["customers"].to_dict() == impact["customers"].to_dict()
    assert semantic["repeat_purchase_rate"].to_numpy() == pytest.approx(
        impact.loc[semantic.index, "repeat_purchase_rate"].to_numpy(), nan_ok=True
    )
    by_country = mf_query(settings, "--metrics", "nps_answers", "--group-by",
                          "customer__country")
    linked = query(
        settings,
        "select count(*) as answers from semantic.survey_answers "
        "where survey_type = 'nps' and customer_id is not null",
    )
    assert len(by_country) >= 2
    assert by_country.dropna(subset=["customer__country"])["nps_answers"].sum() == (
        linked["answers"].iloc[0]
    )
