"""Whole numbers from outside — a URL, a query string, a form field, a WebSocket frame — read
one way, so that nonsense (``²``, ``-1``, ``1e400``, 5,000 nines) never reaches ``int()`` or the
database: it gives the default, a 404 or a clear error, never a 500. ``whole_number`` reads one;
``IdChoiceField`` is a form's choice of a row by such an id; ``IdConverter`` is the URLs'.

Ids and counts are stored as 64-bit integers (PostgreSQL ``bigint``, SQLite ``INTEGER``); a
number with more than 18 digits is refused before anything is looked up.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

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


class IdChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` for an id posted by a page: the value counts only if
    ``whole_number`` reads it as an id (1 to 18 ASCII digits, at least 1); anything else —
    ``" 1"``, ``"１"``, ``"1e3"`` — is an invalid choice, like an id outside the queryset, and
    never reaches the database."""

    def to_python(self, value):
        if value in self.empty_values or isinstance(value, self.queryset.model):
            return super().to_python(value)
        if whole_number(value, minimum=1) is None:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)
