from django import template
from django.utils.safestring import SafeString

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
