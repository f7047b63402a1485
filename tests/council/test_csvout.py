"""Every CSV the app writes opens in a spreadsheet as text, never as a formula, and its
numbers stay numbers."""

import csv
import io
from decimal import Decimal

import pytest

from council.csvout import Writer, csv_bytes, number_cell, text_cell

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("typed", FORMULAS)
def test_a_text_cell_that_a_spreadsheet_would_run_gets_a_quote_in_front(typed):
    assert text_cell(typed) == "'" + typed


@pytest.mark.parametrize(
    "typed", ["更换路灯", "AT&T <b>bold</b>", "1-2", "a=b", "foo@example.org", "Test | Foo", ""]
)
def test_other_text_is_written_exactly_as_typed(typed):
    assert text_cell(typed) == typed


@pytest.mark.parametrize("number", [12, -200, 0, Decimal("-200.00"), Decimal("11800.00"), -1.5])
def test_numbers_in_a_numeric_column_stay_numbers(number):
    assert number_cell(number) == number
    assert number_cell(str(number)) == str(number)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("-2+3", "'-2+3"),
        ("=1+1", "'=1+1"),
        ("-1e5", "'-1e5"),
        (Decimal("-Infinity"), "'-Infinity"),
        (Decimal("NaN"), "NaN"),
        (True, "True"),
    ],
)
def test_a_numeric_column_holding_something_else_is_treated_as_text(value, written):
    assert number_cell(value) == written


def test_the_file_neutralises_text_columns_and_keeps_numeric_ones():
    data = csv_bytes(
        ["title", "amount"],
        [["-2+3", Decimal("-200.00")], ["@SUM(A1)", "-15.50"], ["路灯", 7], [None, None]],
        numeric={"amount"},
    )
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["title", "amount"],
        ["'-2+3", "-200.00"],
        ["'@SUM(A1)", "-15.50"],
        ["路灯", "7"],
        ["", ""],
    ]


def test_the_writer_takes_numeric_positions():
    out = io.StringIO()
    Writer(out, numeric={1}, lineterminator="\n").writerows([["-1", "-1"], ["+x", "+x"]])
    assert out.getvalue() == "'-1,-1\n'+x,'+x\n"
