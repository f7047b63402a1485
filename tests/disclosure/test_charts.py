"""The statistics' bar charts read on a phone: drawn at a phone's width, every bar inside the
scale, every value printed on or just after its bar and inside the drawing."""

from __future__ import annotations

from decimal import Decimal

from disclosure import charts

FONT = charts.FONT


def _chart(values, series=("a",)):
    return charts.bar_chart(
        id="c",
        title="t",
        description="d",
        series=[charts.Series(key, key) for key in series],
        categories=[f"第{i}类" for i in range(len(values))],
        values=values,
        fmt=lambda v: f"¥{v:,.2f}",
    )


def test_the_scale_reaches_past_the_biggest_value():
    # 548,300 in steps of 200,000: three steps (a Decimal's // truncates: two were drawn).
    chart = _chart([(Decimal("548300"),), (Decimal("72000"),)])
    assert [t.text for t in chart.ticks][-1] == "¥600,000.00"
    for row in chart.rows:
        for bar in row.bars:
            assert bar.x >= 0 and bar.x + bar.width <= chart.width


def test_each_value_is_printed_on_its_bar_or_right_after_it_inside_the_drawing():
    chart = _chart(
        [(Decimal("548300"), Decimal("126161")), (Decimal("72000"), Decimal("0"))],
        series=("budget", "spent"),
    )
    for row in chart.rows:
        assert row.label_y < row.bars[0].y, "the label is above its bars"
        for bar in row.bars:
            width = len(bar.value) * FONT * 0.6
            if bar.inside:
                assert bar.text_x <= bar.x + bar.width and bar.text_x - width >= bar.x
            else:
                assert bar.text_x >= bar.x + bar.width and bar.text_x + width <= chart.width
    assert chart.rows[0].bars[0].inside and not chart.rows[1].bars[1].inside


def test_drawn_at_a_phones_width_so_its_texts_stay_readable():
    # Shown about 340 px wide on a 390 px phone, the 14-unit texts are over 12 px.
    assert charts.WIDTH <= 360 and FONT * 340 / charts.WIDTH >= 12
