"""The dashboard's charts: Altair (Vega-Lite) specs rendered to static SVG by vl-convert,
offline (no JavaScript in the page, no CDN).

One look for every chart: gridlines, axis titles that name the unit, a legend below the
plot, the same colour for the same thing everywhere (``COLOURS``).
"""

from __future__ import annotations

import math
import threading

import altair as alt
import pandas as pd
import vl_convert

WIDTH, HEIGHT = 520, 220
_SPEC_LOCK = threading.Lock()

# One colour per concept, whichever chart shows it: service in blues, experience in
# greens/oranges, bad news in red.
COLOURS = {
    "NPS": "#2b8a3e",
    "CSAT %": "#1c7ed6",
    "Contacts per 100 orders": "#e8590c",
    "breached": "#c92a2a",
    "within target": "#868e96",
    "significant": "#2b8a3e",
    "not significant": "#adb5bd",
}
CATEGORY_SCHEME = "tableau10"

# Above this many minutes a duration axis is drawn in hours.
HOURS_FROM_MINUTES = 240


def _base(chart: alt.Chart | alt.LayerChart, title: str) -> alt.Chart | alt.LayerChart:
    return (
        chart.properties(width=WIDTH, height=HEIGHT, title=title)
        .configure_axis(grid=True, gridColor="#e9ecef", labelFontSize=11, titleFontSize=12)
        .configure_legend(orient="bottom", labelFontSize=11, titleFontSize=11)
        .configure_title(fontSize=14, anchor="start")
        .configure_view(strokeWidth=0)
    )


def render(chart: alt.Chart | alt.LayerChart, title: str) -> str:
    """The chart as a standalone ``<svg>`` element. The SVG holds the drawn marks, not the
    rows, so Altair's row limit for specs that embed their data (5,000) does not apply: a
    year of daily rows per channel or age bucket would pass it."""
    # Altair's data transformer is process-wide state that the ``with`` sets and
    # restores: panels drawn in threads (cxw.reports) take turns here; the slow part,
    # vl-convert's rendering, runs side by side.
    with _SPEC_LOCK, alt.data_transformers.disable_max_rows():
        spec = _base(chart, title).to_dict()
    return vl_convert.vegalite_to_svg(spec)


def duration_unit(minutes: pd.Series) -> tuple[float, str]:
    """Divide minutes by this and name the unit: hours when the values are large."""
    largest = pd.to_numeric(minutes, errors="coerce").max()
    if pd.notna(largest) and largest > HOURS_FROM_MINUTES:
        return 60.0, "hours"
    return 1.0, "minutes"


def whole_ticks(largest: float) -> list[int] | alt.UndefinedType:
    """Tick values for a count axis: whole numbers only, about five of them."""
    if pd.isna(largest) or largest <= 0:
        return alt.Undefined
    rough = largest / 5
    magnitude = 10 ** max(0, math.floor(math.log10(rough))) if rough >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return list(range(0, int(math.ceil(largest / step)) * step + 1, step))


def colour_scale(names: list[str]) -> alt.Scale:
    known = [name for name in names if name in COLOURS]
    if known and len(known) == len(names):
        return alt.Scale(domain=names, range=[COLOURS[name] for name in names])
    # The same name gets the same colour in every chart that shows the same set.
    return alt.Scale(scheme=CATEGORY_SCHEME, domain=sorted(names))


def lines(
    frame: pd.DataFrame, x: str, y: str, series: str, *, x_title: str, y_title: str,
    y_format: str = ",.1f", x_type: str = "T", time_format: str = "%b %Y",
) -> alt.Chart:
    """One line (with points) per ``series`` value."""
    names = list(dict.fromkeys(frame[series]))
    if x_type == "T" and time_format == "%b %Y":
        # Monthly points: one labelled tick per month, not the time scale's own ticks.
        x_encoding = alt.X(f"yearmonth({x}):O", title=x_title,
                           axis=alt.Axis(format="%b %Y", labelAngle=0))
    elif x_type == "T":
        x_encoding = alt.X(f"{x}:T", title=x_title, axis=alt.Axis(format=time_format))
    else:
        x_encoding = alt.X(f"{x}:{x_type}", title=x_title, sort=None,
                           axis=alt.Axis(labelAngle=0))
    legend = None if len(names) == 1 else alt.Legend()
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=x_encoding,
            y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(
                format=y_format,
                values=whole_ticks(frame[y].max()) if y_format.endswith(".0f") else alt.Undefined,
            )),
            color=alt.Color(f"{series}:N", title=None, scale=colour_scale(names),
                            sort=names, legend=legend),
            tooltip=[alt.Tooltip(f"{x}:{x_type}"), series, alt.Tooltip(f"{y}:Q",
                                                                      format=y_format)],
        )
    )


def bars(
    frame: pd.DataFrame, category: str, value: str, *, value_title: str,
    value_format: str = ",.1f", colour: str | None = None, colour_title: str | None = None,
    sort: list[str] | None = None,
) -> alt.LayerChart:
    """Horizontal bars with their value written at the end of each bar."""
    encoding = {
        "y": alt.Y(f"{category}:N", title=None, sort=sort or "-x"),
        "x": alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=value_format)),
    }
    bar = alt.Chart(frame).mark_bar(color="#1c7ed6").encode(**encoding)
    if colour:
        names = list(dict.fromkeys(frame[colour]))
        bar = bar.encode(color=alt.Color(f"{colour}:N", title=colour_title,
                                         scale=colour_scale(names), sort=names))
    labels = alt.Chart(frame).mark_text(align="left", dx=3, fontSize=11).encode(
        **encoding, text=alt.Text(f"{value}:Q", format=value_format)
    )
    return alt.layer(bar, labels)


def stacked_bars(
    frame: pd.DataFrame, x: str, value: str, stack: str, *, x_title: str, value_title: str,
    x_type: str = "T", time_format: str = "%d %b", order: list[str] | None = None,
) -> alt.Chart:
    """Vertical bars per ``x``, stacked by ``stack``."""
    names = order or list(dict.fromkeys(frame[stack]))
    axis = alt.Axis(format=time_format, title=x_title) if x_type == "T" else alt.Axis(
        title=x_title
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:{'O' if x_type == 'T' else x_type}", axis=axis,
                    timeUnit="yearmonthdate" if x_type == "T" else None),
            y=alt.Y(f"sum({value}):Q", title=value_title, axis=alt.Axis(
                values=whole_ticks(frame.groupby(x)[value].sum().max())
            )),
            color=alt.Color(f"{stack}:N", title=None, scale=colour_scale(names), sort=names),
            order=alt.Order(f"{stack}_order:Q") if f"{stack}_order" in frame else alt.Undefined,
        )
    )


def heat_map(
    frame: pd.DataFrame, row: str, column: str, value: str, *, row_title: str,
    column_title: str, legend_title: str,
) -> alt.LayerChart:
    """Cells coloured by a 0..1 share, each labelled with its percentage, and a legend."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{row}:O", title=row_title),
        x=alt.X(f"{column}:O", title=column_title, axis=alt.Axis(labelAngle=0)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=legend_title,
                        scale=alt.Scale(scheme="blues", domainMin=0),
                        legend=alt.Legend(format=".0%", orient="right")),
    )
    largest = pd.to_numeric(frame[value], errors="coerce").max()
    dark_from = 0.5 * (float(largest) if pd.notna(largest) and largest > 0 else 1.0)
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{value}:Q", format=".0%"),
        color=alt.condition(f"datum.{value} > {dark_from}", alt.value("white"),
                            alt.value("black")),
    )
    return alt.layer(cells, text)
