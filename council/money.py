"""Money as people read it: ``Decimal`` yuan shown as ¥500,000.00 in both languages."""

from decimal import Decimal

from django.utils import numberformat


def format_yuan(value) -> str:
    """¥ and two places with 3-digit groups, the way budgets and accounts are written; a
    negative amount has its minus sign before ¥ (-¥660.00).

    Django's zh-hans number format groups by four digits without a separator; Chinese
    financial documents use thousands separators, so the format is explicit here.
    """
    if value is None or value == "":
        return "—"
    value = Decimal(value)
    amount = numberformat.format(
        abs(value),
        decimal_sep=".",
        decimal_pos=2,
        grouping=3,
        thousand_sep=",",
        force_grouping=True,
    )
    return f"-¥{amount}" if value < 0 else f"¥{amount}"
