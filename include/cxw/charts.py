"""Small inline-SVG charts for the static reports: no JavaScript, no CDN, no downloads.

Each chart is an ``<svg class="chart" data-chart=NAME data-points=N>`` element, so a test
(or a person) can see how many data points it drew.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 640, 260, 44
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


def _frame(name: str, points: int, body: str, title: str) -> str:
    return (
        f'<svg class="chart" data-chart="{escape(name)}" data-points="{points}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>{body}</svg>'
    )


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def _axes(labels: Sequence[str], low: float, high: float) -> str:
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>',
        f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<text x="4" y="16" font-size="11">{high:,.1f}</text>',
        f'<text x="4" y="{HEIGHT - PAD}" font-size="11">{low:,.1f}</text>',
    ]
    step = max(1, len(labels) // 8)
    for index in range(0, len(labels), step):
        x = _scale(index, 0, max(len(labels) - 1, 1), PAD, WIDTH - 20)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" font-size="10" '
            f'text-anchor="middle">{escape(labels[index])}</text>'
        )
    return "".join(parts)


def line_chart(
    name: str, title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]
) -> str:
    """One line per series over shared x labels; ``None`` values leave a gap."""
    values = [v for points in series.values() for v in points if v is not None]
    if not values:
        return _frame(name, 0, '<text x="20" y="40">no data yet</text>', title)
    low, high = min(min(values), 0), max(values)
    body = [_axes(labels, low, high)]
    for number, (label, points) in enumerate(series.items()):
        colour = PALETTE[number % len(PALETTE)]
        coords = [
            (_scale(i, 0, max(len(labels) - 1, 1), PAD, WIDTH - 20),
             _scale(v, low, high, HEIGHT - PAD, 10))
            for i, v in enumerate(points)
            if v is not None
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        body += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in coords]
        body.append(
            f'<text x="{WIDTH - 150}" y="{20 + 14 * number}" font-size="12" '
            f'fill="{colour}">{escape(label)}</text>'
        )
    return _frame(name, len(values), "".join(body), title)


def bar_chart(name: str, title: str, bars: dict[str, float | None], unit: str = "") -> str:
    """Horizontal bars, one per label."""
    shown = {k: v for k, v in bars.items() if v is not None}
    if not shown:
        return _frame(name, 0, '<text x="20" y="40">no data yet</text>', title)
    high = max(max(shown.values()), 0) or 1
    low = min(min(shown.values()), 0)
    row = (HEIGHT - 20) / max(len(shown), 1)
    body = []
    for number, (label, value) in enumerate(shown.items()):
        y = 10 + number * row
        x0 = _scale(0, low, high, 170, WIDTH - 70)
        x1 = _scale(value, low, high, 170, WIDTH - 70)
        body.append(
            f'<text x="6" y="{y + row / 2 + 4:.1f}" font-size="12">{escape(label)}</text>'
            f'<rect class="bar" x="{min(x0, x1):.1f}" y="{y + 4:.1f}" width="{abs(x1 - x0):.1f}" '
            f'height="{row - 8:.1f}" fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{max(x0, x1) + 4:.1f}" y="{y + row / 2 + 4:.1f}" '
            f'font-size="11">{value:,.1f}{escape(unit)}</text>'
        )
    return _frame(name, len(shown), "".join(body), title)


def heat_map(
    name: str, title: str, rows: Sequence[str], columns: Sequence[str],
    cells: dict[tuple[str, str], float],
) -> str:
    """A grid of cells shaded by value in 0..1 (e.g. retention rates)."""
    if not cells:
        return _frame(name, 0, '<text x="20" y="40">no data yet</text>', title)
    cell_w = (WIDTH - 90) / max(len(columns), 1)
    cell_h = (HEIGHT - 30) / max(len(rows), 1)
    body = []
    for c, column in enumerate(columns):
        body.append(
            f'<text x="{90 + c * cell_w + cell_w / 2:.1f}" y="14" font-size="10" '
            f'text-anchor="middle">{escape(column)}</text>'
        )
    for r, row in enumerate(rows):
        y = 20 + r * cell_h
        body.append(
            f'<text x="4" y="{y + cell_h / 2 + 4:.1f}" font-size="10">{escape(row)}</text>'
        )
        for c, column in enumerate(columns):
            value = cells.get((row, column))
            if value is None:
                continue
            shade = int(255 - 200 * max(0.0, min(1.0, value)))
            body.append(
                f'<rect class="cell" x="{90 + c * cell_w:.1f}" y="{y:.1f}" '
                f'width="{cell_w - 1:.1f}" height="{cell_h - 1:.1f}" '
                f'fill="rgb({shade},{shade},255)">'
                f"<title>{escape(row)} +{escape(column)}: {value:.0%}</title></rect>"
            )
    return _frame(name, len(cells), "".join(body), title)
