"""Printed documents, for every app: WeasyPrint with Noto Sans CJK SC.

``render_pdf`` renders a template in the official language (Chinese) with
``static/css/print.css``; WeasyPrint embeds the fonts as a subset (through harfbuzz's
subsetter, fast when ``libharfbuzz-subset0`` is installed). Only ``data:`` URLs are fetched
while rendering: the documents load nothing from the network or the disk.

Importing WeasyPrint takes over a second: import this module inside the view that renders,
never with the URLs. The QR codes and the site's address are in ``council.qr``.
"""

from __future__ import annotations

import functools
import re
import threading

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from .qr import site_url

OFFICIAL_LANGUAGE = "zh-hans"  # the official record is the Chinese text (DESIGN.md)
STYLESHEET = "css/print.css"
_local = threading.local()


def _css_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def _page_counter_css() -> str:
    """The footer's "第 1 页，共 2 页", from the translation of one message, as CSS counters."""
    pattern = _("Page %(number)s of %(total)s")
    content = []
    for part in re.split(r"(%\((?:number|total)\)s)", pattern):
        if part == "%(number)s":
            content.append("counter(page)")
        elif part == "%(total)s":
            content.append("counter(pages)")
        elif part:
            content.append(_css_string(part))
    return "@page { @bottom-right { content: " + " ".join(content) + "; } }"


@functools.cache
def _fetcher() -> URLFetcher:
    """Fetches ``data:`` URLs only (the QR codes). One per process: making one loads the
    system's TLS certificates, ~50 ms."""
    return URLFetcher(allowed_protocols={"data"})


@functools.cache
def _stylesheet() -> CSS:
    """``static/css/print.css``, parsed once per process."""
    path = finders.find(STYLESHEET)
    if not path:  # pragma: no cover - a broken checkout
        raise FileNotFoundError(STYLESHEET)
    return CSS(filename=path, url_fetcher=_fetcher())


@functools.cache
def _counter_stylesheet(css: str) -> CSS:
    return CSS(string=css, url_fetcher=_fetcher())


def _font_config() -> FontConfiguration:
    """One font configuration per thread (Pango's font map is not shared across threads):
    kept, fonts stay loaded between renders (about 0.1 s less per render here)."""
    if getattr(_local, "font_config", None) is None:
        _local.font_config = FontConfiguration()
    return _local.font_config


def render_pdf(template: str, context: dict) -> bytes:
    """``template`` rendered in the official language as a PDF, with the print stylesheet
    and a page counter in the footer."""
    with translation.override(OFFICIAL_LANGUAGE):
        html = render_to_string(template, context)
        counter = _counter_stylesheet(_page_counter_css())
    document = HTML(string=html, base_url=site_url() + "/", url_fetcher=_fetcher())
    return document.write_pdf(stylesheets=[_stylesheet(), counter], font_config=_font_config())
