from decimal import Decimal

from django import template
from django.utils import numberformat

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Money as accounts write it in both languages: ¥500,000.00 (two places, 3-digit groups).

    Django's zh-hans format groups by four digits without a separator; Chinese financial
    documents (and the programme's budgets) use thousands separators, so this is explicit.
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
