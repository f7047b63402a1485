"""The one sanitiser of user text (proposals, messages, reasons): Markdown, then bleach.

Every piece of user-written text is rendered here, at write time, and stored as clean HTML
beside its source; templates show that stored HTML and never mark anything else safe. bleach
is frozen upstream, so every call to it stays in this module: replacing it means changing
one file.

Plain text (reasons, notes, answers) is not Markdown and is never cleaned: every character is
escaped, so it reads exactly as typed (``AT&T <b>bold</b>`` shows those characters), and it is
rendered where it is shown (``{{ text|plain_text }}``), the page and the PDF alike. bleach's
cleaner is not used on it because it rewrites text that looks like an escaped entity (a typed
``&amp;lt;`` would come out as ``<``); its linkifier is exact on escaped text.

bleach's ``Cleaner`` is not thread-safe: it keeps its HTML parser's state between calls, so two
threads cleaning through one cleaner mangle each other's text (or raise), and so would its
linkifier. Each thread gets a cleaner and a linkifier of its own, made on its first call
(``bench/sanitiser.py`` measures the options).
"""

from __future__ import annotations

import html
import re
import threading
from functools import partial

import bleach
import markdown
from bleach.linkifier import DEFAULT_CALLBACKS, LinkifyFilter
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote",
        "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr",
        "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "th": ["align"], "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
MAX_SOURCE_LENGTH = 20_000
HEADING = re.compile(r"<h([1-6])>")
HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _nofollow(attrs, new=False):
    """Links written by users are theirs, not the programme's: nofollow, no opener."""
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


def _new_cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            partial(LinkifyFilter, callbacks=[*DEFAULT_CALLBACKS, _nofollow], parse_email=False)
        ],
    )


_per_thread = threading.local()


def _cleaner() -> bleach.Cleaner:
    """This thread's cleaner, never handed to another thread."""
    cleaner = getattr(_per_thread, "cleaner", None)
    if cleaner is None:
        cleaner = _per_thread.cleaner = _new_cleaner()
    return cleaner


def _linker() -> bleach.Linker:
    """This thread's linkifier, never handed to another thread."""
    linker = getattr(_per_thread, "linker", None)
    if linker is None:
        linker = _per_thread.linker = bleach.Linker(
            callbacks=[*DEFAULT_CALLBACKS, _nofollow], parse_email=False
        )
    return linker


def render_markdown(source: str) -> SafeString:
    """User Markdown as clean HTML. Raw HTML tags outside the allowlist are stripped.

    Headings are shifted so the text's top heading is an h3 and the levels below follow
    it without gaps in between (capped at h6): user text never outranks the page's own h1 and
    h2, and a "###" after the page's h2 does not skip a level for screen readers.
    """
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValueError("text too long to render")
    html = markdown.markdown(
        source.replace("\r\n", "\n"),
        extensions=["sane_lists", "tables", "fenced_code", "nl2br"],
        output_format="html",
    )
    levels = [int(level) for level in HEADING.findall(html)]
    if levels:
        shift = 3 - min(levels)
        html = HEADING_TAG.sub(lambda m: f"<{m[1]}h{min(max(int(m[2]) + shift, 3), 6)}>", html)
    return mark_safe(_cleaner().clean(html))  # noqa: S308 - this is the sanitiser's output


def render_plain(source: str) -> SafeString:
    """Plain text (a reason, a note) as HTML that reads exactly as typed: every character
    escaped and none dropped, line breaks kept, web addresses made links (nofollow)."""
    text = (source or "").replace("\r\n", "\n").replace("\r", "\n")
    linked = _linker().linkify(html.escape(text, quote=False))
    return mark_safe(linked.replace("\n", "<br>"))  # noqa: S308 - this is the sanitiser's output


def sanitised_again(stored_html: str) -> SafeString:
    """HTML this module wrote earlier, read back from the database, cleaned once more.

    Idempotent on its own output; a tampered row loses whatever the allowlist forbids.
    """
    return mark_safe(_cleaner().clean(stored_html))  # noqa: S308 - this is the sanitiser's output
