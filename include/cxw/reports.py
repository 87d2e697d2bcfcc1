"""What the user sees after a build: the key numbers and a static CX dashboard.

Both read the published warehouse read-only, so they show exactly what BI tools see, and
both take every figure from the marts or the semantic layer's tables (``semantic.key_numbers``
holds the headline numbers, with the definitions of the MetricFlow metrics of the same
names): nothing here re-derives a metric. The dashboard is one self-contained HTML file
whose charts are static SVG drawn by Altair/vl-convert (offline: no JavaScript, no CDN).

The dashboard is a list of panels (``PANELS``): each is a function of the published marts
that returns ``None`` when the tables it draws are not there (a source not configured, or
a mart a newer release adds).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from cxw import charts, duckdb_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Figure:
    """A headline number: the column of ``semantic.key_numbers``, its label, its unit and
    the base it is computed over, and how to format it."""

    key: str
    label: str
    unit: str
    base: str
    kind: str  # count | decimal | share (0-1) | percent (0-100) | money

    @property
    def description(self) -> str:
        """Unit and base, as printed beside the value."""
        return f"{self.unit}, {self.base}" if self.unit else self.base


KEY_FIGURES = [
    Figure("tickets", "Tickets", "tickets", "all helpdesk tickets", "count"),
    Figure("first_reply_business_minutes_median", "First reply, median", "business minutes",
           "of replied tickets", "decimal"),
    Figure("first_reply_sla_breach_rate", "First-reply SLA breach rate", "",
           "of tickets with an SLA policy", "share"),
    Figure("csat_pct", "CSAT", "% satisfied", "of CSAT answers (4-5 of 5)", "percent"),
    Figure("ces_mean", "CES, mean", "on a 1-7 scale", "of CES answers", "decimal"),
    Figure("customers", "Customers", "customers", "in the orders database", "count"),
    Figure("nps", "NPS", "-100 to 100", "of all NPS answers", "decimal"),
    Figure("repeat_purchase_rate", "Repeat purchase rate", "", "of customers who ordered",
           "share"),
    Figure("churn_rate", "Churn rate", "", "of customers who ordered", "share"),
    Figure("net_revenue", "Net revenue", "order currency", "orders minus refunds, all time",
           "money"),
    Figure("session_conversion_rate", "Session conversion", "",
           "of web sessions, with a purchase", "share"),
    Figure("retention_month_3", "Retention 3 months after first order", "",
           "of customers in cohorts that reached month 3", "share"),
]

SEGMENT_LABELS = {
    "no_ticket": "No ticket",
    "reply_within_sla": "Replied within SLA",
    "reply_sla_breached": "First reply breached SLA",
    "unresolved": "Ticket unresolved",
}
IMPACT_COLUMNS = {
    "service_segment": "Service received",
    "customers": "Customers",
    "nps": "NPS (-100 to 100)",
    "repeat_purchase_rate": "Repeat purchase rate",
    "churn_rate": "Churn rate",
    "avg_net_revenue": "Avg net revenue per customer",
}


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def format_figure(value: Any, kind: str) -> str:
    """A figure as printed: shares as percentages, money with two decimals."""
    number = _number(value)
    if number is None:
        return "n/a"
    return {
        "count": f"{number:,.0f}",
        "decimal": f"{number:,.1f}",
        "share": f"{number:.1%}",
        "percent": f"{number:.1f}",
        "money": f"{number:,.2f}",
    }[kind]


def _tables(connection: duckdb.DuckDBPyConnection) -> set[str]:
    rows = connection.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {row[0] for row in rows}


def key_numbers(published: Path) -> dict[str, Any]:
    """The headline numbers (``semantic.key_numbers``, one row) and the service-impact
    table; missing tables give no entries."""
    with duckdb_connection.connect(published, read_only=True) as connection:
        tables = _tables(connection)
        numbers: dict[str, Any] = {}
        if "semantic.key_numbers" in tables:
            frame = connection.sql("select * from semantic.key_numbers").df()
            if len(frame):
                numbers.update(frame.iloc[0].to_dict())
        if "experience.service_impact" in tables:
            numbers["service_impact"] = connection.sql(
                "select * from experience.service_impact"
            ).df()
    return numbers


def service_impact_table(impact: pd.DataFrame) -> pd.DataFrame:
    """experience.service_impact with human labels and percentages, segments in order."""
    shown = impact[[c for c in IMPACT_COLUMNS if c in impact.columns]].copy()
    order = {segment: number for number, segment in enumerate(SEGMENT_LABELS)}
    shown = shown.sort_values("service_segment", key=lambda s: s.map(order))
    shown["service_segment"] = shown["service_segment"].map(SEGMENT_LABELS).fillna(
        shown["service_segment"]
    )
    for column in ("repeat_purchase_rate", "churn_rate"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: format_figure(v, "share"))
    for column, kind in (("nps", "decimal"), ("avg_net_revenue", "money"),
                         ("customers", "count")):
        if column in shown:
            shown[column] = shown[column].map(lambda v, kind=kind: format_figure(v, kind))
    return shown.rename(columns=IMPACT_COLUMNS)


# --- the dashboard ------------------------------------------------------------------


@dataclass
class Panel:
    name: str
    title: str
    note: str  # the unit and the base of what is drawn
    svg: str = ""
    html: str = ""
    points: int = 0


class Marts:
    """The published warehouse, read-only, for the panels."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, freshness: list[dict]):
        self.connection = connection
        self.tables = _tables(connection)
        self.freshness = freshness

    def has(self, *tables: str) -> bool:
        return all(table in self.tables for table in tables)

    def frame(self, sql: str) -> pd.DataFrame:
        return self.connection.sql(sql).df()


@dataclass
class Drawing:
    """What a panel draws from its query's frame: the chart, the rows it draws (counted on
    the page), a table shown below it, and the words for the note's ``{placeholders}``."""

    chart: Any
    rows: pd.DataFrame
    html: str = ""
    note_words: dict[str, str] = field(default_factory=dict)


PanelBuilder = Callable[[Marts], Panel | None]


def panel(
    name: str, title: str, note: str, table: str, sql: str
) -> Callable[[Callable[[pd.DataFrame], Drawing]], PanelBuilder]:
    """The shape every panel shares: nothing when ``table`` is not published, else
    ``sql``'s frame drawn by the decorated function, its rows counted, "No data yet." for
    none; ``note`` says the unit and the base of what is drawn."""

    def decorate(draw: Callable[[pd.DataFrame], Drawing]) -> PanelBuilder:
        @functools.wraps(draw)
        def build(marts: Marts) -> Panel | None:
            if not marts.has(table):
                return None
            drawing = draw(marts.frame(sql))
            text = note.format_map(drawing.note_words)
            if drawing.rows.empty:
                shown = Panel(name, title, text,
                              html=f"<h3>{escape(title)}</h3><p>No data yet.</p>")
            else:
                shown = Panel(name, title, text, svg=charts.render(drawing.chart, title),
                              points=len(drawing.rows))
            if drawing.html:
                shown.html = drawing.html
            return shown

        build.panel_name = name  # type: ignore[attr-defined]
        return build

    return decorate


def _draw(build: PanelBuilder, marts: Marts) -> Panel | None:
    """One panel; a panel that cannot be drawn says so in its place (and in the log)
    instead of taking the whole dashboard down."""
    try:
        return build(marts)
    except Exception as error:  # noqa: BLE001 - any failure of one chart
        log.exception("dashboard panel %s failed", build.__name__)
        name = getattr(build, "panel_name", build.__name__.removeprefix("panel_"))
        return Panel(name, name, "", html=(
            f"<p class='panel-error'>This panel could not be drawn: {escape(str(error))}</p>"
        ))


@panel(
    "service_vs_experience", "Service vs experience by month",
    "NPS over all NPS answers of the month; CSAT % of the month's CSAT answers; "
    "tickets per 100 orders placed (experience.monthly_kpis).",
    "experience.monthly_kpis",
    "select month, nps as \"NPS\", csat_pct as \"CSAT %\", "
    "contacts_per_100_orders as \"Contacts per 100 orders\" "
    "from experience.monthly_kpis order by month",
)
def panel_service_vs_experience(monthly: pd.DataFrame) -> Drawing:
    long = monthly.melt("month", var_name="measure", value_name="value").dropna()
    chart = charts.lines(long, "month", "value", "measure", x_title="Month",
                         y_title="NPS (-100..100) / CSAT % / contacts")
    return Drawing(chart, long)


@panel(
    "first_reply_by_channel", "First reply time by channel",
    "Median calendar {unit} to first reply of the tickets created that day, per "
    "channel (service.daily_kpis).",
    "service.daily_kpis",
    "select date, channel, first_reply_minutes_median from service.daily_kpis "
    "where first_reply_minutes_median is not null order by date, channel",
)
def panel_first_reply(daily: pd.DataFrame) -> Drawing:
    divisor, unit = charts.duration_unit(daily["first_reply_minutes_median"])
    daily["first_reply"] = daily["first_reply_minutes_median"] / divisor
    chart = charts.lines(daily, "date", "first_reply", "channel", x_title="Day",
                         y_title=f"median first reply ({unit})", time_format="%d %b")
    return Drawing(chart, daily, note_words={"unit": unit})


@panel(
    "backlog", "Open backlog at the end of each day",
    "Tickets not solved or closed at the end of the day, by channel "
    "(service.daily_kpis).",
    "service.daily_kpis",
    "select date, channel, open_backlog from service.daily_kpis order by date, channel",
)
def panel_backlog(daily: pd.DataFrame) -> Drawing:
    chart = charts.stacked_bars(daily, "date", "open_backlog", "channel", x_title="Day",
                                value_title="open tickets")
    return Drawing(chart, daily)


AGE_BUCKETS = [(1, "0-1 days"), (7, "2-7 days"), (30, "8-30 days"), (None, "over 30 days")]


@panel(
    "backlog_age", "Backlog by age",
    "Tickets not yet solved at the end of each day, by days since creation "
    "(service.ticket_backlog).",
    "service.ticket_backlog",
    "select date, age_days, count(*) as tickets from service.ticket_backlog "
    "group by all order by all",
)
def panel_backlog_age(backlog: pd.DataFrame) -> Drawing:
    bins = [-1] + [limit for limit, _ in AGE_BUCKETS if limit is not None] + [float("inf")]
    backlog["age"] = pd.cut(backlog["age_days"], bins, labels=[name for _, name in AGE_BUCKETS])
    backlog["age"] = backlog["age"].astype(str)
    backlog["age_order"] = backlog["age"].map(
        {name: number for number, (_, name) in enumerate(AGE_BUCKETS)}
    )
    # One row per day and age bucket: what is drawn.
    backlog = backlog.groupby(["date", "age", "age_order"], as_index=False)["tickets"].sum()
    chart = charts.stacked_bars(backlog, "date", "tickets", "age", x_title="Day",
                                value_title="open tickets",
                                order=[name for _, name in AGE_BUCKETS])
    return Drawing(chart, backlog)


SLA_METRICS = {
    "first_reply_time": "First reply",
    "next_reply_time": "Next reply",
    "requester_wait_time": "Requester wait",
    "agent_work_time": "Agent work",
}


@panel(
    "sla_breaches", "SLA breaches per week",
    "Breached SLA targets (reached late, or overdue while running), by the week the "
    "target started and SLA metric (service.sla_events).",
    "service.sla_events",
    "select date_trunc('week', sla_started_at)::date as week, metric, "
    "count(*) filter (where is_breached) as breaches "
    "from service.sla_events group by all order by all",
)
def panel_sla_breaches(weekly: pd.DataFrame) -> Drawing:
    weekly["metric"] = weekly["metric"].map(SLA_METRICS).fillna(weekly["metric"])
    weekly["week"] = pd.to_datetime(weekly["week"]).dt.strftime("%d %b %Y")
    chart = charts.lines(weekly, "week", "breaches", "metric", x_title="Week starting",
                         y_title="breached SLA targets", y_format=",.0f", x_type="O")
    return Drawing(chart, weekly)


@panel(
    "agents", "Agents",
    "Tickets solved per agent; median calendar first reply and CSAT % of their "
    "tickets (service.agents).",
    "service.agents",
    "select agent_name, tickets_solved, first_reply_minutes_median, csat_pct "
    "from service.agents where agent_name is not null order by tickets_solved desc",
)
def panel_agents(agents: pd.DataFrame) -> Drawing:
    chart = charts.bars(agents, "agent_name", "tickets_solved", value_title="tickets solved",
                        value_format=",.0f")
    divisor, unit = charts.duration_unit(agents["first_reply_minutes_median"])
    table = pd.DataFrame({
        "Agent": agents["agent_name"],
        "Tickets solved": agents["tickets_solved"].map(lambda v: format_figure(v, "count")),
        f"First reply, median ({unit})": (agents["first_reply_minutes_median"] / divisor).map(
            lambda v: format_figure(v, "decimal")
        ),
        "CSAT %": agents["csat_pct"].map(lambda v: format_figure(v, "percent")),
    })
    return Drawing(chart, agents, html=table.to_html(index=False, border=0, classes="table"))


def _monthly(column: str, name: str, title: str, axis: str, note: str,
             y_format: str = ",.1f") -> PanelBuilder:
    """A panel of one column of experience.monthly_kpis by month."""

    @panel(
        name, title, note, "experience.monthly_kpis",
        f"select month, {column} as value from experience.monthly_kpis "  # noqa: S608 - fixed
        "where value is not null order by month",
    )
    def draw(monthly: pd.DataFrame) -> Drawing:
        monthly["measure"] = title
        chart = charts.lines(monthly, "month", "value", "measure", x_title="Month",
                             y_title=axis, y_format=y_format)
        return Drawing(chart, monthly)

    draw.__name__ = f"panel_{name}"
    return draw


panel_ces = _monthly(
    "ces_mean", "ces", "Customer effort score by month", "CES, mean (1-7)",
    "Mean of the month's CES answers (experience.monthly_kpis).",
)
panel_churn = _monthly(
    "churned_customers", "churn", "Churned customers by month", "customers",
    "Customers whose churn window (no order for churn_days days) ended in the month "
    "(experience.monthly_kpis).", ",.0f",
)
panel_revenue = _monthly(
    "net_revenue", "revenue", "Net revenue by month", "net revenue (order currency)",
    "Order totals of the month's non-cancelled orders minus refunds "
    "(experience.monthly_kpis).", ",.0f",
)
panel_conversion = _monthly(
    "session_conversion_rate", "conversion", "Session conversion by month",
    "share of sessions with a purchase",
    "Web sessions with a purchase / web sessions of the month (experience.monthly_kpis).",
    ".1%",
)


FUNNEL_STEPS = {
    "sessions": "1 Session",
    "sessions_with_view_item": "2 Viewed an item",
    "sessions_with_add_to_cart": "3 Added to cart",
    "sessions_with_checkout": "4 Checkout",
    "sessions_with_purchase": "5 Purchase",
}


@panel(
    "web_funnel", "Web funnel by channel",
    "Share of each channel group's sessions that reached each step, all days "
    "(experience.web_funnel).",
    "experience.web_funnel",
    "select default_channel_group, "  # noqa: S608 - fixed column names
    + ", ".join(f"sum({column}) as {column}" for column in FUNNEL_STEPS)
    + " from experience.web_funnel group by 1 order by 1",
)
def panel_web_funnel(funnel: pd.DataFrame) -> Drawing:
    long = funnel.melt("default_channel_group", var_name="step", value_name="reached")
    long["share"] = long["reached"] / long["default_channel_group"].map(
        funnel.set_index("default_channel_group")["sessions"]
    ).where(lambda v: v > 0)
    long["step"] = long["step"].map(FUNNEL_STEPS)
    chart = charts.lines(long.dropna(), "step", "share", "default_channel_group",
                         x_title="Funnel step", y_title="share of sessions",
                         y_format=".0%", x_type="O")
    return Drawing(chart, long)


@panel(
    "nps_drivers", "What moves NPS",
    "NPS points gained if respondents with the driver answered like those without; "
    "grey: the gap is not significant at 95% (experience.nps_drivers).",
    "experience.nps_drivers",
    "select driver, potential_nps_gain, is_significant, prevalence "
    "from experience.nps_drivers where potential_nps_gain is not null order by rank",
)
def panel_nps_drivers(drivers: pd.DataFrame) -> Drawing:
    drivers["driver"] = drivers["driver"].str.replace("_", " ").str.capitalize()
    drivers["evidence"] = drivers["is_significant"].map(
        {True: "significant", False: "not significant"}
    ).fillna("not significant")
    chart = charts.bars(drivers, "driver", "potential_nps_gain",
                        value_title="potential NPS gain (points)", colour="evidence",
                        colour_title="difference (95%)", sort=list(drivers["driver"]))
    return Drawing(chart, drivers)


FOLLOW_UP_PRIORITIES = {
    1: "1 - open ticket or SLA breach",
    2: "2 - late delivery",
    3: "3 - other",
}


@panel(
    "detractor_follow_up", "Detractors to follow up",
    "NPS answers of 0-6 in the last 30 days, by follow-up priority "
    "(experience.detractor_follow_up).",
    "experience.detractor_follow_up",
    "select follow_up_priority, count(*) as detractors "
    "from experience.detractor_follow_up group by 1 order by 1",
)
def panel_detractor_follow_up(follow_up: pd.DataFrame) -> Drawing:
    follow_up["priority"] = follow_up["follow_up_priority"].map(FOLLOW_UP_PRIORITIES).fillna(
        follow_up["follow_up_priority"].astype(str)
    )
    chart = charts.bars(follow_up, "priority", "detractors", value_title="detractor answers",
                        value_format=",.0f", sort=list(FOLLOW_UP_PRIORITIES.values()))
    return Drawing(chart, follow_up)


@panel(
    "cohort_retention", "Cohort retention",
    "Share of each cohort that ordered in each later month; month 0 (100% by "
    "definition) left out (experience.cohort_retention).",
    "experience.cohort_retention",
    "select strftime(cohort_month, '%Y-%m') as cohort, months_since_first_order, "
    "retention_rate from experience.cohort_retention "
    "where months_since_first_order >= 1 order by all",
)
def panel_cohort_retention(cohorts: pd.DataFrame) -> Drawing:
    chart = charts.heat_map(cohorts, "cohort", "months_since_first_order", "retention_rate",
                            row_title="Cohort (month of first order)",
                            column_title="Months since first order",
                            legend_title="ordered again")
    return Drawing(chart, cohorts)


@panel(
    "service_impact", "How service drives experience",
    "Customers by the worst service any of their tickets got; NPS over their latest "
    "answers, rates of customers who ordered (experience.service_impact).",
    "experience.service_impact",
    "select * from experience.service_impact",
)
def panel_service_impact(impact: pd.DataFrame) -> Drawing:
    bars = impact.assign(segment=impact["service_segment"].map(SEGMENT_LABELS))
    chart = charts.bars(bars.dropna(subset=["nps"]), "segment", "nps",
                        value_title="NPS (-100..100)", sort=list(SEGMENT_LABELS.values()))
    table = service_impact_table(impact).to_html(index=False, border=0, classes="table")
    return Drawing(chart, bars, html=table)


PANELS: list[PanelBuilder] = [
    panel_service_vs_experience,
    panel_first_reply,
    panel_backlog,
    panel_backlog_age,
    panel_sla_breaches,
    panel_agents,
    panel_ces,
    panel_churn,
    panel_revenue,
    panel_conversion,
    panel_web_funnel,
    panel_nps_drivers,
    panel_detractor_follow_up,
    panel_cohort_retention,
    panel_service_impact,
]


def _tiles(numbers: dict[str, Any]) -> str:
    tiles = []
    for figure in KEY_FIGURES:
        if figure.key not in numbers:
            continue
        value = _number(numbers[figure.key])
        tiles.append(
            f"<div class='tile' data-key='{escape(figure.key)}' "
            f"data-value='{'' if value is None else repr(value)}'>"
            f"<div class='label'>{escape(figure.label)}</div>"
            f"<div class='value'>{escape(format_figure(value, figure.kind))}</div>"
            f"<div class='base'>{escape(figure.description)}</div></div>"
        )
    return "<section class='tiles'>" + "".join(tiles) + "</section>"


def _as_of(numbers: dict[str, Any]) -> str:
    as_of = numbers.get("as_of_date")
    through = numbers.get("data_through_at")
    if as_of is None or pd.isna(as_of):
        return "<p class='as-of'>Data as of: unknown (no semantic.key_numbers yet).</p>"
    text = f"Data as of {pd.Timestamp(as_of):%Y-%m-%d}"
    if through is not None and not pd.isna(through):
        text += f" (latest record {pd.Timestamp(through):%Y-%m-%d %H:%M} UTC)"
    return f"<p class='as-of' data-as-of='{pd.Timestamp(as_of):%Y-%m-%d}'>{escape(text)}.</p>"


def _stale(freshness: list[dict]) -> str:
    stale = [entry for entry in freshness if entry.get("status") in ("warn", "error")]
    if not stale:
        return ""
    items = "".join(
        f"<li data-source='{escape(entry['source'])}'>{escape(entry['source'])}: "
        f"latest load {escape(str(entry.get('max_loaded_at') or 'never'))} "
        f"({escape(entry['status'])})</li>"
        for entry in stale
    )
    return (
        "<section class='stale'><strong>Stale sources</strong>: the numbers below miss "
        f"their recent data.<ul>{items}</ul></section>"
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;max-width:1400px;color:#212529}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}"
    ".tile{border:1px solid #dee2e6;border-radius:6px;padding:10px}"
    ".tile .label{font-size:13px;color:#495057}.tile .value{font-size:26px;font-weight:600}"
    ".tile .base{font-size:11px;color:#868e96}"
    ".grid{display:flex;flex-wrap:wrap;gap:16px;margin-top:16px}"
    "figure{margin:0;border:1px solid #dee2e6;border-radius:6px;padding:8px;max-width:680px}"
    "figcaption{font-size:12px;color:#495057;margin-top:4px}"
    ".table{border-collapse:collapse;font-size:13px;margin-top:8px}"
    ".table td,.table th{border-bottom:1px solid #dee2e6;padding:4px 8px;text-align:right}"
    ".table td:first-child,.table th:first-child{text-align:left}"
    ".stale{background:#fff3bf;border:1px solid #fab005;padding:8px;margin:8px 0}"
)


#: Panels drawn at a time: vl-convert renders a chart outside the GIL (measured 1.6x on
#: two cores for two at a time), and each panel's query runs on its own DuckDB cursor.
DRAWING_THREADS = 2


def _draw_all(connection: duckdb.DuckDBPyConnection, freshness: list[dict]) -> list[Panel]:
    """Every panel that can be drawn, in ``PANELS`` order."""

    def draw(build: PanelBuilder) -> Panel | None:
        with connection.cursor() as cursor:
            return _draw(build, Marts(cursor, freshness))

    with ThreadPoolExecutor(max_workers=DRAWING_THREADS) as pool:
        return [panel for panel in pool.map(draw, PANELS) if panel is not None]


def build_dashboard(published: Path, out_dir: Path, freshness: list[dict] | None = None) -> Path:
    """Write ``dashboard.html`` (atomically, mode 0644) and return its path. ``freshness``
    (as ``warehouse.source_freshness`` reports it; default: the last result next to the
    dashboard) lists stale sources at the top."""
    if freshness is None:
        saved = out_dir / "source-freshness.json"
        freshness = json.loads(saved.read_text()) if saved.exists() else []
    numbers = key_numbers(published)
    with duckdb_connection.connect(published, read_only=True) as connection:
        panels = _draw_all(connection, freshness)
    figures = "".join(
        f"<figure data-panel='{escape(panel.name)}' data-points='{panel.points}'>"
        f"{panel.svg}{panel.html}<figcaption>{escape(panel.note)}</figcaption></figure>"
        for panel in panels
    )
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Customer service and customer experience</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Customer service and customer experience</h1>"
        f"{_as_of(numbers)}{_stale(freshness)}{_tiles(numbers)}"
        f"<div class='grid'>{figures}</div></body></html>"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "dashboard.html"
    fd, tmp = tempfile.mkstemp(prefix=".dashboard.", suffix=".html", dir=out_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(html)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target
