"""Charts for the organisers' pages, drawn on the server as plain geometry.

The templates turn a ``Chart`` into inline SVG (``macros.html``); every chart comes with
its table of the same numbers beside it and as a CSV download. No script draws anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which colour (css class s0, s1 …)
    title: str  # what a pointer or screen reader hears: "week 48, Boodschappen: 3"


@dataclass(frozen=True, slots=True)
class Line:
    series: int
    points: str  # "x,y x,y …" for <polyline>
    dots: tuple[tuple[float, float, str], ...]


@dataclass
class Chart:
    name: str  # used in ids and the CSV file name
    title: str
    head: list[str]  # the table's column headings
    rows: list[list[str]]  # the table's rows, as shown
    legend: list[str] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    base: float = HEIGHT - BOTTOM
    left: float = LEFT

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.head)
        writer.writerows(self.rows)
        return out.getvalue()


def _nice_top(value: float, unit: str = "") -> float:
    """A round number at or above ``value`` for the top of the scale: 100 for shares, at
    least 4 otherwise (so that the four steps of the scale are whole numbers)."""
    if unit == "%":
        return 100.0
    if value <= 4:
        return 4.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 4, 8, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _frame(chart: Chart, labels: Sequence[str], top: float, unit: str = "") -> tuple[float, float]:
    plot_w = chart.width - LEFT - RIGHT
    plot_h = chart.height - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    for index, label in enumerate(labels):
        if len(labels) <= 12 or index % 2 == 0:
            chart.x_labels.append((LEFT + slot * (index + 0.5), label))
    for step in range(5):
        value = top * step / 4
        chart.y_ticks.append((chart.base - plot_h * step / 4, f"{_number(value)}{unit}"))
    return slot, plot_h


def stacked_bars(
    name: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    head: list[str],
    rows: list[list[str]],
    unit: str = "",
) -> Chart:
    """Bars per label, the series stacked on each other (one series: plain bars)."""
    chart = Chart(name, title, head, rows, legend=[s[0] for s in series])
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = _nice_top(max(totals, default=0), unit)
    slot, plot_h = _frame(chart, labels, top, unit)
    for index, label in enumerate(labels):
        y = chart.base
        for number, (series_name, values) in enumerate(series):
            value = values[index]
            if value <= 0:
                continue
            height = plot_h * value / top
            y -= height
            chart.bars.append(
                Bar(
                    LEFT + slot * index + slot * 0.15,
                    y,
                    slot * 0.7,
                    height,
                    number,
                    f"{label}, {series_name}: {_number(value)}{unit}",
                )
            )
    return chart


def line_chart(
    name: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    head: list[str],
    rows: list[list[str]],
    unit: str = "",
) -> Chart:
    """One line per series; a week without a value leaves a gap in no line (it is skipped)."""
    chart = Chart(name, title, head, rows, legend=[s[0] for s in series])
    known = [v for _, values in series for v in values if v is not None]
    top = _nice_top(max(known, default=0), unit)
    slot, plot_h = _frame(chart, labels, top, unit)
    for number, (series_name, values) in enumerate(series):
        dots = tuple(
            (
                round(LEFT + slot * (index + 0.5), 1),
                round(chart.base - plot_h * value / top, 1),
                f"{labels[index]}, {series_name}: {_number(value)}{unit}",
            )
            for index, value in enumerate(values)
            if value is not None
        )
        points = " ".join(f"{x},{y}" for x, y, _ in dots)
        chart.lines.append(Line(number, points, dots))
    return chart
