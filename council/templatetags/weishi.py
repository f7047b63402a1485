from django import template

from council.money import format_yuan

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Money as ¥500,000.00 (see ``council.money``)."""
    return format_yuan(value)
