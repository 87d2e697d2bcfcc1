"""What the user sees after a build: the key numbers and a static CX dashboard.

Both read the published warehouse read-only, so they show exactly what BI tools see.
The dashboard is one self-contained HTML file with inline SVG charts (offline: no
JavaScript, no CDN).
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from html import escape, unescape
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cxw import charts


def _tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {row[0] for row in rows}


def _frame(connection: duckdb.DuckDBPyConnection, tables: set[str], table: str, sql: str):
    return connection.sql(sql).df() if table in tables else pd.DataFrame()


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def key_numbers(published: Path) -> dict[str, Any]:
    """The headline numbers: service next to experience."""
    with duckdb.connect(str(published), read_only=True) as connection:
        tables = _tables(connection)
        numbers: dict[str, Any] = {}
        if "service.tickets" in tables:
            row = connection.execute(
                "select count(*), quantile_cont(first_reply_minutes, 0.5), "
                "100.0 * count(*) filter (where csat_score >= 4) / nullif(count(csat_score), 0), "
                "avg(case when is_first_reply_sla_breached then 1.0 "
                "when not is_first_reply_sla_breached then 0.0 end) "
                "from service.tickets"
            ).fetchall()[0]
            numbers["tickets"] = int(row[0])
            numbers["first_reply_minutes_median"] = _number(row[1])
            numbers["csat_pct"] = _number(row[2])
            numbers["first_reply_sla_breach_rate"] = _number(row[3])
        if "experience.customers" in tables:
            row = connection.execute(
                "select count(*), "
                "100.0 * (count(*) filter (where nps_category = 'promoter') "
                "- count(*) filter (where nps_category = 'detractor')) "
                "/ nullif(count(nps_category), 0), "
                "avg(case when is_repeat_customer then 1.0 else 0.0 end) "
                "filter (where order_count >= 1) "
                "from experience.customers"
            ).fetchall()[0]
            numbers["customers"] = int(row[0])
            numbers["nps"] = _number(row[1])
            numbers["repeat_purchase_rate"] = _number(row[2])
        if "experience.cohort_retention" in tables:
            row = connection.execute(
                "select sum(active_customers) / nullif(sum(cohort_size), 0) "
                "from experience.cohort_retention where months_since_first_order = 3"
            ).fetchall()[0]
            numbers["retention_month_3"] = _number(row[0])
        if "experience.service_impact" in tables:
            numbers["service_impact"] = connection.sql(
                "select * from experience.service_impact"
            ).df()
    return numbers


def _caption(svg: str) -> str:
    start = svg.index("<title>") + len("<title>")
    return unescape(svg[start : svg.index("</title>")])


def build_dashboard(published: Path, out_dir: Path) -> Path:
    """Write ``dashboard.html`` (atomically) and return its path."""
    with duckdb.connect(str(published), read_only=True) as connection:
        tables = _tables(connection)
        monthly = _frame(
            connection, tables, "experience.monthly_kpis",
            "select * from experience.monthly_kpis order by month",
        )
        daily = _frame(
            connection, tables, "service.daily_kpis",
            "select date, sum(open_backlog) as open_backlog from service.daily_kpis "
            "group by 1 order by 1",
        )
        replies = _frame(
            connection, tables, "service.tickets",
            "select channel, quantile_cont(first_reply_minutes, [0.25, 0.5, 0.75, 0.9]) as q "
            "from service.tickets where first_reply_minutes is not null group by 1 order by 1",
        )
        cohorts = _frame(
            connection, tables, "experience.cohort_retention",
            "select * from experience.cohort_retention "
            "order by cohort_month, months_since_first_order",
        )
        impact = _frame(
            connection, tables, "experience.service_impact",
            "select * from experience.service_impact",
        )

    sections = []
    months = [str(m)[:7] for m in monthly.get("month", [])]
    sections.append(charts.line_chart(
        "nps_csat_trend", "NPS and CSAT % by month", months,
        {
            "NPS": [_number(v) for v in monthly.get("nps", [])],
            "CSAT %": [_number(v) for v in monthly.get("csat_pct", [])],
        },
    ))
    reply_bars = {}
    for record in replies.to_dict("records"):
        quartiles = list(record["q"])
        reply_bars[f"{record['channel']} median"] = _number(quartiles[1])
        reply_bars[f"{record['channel']} p90"] = _number(quartiles[3])
    sections.append(charts.bar_chart(
        "first_reply_by_channel", "First reply time by channel (minutes)", reply_bars, " min"
    ))
    sections.append(charts.line_chart(
        "backlog", "Open backlog at the end of each day",
        [str(d)[:10] for d in daily.get("date", [])],
        {"open tickets": [_number(v) for v in daily.get("open_backlog", [])]},
    ))
    cohort_rows = sorted({str(m)[:7] for m in cohorts.get("cohort_month", [])})
    cohort_columns = sorted({int(m) for m in cohorts.get("months_since_first_order", [])})
    sections.append(charts.heat_map(
        "cohort_retention", "Cohort retention (share of the cohort ordering again)",
        cohort_rows, [str(c) for c in cohort_columns],
        {
            (str(r["cohort_month"])[:7], str(int(r["months_since_first_order"]))):
                float(r["retention_rate"])
            for r in cohorts.to_dict("records")
            if not pd.isna(r["retention_rate"])
        },
    ))
    segment_column = next(
        (c for c in impact.columns if impact[c].dtype == object or "segment" in c), None
    )
    sections.append(charts.bar_chart(
        "service_impact", "NPS by service segment",
        {
            str(r[segment_column]): _number(r.get("nps"))
            for r in impact.to_dict("records")
        } if segment_column else {},
    ))
    table = impact.to_html(index=False, float_format=lambda v: f"{v:,.2f}") if len(impact) else ""
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Customer experience dashboard</title>"
        "<style>body{font-family:sans-serif;margin:24px;max-width:1400px}"
        ".grid{display:flex;flex-wrap:wrap;gap:16px}"
        "figure{margin:0;border:1px solid #ddd;padding:8px}"
        "figcaption{font-weight:bold;margin-bottom:4px}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style>"
        "</head><body><h1>Customer service and customer experience</h1>"
        f"<p>Built {escape(datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC'))} "
        f"from {escape(str(published))}.</p><div class='grid'>"
        + "".join(
            f"<figure><figcaption>{escape(_caption(svg))}</figcaption>{svg}</figure>"
            for svg in sections
        )
        + f"</div><h2>How service drives experience</h2>{table}</body></html>"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "dashboard.html"
    fd, tmp = tempfile.mkstemp(prefix=".dashboard.", suffix=".html", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)
    os.replace(tmp, target)
    return target
