from django import template
from django.utils.safestring import SafeString

from council import wording
from council.money import format_yuan
from council.sanitiser import plain_text as markdown_plain_text
from council.sanitiser import render_plain, sanitised_again, text_of_html

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Money as ¥500,000.00 (see ``council.money``)."""
    return format_yuan(value)


@register.filter
def stored_html(value) -> SafeString:
    """HTML that ``council.sanitiser`` wrote at save time, read back from the database.

    Passed through the sanitiser's cleaner once more on the way out (it leaves clean HTML
    unchanged), so even a row edited behind the app's back cannot inject markup.
    """
    return sanitised_again(value or "")


@register.filter
def plain_text(value) -> SafeString:
    """Plain user text (a reason, a note) exactly as typed, escaped, with its line breaks and
    links: the one way plain text is shown, on pages and in PDFs alike."""
    return render_plain("" if value is None else str(value))


@register.filter
def markdown_text(value) -> str:
    """User Markdown as the text a reader sees, without its syntax (``council.sanitiser``'s
    ``plain_text``), for a quote, an excerpt or a diff. Escaped when shown, like any text."""
    return markdown_plain_text("" if value is None else str(value))


@register.filter
def stored_text(value) -> str:
    """The text of HTML the sanitiser stored (``body_html``), without any mark-up: the same
    words as ``markdown_text`` of its source, without rendering the Markdown again."""
    return text_of_html("" if value is None else str(value))


@register.filter
def listing(items) -> str:
    """A list of names or titles joined the reader's way: 赵洋、马文华 (``council.wording``)."""
    return wording.listing(items)


@register.simple_tag
def list_separator() -> str:
    """Between two items a template writes one by one: 、 in Chinese, ", " in English."""
    return wording.list_separator()


@register.simple_tag
def label_colon() -> str:
    """Between a label and its value: ： in Chinese, ": " in English."""
    return wording.label_colon()


@register.filter
def bracketed(value) -> str:
    """An aside in the reader's brackets: （x） in Chinese, (x) in English."""
    return wording.bracketed(value)


@register.filter
def money_difference(amount, percent=None) -> str:
    """A difference of money and its percentage: -¥660.00（-3.0%）."""
    if amount is None or amount == "":
        return "—"
    return wording.money_difference(amount, percent)
