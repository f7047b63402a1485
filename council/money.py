"""Money as people read it: ``Decimal`` yuan shown as ¥500,000.00 in both languages."""

from decimal import Decimal

from django.utils import numberformat


def format_yuan(value) -> str:
    """¥ and two places with 3-digit groups, the way budgets and accounts are written.

    Django's zh-hans number format groups by four digits without a separator; Chinese
    financial documents use thousands separators, so the format is explicit here.
    """
    if value is None or value == "":
        return "—"
    amount = numberformat.format(
        Decimal(value),
        decimal_sep=".",
        decimal_pos=2,
        grouping=3,
        thousand_sep=",",
        force_grouping=True,
    )
    return f"¥{amount}"
