"""Punctuation that depends on the reader's language: how a list of names is joined, how a
label meets its value, how an aside is bracketed, and how a difference of money is written.

Chinese joins names with 、, puts a full-width colon after a label and full-width brackets
around an aside; English uses ", ", ": " and " (…)". Each is one translatable string here, so
a template or a message never hard-codes either language's punctuation.
"""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.translation import pgettext

from .money import format_yuan


def list_separator() -> str:
    """What goes between two items of a list: ", " in English, 、 in Chinese."""
    return pgettext("list separator", ", ")


def listing(items) -> str:
    """The items (names, titles, ids) as one list in the reader's language: 赵洋、马文华."""
    return list_separator().join(str(item) for item in items)


def label_colon() -> str:
    """What goes between a label and its value: ": " in English, ： in Chinese."""
    return pgettext("label and value", ": ")


def bracketed(value) -> str:
    """An aside in brackets, escaped, with its space: " (x)" in English, （x） in Chinese."""
    return format_html(pgettext("an aside in brackets", " ({})"), value)


def aside(value) -> str:
    """An aside in brackets as plain text (for a choice's label, which the widget escapes)."""
    return pgettext("an aside in brackets", " ({})").format(value)


def money_difference(amount, percent=None) -> str:
    """A difference of money with its sign before ¥ and, if given, its percentage of the
    budget: -¥660.00（-3.0%） in Chinese, -¥660.00 (-3.0%) in English. ``percent`` is the
    percentage as text with one place ("-3.0", "+3.0" or "3.0"); its sign follows the
    amount's."""
    amount = Decimal(amount)
    sign = "+" if amount > 0 else ""
    text = sign + format_yuan(amount)
    if percent is None or percent == "":
        return text
    number = str(percent).lstrip("+")
    if amount > 0 and not number.startswith("-"):
        number = "+" + number
    return pgettext("money and its percentage", "%(amount)s (%(percent)s%%)") % {
        "amount": text,
        "percent": number,
    }
