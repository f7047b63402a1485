"""Whole numbers from outside — a URL, a query string, a form field, a WebSocket frame — read
one way, so that nonsense (``²``, ``-1``, ``1e400``, 5,000 nines) never reaches ``int()`` or the
database: it gives the default, a 404 or a clear error, never a 500.

Ids and counts are stored as 64-bit integers (PostgreSQL ``bigint``, SQLite ``INTEGER``); a
number with more than 18 digits is refused before anything is looked up.
"""

from __future__ import annotations

import re

DB_INT_MAX = 2**63 - 1  # the largest id or count the database can hold
MAX_DIGITS = 18  # every number of at most 18 digits fits under DB_INT_MAX
_DIGITS = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")


def whole_number(value, *, default=None, minimum: int = 0, maximum: int = DB_INT_MAX):
    """``value`` as an ``int`` between ``minimum`` and ``maximum``, else ``default``.

    A string counts only if it is 1 to 18 ASCII digits (no sign, space, exponent or other
    script's digits); an ``int`` (not a ``bool``) counts as itself. Anything else — a float, a
    list, ``None`` — gives ``default``.
    """
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return default
    return number if minimum <= number <= maximum else default


class IdConverter:
    """The ``<id:pk>`` path converter: an id of 1 to 18 ASCII digits. A longer number does not
    match the route (404) instead of reaching ``int()`` or the database (500)."""

    regex = rf"[0-9]{{1,{MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
