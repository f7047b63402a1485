"""The one sanitiser of user text (proposals, messages, reasons): Markdown, then bleach.

Every piece of user-written text is rendered here, at write time, and stored as clean HTML
beside its source; templates show that stored HTML and never mark anything else safe. bleach
is frozen upstream, so every call to it stays in this module: replacing it means changing
one file.

Where user Markdown is shown as text (quotes, revision diffs, feeds, notifications, e-mails,
excerpts), ``plain_text`` gives its words without the syntax: paragraphs and line breaks kept,
list items as 「· 」, no ``**`` nor ``###``.

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

import functools
import html
import re
import threading
from functools import partial
from html.parser import HTMLParser

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


_LIST_ITEM = re.compile(r" {0,3}(?:([-*+])|\d{1,9}[.)])[ \t]+\S")
_FENCE = re.compile(r" {0,3}(?:```|~~~)")


def _lists_interrupt_paragraphs(source: str) -> str:
    """A blank line before a list that follows a line of text: people write 「- 一项」 under a
    sentence and mean a list (as most editors read it), where Markdown alone would keep the
    dash as text; and between a bulleted and a numbered list. Fenced code is left alone."""
    lines, fenced, previous = [], False, ""
    for line in source.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (item := _LIST_ITEM.match(line)) and previous.strip():
            before = _LIST_ITEM.match(previous)
            if before is None and not previous.startswith((" ", "\t")):
                lines.append("")  # a list under a line of text
            elif before is not None and bool(before[1]) != bool(item[1]):
                lines.append("")  # a numbered list after a bulleted one, or the other way
        lines.append(line)
        previous = line
    return "\n".join(lines)


def render_markdown(source: str) -> SafeString:
    """User Markdown as clean HTML. Raw HTML tags outside the allowlist are stripped.

    Headings are shifted so the text's top heading is an h3 and the levels below follow
    it without gaps in between (capped at h6): user text never outranks the page's own h1 and
    h2, and a "###" after the page's h2 does not skip a level for screen readers. A list may
    start right under a line of text, without a blank line between.
    """
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValueError("text too long to render")
    html = markdown.markdown(
        _lists_interrupt_paragraphs(source.replace("\r\n", "\n")),
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
    return mark_safe(_cleaned_again(stored_html))  # noqa: S308 - this is the sanitiser's output


@functools.lru_cache(maxsize=2048)
def _cleaned_again(stored_html: str) -> str:
    # Cleaning is a function of the text alone: each process cleans a message once, not once
    # for every reader (a 300-message thread spent a quarter of its page cleaning them).
    return _cleaner().clean(stored_html)


# Elements that start a block of their own in the text, and those separated by a blank line.
_BLOCKS = frozenset({"p", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "table",
                     "tr", "hr"})  # fmt: skip
_PARAGRAPHS = frozenset({"p", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "table",
                         "hr"})  # fmt: skip
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_SPACE = re.compile(r"[ \t]*\n[ \t]*")


class _TextOfHtml(HTMLParser):
    """The words of the sanitiser's own HTML: blocks on lines of their own, paragraphs apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.lists: list[list] = []  # per open list: [ordered, items so far]
        self.cells = 0
        self.in_pre = 0

    def _break(self, blank: bool) -> None:
        last = next((part for part in reversed(self.parts) if part), "")
        if blank or not last.endswith("\n"):
            self.parts.append("\n\n" if blank else "\n")

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS:
            # A list inside a list item goes on the next line, not a paragraph apart.
            self._break(tag in _PARAGRAPHS and not (tag in ("ul", "ol") and self.lists))
        if tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            if self.lists:
                self.lists[-1][1] += 1
                ordered, number = self.lists[-1]
                indent = "\u3000" * (len(self.lists) - 1)  # a full-width space per level
                self.parts.append(f"{indent}{number}. " if ordered else f"{indent}· ")
            else:
                self.parts.append("· ")
        elif tag == "br":
            self._break(False)
        elif tag == "pre":
            self.in_pre += 1
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.parts.append("\t")
            self.cells += 1

    def handle_endtag(self, tag):
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "pre":
            self.in_pre = max(self.in_pre - 1, 0)
        if tag in _PARAGRAPHS:
            self._break(not self.lists)

    def handle_data(self, data):
        # Outside <pre>, a line break in Markdown's HTML only lays out the source (a break
        # the writer typed is a <br>).
        self.parts.append(data if self.in_pre else data.replace("\n", ""))

    def text(self) -> str:
        text = _LINE_SPACE.sub("\n", "".join(self.parts))
        return _BLANK_LINES.sub("\n\n", text).strip()


def plain_text(source: str) -> str:
    """User Markdown as the text a reader sees, for wherever it is shown as text (a quote, a
    diff, a feed, a notification, an e-mail, an excerpt): no syntax left (``**``, ``###``,
    ``- ``), paragraphs apart by a blank line, line breaks kept, list items as 「· 」 (or their
    number), table cells apart by a tab. Not HTML: escape it where it is shown."""
    return text_of_html(render_markdown((source or "")[:MAX_SOURCE_LENGTH]))


def text_of_html(stored_html: str) -> str:
    """The same text as ``plain_text``, from the HTML this module stored beside the Markdown
    (``body_html``): ten times faster than rendering the Markdown again, for a page that shows
    an excerpt of every message. Not HTML: escape it where it is shown."""
    parser = _TextOfHtml()
    parser.feed(stored_html or "")
    parser.close()
    return parser.text()
