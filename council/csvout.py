"""The one way the app writes a CSV file: cells that a spreadsheet would run as a formula are
made inert, and numbers stay numbers.

A CSV file is opened in Excel, WPS or LibreOffice more often than it is parsed. A text cell
that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which spreadsheets
skip before looking for those) is read as a formula: ``=HYPERLINK("http://x","y")`` in a
proposal's title would become a link in the reader's spreadsheet. As OWASP advises, such a cell
is written with a single quote in front, which spreadsheets read as "this is text" and do not
show; the rest of the cell is written exactly as it was typed.

Numbers are not touched: a column the caller declares numeric keeps ``-200.00`` as a negative
amount. Whether a cell is a number is decided by its column, not guessed from its text, so a
title ``-2+3`` is still neutralised. A value in a numeric column that is not a plain number is
treated as text.

Not used for Pabulib ``.pb`` files: see ``voting.pabulib.write``.

(``defusedcsv`` does the same job but guesses numbers from a cell's text, skips leading tabs and
carriage returns, and rewrites every ``|`` in a flagged cell to ``\\|``, which changes what was
typed; this module is a few lines and decides by column.)
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import batched
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def text_cell(value: Any) -> str:
    """A cell of text, made inert if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def number_cell(value: Any) -> Any:
    """A cell of a numeric column: an int, a finite Decimal or float, or a string that is a
    plain decimal number (``-200.00``) is written as it is; anything else as text."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
        return value
    return text_cell(value)


class Writer:
    """``csv.writer`` whose every row is made safe. ``numeric`` are the positions (from 0) of
    the columns that hold numbers; every other cell is text."""

    def __init__(self, stream, *, numeric: Collection[int] = (), **fmtparams):
        self._writer = csv.writer(stream, **fmtparams)
        self._numeric = frozenset(numeric)

    def safe_row(self, row: Iterable[Any]) -> list[Any]:
        return [
            number_cell(value) if i in self._numeric else text_cell(value)
            for i, value in enumerate(row)
        ]

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(self.safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Collection[str] = (),
    excel: bool = True,
    rows_a_chunk: int = 500,
) -> Iterator[bytes]:
    """A CSV file in pieces of ``rows_a_chunk`` rows, written as the rows come (a streamed
    download): ``header``, then ``rows`` (each in the header's order); the columns named in
    ``numeric`` hold numbers. With ``excel`` (the default) it is UTF-8 with a byte-order mark
    and CRLF line ends, so Excel reads the Chinese; else plain UTF-8."""
    out = io.StringIO()
    positions = [i for i, name in enumerate(header) if name in numeric]
    writer = Writer(out, numeric=positions, lineterminator="\r\n" if excel else "\n")
    writer.writerow(header)
    yield ("\ufeff" if excel else "").encode() + out.getvalue().encode()
    for chunk in batched(rows, rows_a_chunk):
        out.seek(0)
        out.truncate()
        writer.writerows(chunk)
        yield out.getvalue().encode()


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Collection[str] = (),
    excel: bool = True,
) -> bytes:
    """A whole CSV file, as ``csv_chunks`` writes it."""
    return b"".join(csv_chunks(header, rows, numeric=numeric, excel=excel))
