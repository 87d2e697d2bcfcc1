"""Charts render to static SVG whatever the number of rows behind them."""

from __future__ import annotations

import altair as alt
import pandas as pd

from cxw import charts


def test_a_chart_over_more_rows_than_altairs_inline_limit_still_draws() -> None:
    # Altair refuses specs embedding more than 5,000 rows; the demo's backlog by age had
    # 5,033 (day x age in days) and its panel was not drawn. An SVG holds marks, not rows.
    frame = pd.DataFrame({
        "day": pd.date_range("2000-01-01", periods=6000, freq="D"),
        "tickets": range(6000),
    })
    chart = alt.Chart(frame).mark_line().encode(x="day:T", y="tickets:Q")
    svg = charts.render(chart, "six thousand days")
    assert svg.lstrip().startswith("<svg")
    assert "role-mark" in svg
