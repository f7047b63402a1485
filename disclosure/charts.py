"""Bar charts drawn on the server as SVG, for pages that must read without JavaScript.

A chart here is plain data — numbers, coordinates and short texts — computed in Python;
``templates/disclosure/_chart.svg`` writes the ``<rect>`` and ``<text>`` elements from it,
and autoescaping covers every text. Nothing builds markup as a string. Each chart also
carries its figures as a table (``Chart.table``), which the page prints beneath it for
screen readers and for anyone who wants the numbers.

The charts are horizontal bar charts, one row per category and one bar per series in a row
(grouped). Each category's label is on a line above its bars, so that long Chinese or English
labels have room on a phone, and each bar's value is printed on it (at its end, or just after
a bar too short to hold it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from council.wording import label_colon

# A phone's width in user units, so the drawing is shown at about its own size on a phone
# (the texts stay at least 12 px there) and the page caps it on a wide screen.
WIDTH = 360
LABEL = 20  # each category's label sits on a line of its own, above its bars
BAR = 24
BAR_GAP = 4
ROW_GAP = 12
TOP = 4
LEGEND = 26
AXIS = 28
FONT = 14  # the texts' size in user units (weishi.css says the same)


@dataclass(frozen=True)
class Series:
    key: str  # a CSS class suffix: ``series-<key>`` gives the colour
    name: str


@dataclass(frozen=True)
class Bar:
    series: str
    x: int
    y: int
    width: int
    height: int
    value: str
    label: str  # "category · series: value", the bar's tooltip
    text_x: int
    text_y: int
    inside: bool = False  # the value is printed on the bar (its end), not after it


@dataclass(frozen=True)
class Row:
    label: str
    label_x: int
    label_y: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Tick:
    x: int
    text: str
    anchor: str = "middle"  # the first and the last stay inside the drawing


@dataclass(frozen=True)
class LegendItem:
    series: str
    name: str
    x: int
    y: int
    text_x: int
    text_y: int


@dataclass(frozen=True)
class Table:
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    plot_x: int
    plot_top: int
    plot_bottom: int
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[LegendItem, ...]
    table: Table
    empty: bool = False
    series: tuple[Series, ...] = field(default_factory=tuple)


def nice_step(peak: Decimal | int, *, whole: bool = False, most: int = 5) -> Decimal:
    """The smallest of 1, 2, 2.5, 5 × 10^k such that at most ``most`` steps reach ``peak``
    (whole numbers only when ``whole``: counts have no half steps)."""
    peak = Decimal(peak)
    if peak <= 0:
        return Decimal(1)
    exponent = (peak / most).adjusted()
    for k in (exponent, exponent + 1):
        for base in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)):
            step = base.scaleb(k)
            if whole and step != step.to_integral_value():
                continue
            if step * most >= peak:
                return step
    return Decimal(10).scaleb(exponent + 1)  # pragma: no cover: 5 × 10^(k+1) always fits


def bar_chart(
    *,
    id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    categories: Sequence[str],
    values: Sequence[Sequence[Decimal | int]],
    fmt: Callable[[Decimal | int], str],
    tick_fmt: Callable[[Decimal | int], str] | None = None,
    whole: bool = False,
    table_caption: str = "",
    category_head: str = "",
) -> Chart:
    """A grouped horizontal bar chart: ``values[i][j]`` is category ``i`` in series ``j``.

    Every coordinate is an integer in SVG user units; the template scales the drawing to its
    box with a ``viewBox``. The scale starts at zero and ends at a round number; ``whole``
    keeps the ticks on whole numbers (for counts).
    """
    tick_fmt = tick_fmt or fmt
    n_series = len(series)
    legend_room = LEGEND if n_series > 1 else 0
    plot_x = 1
    plot_width = WIDTH - plot_x - 1
    top = TOP + legend_room
    group = n_series * BAR + (n_series - 1) * BAR_GAP
    peak = max((v for row in values for v in row), default=0)
    step = nice_step(peak, whole=whole)
    # A ceiling (a Decimal's // truncates toward zero, so -(-a // b) is no ceiling for it).
    steps = max(1, int((Decimal(peak) / step).to_integral_value(rounding=ROUND_CEILING)))
    scale_max = step * steps

    def scaled(value) -> int:
        return round(Decimal(value) / scale_max * plot_width)

    def text_width(text: str) -> int:
        # Digits and Latin take about 0.6 of the font size, Han characters a whole one.
        return round(sum(FONT if ord(ch) > 0x2E7F else FONT * 0.6 for ch in text))

    rows = []
    y = top
    for label, row_values in zip(categories, values, strict=True):
        bars = []
        bars_top = y + LABEL + 4
        for j, (s, value) in enumerate(zip(series, row_values, strict=True)):
            bar_y = bars_top + j * (BAR + BAR_GAP)
            width = scaled(value)
            shown = fmt(value)
            room = text_width(shown) + 12
            inside = width >= room or plot_x + width + room > WIDTH
            bars.append(
                Bar(
                    series=s.key,
                    x=plot_x,
                    y=bar_y,
                    width=width,
                    height=BAR,
                    value=shown,
                    label=f"{label} · {s.name}{label_colon()}{shown}",
                    text_x=plot_x + width - 6 if inside else plot_x + width + 6,
                    text_y=bar_y + BAR // 2 + 5,
                    inside=inside,
                )
            )
        rows.append(Row(label=label, label_x=plot_x, label_y=y + LABEL - 5, bars=tuple(bars)))
        y = bars_top + group + ROW_GAP
    plot_bottom = max(y - ROW_GAP + 4, top + BAR)
    last = steps
    ticks = tuple(
        Tick(
            x=plot_x + scaled(step * i),
            text=tick_fmt(step * i),
            anchor="start" if i == 0 else "end" if i == last else "middle",
        )
        for i in range(last + 1)
    )
    legend = []
    x = plot_x
    for s in series if n_series > 1 else ():
        legend.append(
            LegendItem(series=s.key, name=s.name, x=x, y=TOP, text_x=x + 20, text_y=TOP + 13)
        )
        x += 20 + max(text_width(s.name), 4 * FONT) + 16
    table = Table(
        caption=table_caption or title,
        head=(category_head, *(s.name for s in series)),
        rows=tuple(
            (label, *(fmt(v) for v in row_values))
            for label, row_values in zip(categories, values, strict=True)
        ),
    )
    return Chart(
        id=id,
        title=title,
        description=description,
        width=WIDTH,
        height=plot_bottom + AXIS,
        plot_x=plot_x,
        plot_top=top - 4,
        plot_bottom=plot_bottom,
        rows=tuple(rows),
        ticks=ticks,
        legend=tuple(legend),
        table=table,
        empty=not categories,
        series=tuple(series),
    )
