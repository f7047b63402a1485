"""Official PDFs of disclosures, and printable notices for the notice board (居务公开栏).

``disclosure_pdf`` renders the official record: ``disclosure_publish`` calls it once, after it
has sealed the content hash and the evidence head on the row, and stores the bytes and their
SHA-256. The body is ``templates/disclosure/_content.html``, the same rendering the public page
uses, in the official language (Chinese); every page's footer prints the content's SHA-256,
the evidence log's head hash at publication and where to verify them.

``notice_pdf`` renders, on demand, the A4 sheet for the notice board: the key facts in large
type and a QR code to the disclosure's page (and, once the project is finished, one to the
evaluation form), with the same two hashes.

Both are rendered by WeasyPrint with Noto Sans CJK SC, which it embeds as a subset (through
harfbuzz's subsetter, fast when ``libharfbuzz-subset0`` is installed). Only ``data:`` URLs are
fetched while rendering: the documents load nothing from the network or the disk.
"""

from __future__ import annotations

import functools
import re
import threading
from urllib.parse import urljoin

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

OFFICIAL_LANGUAGE = "zh-hans"  # the official record is the Chinese text (DESIGN.md)
# Where the PDF says to verify it when settings.SITE_URL is not set (``make run`` sets it to
# where it serves; this is its default address).
FALLBACK_SITE_URL = "http://127.0.0.1:8000"
STYLESHEET = "css/print.css"
_local = threading.local()


def site_url() -> str:
    """The site's public origin for documents rendered without a request."""
    return (getattr(settings, "SITE_URL", "") or FALLBACK_SITE_URL).rstrip("/")


def page_url_for(disclosure, request=None) -> str:
    """The absolute URL of a disclosure's public page: ``SITE_URL`` if set, else the
    request's own origin, else the fallback."""
    path = reverse("disclosure", args=[disclosure.pk])
    if getattr(settings, "SITE_URL", "") or request is None:
        return site_url() + path
    return request.build_absolute_uri(path)


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG ``data:`` URI (vector: sharp at any print size)."""
    return segno.make(url, error="m", micro=False).svg_data_uri(border=4, omitsize=True)


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


def _render(template: str, context: dict) -> bytes:
    with translation.override(OFFICIAL_LANGUAGE):
        html = render_to_string(template, context)
        counter = _counter_stylesheet(_page_counter_css())
    document = HTML(string=html, base_url=site_url() + "/", url_fetcher=_fetcher())
    return document.write_pdf(stylesheets=[_stylesheet(), counter], font_config=_font_config())


def _urls(disclosure, page_url: str) -> dict:
    """Where to check a disclosure: its page, the public evidence log, and the project's
    page and evaluation form, all under the same site as ``page_url`` (path prefix kept)."""
    path = reverse("disclosure", args=[disclosure.pk])
    origin = urljoin(page_url, "/").rstrip("/")
    base = page_url.removesuffix(path) if page_url.endswith(path) else origin
    proposal_args = [disclosure.community.slug, disclosure.proposal_id]
    return {
        "page_url": page_url,
        "evidence_url": base + reverse("evidence"),
        "project_url": base + reverse("project", args=proposal_args),
        "evaluate_url": base + reverse("evaluate", args=proposal_args),
    }


def _created(disclosure) -> str:
    moment = disclosure.published_at or disclosure.drafted_at
    return localtime(moment).isoformat(timespec="seconds") if moment else ""


def disclosure_pdf(disclosure) -> bytes:
    """The official PDF of a disclosure being published (its ``content_sha256`` and
    ``evidence_head`` already set). Rendered without a request: URLs use ``SITE_URL``."""
    urls = _urls(disclosure, page_url_for(disclosure))
    context = {
        "disclosure": disclosure,
        "content": disclosure.content,
        "created": _created(disclosure),
        "page_qr": qr_data_uri(urls["page_url"]),
        **urls,
    }
    return _render("disclosure/pdf/disclosure.html", context)


def notice_wants_evaluation(disclosure) -> bool:
    """A notice carries the evaluation form's QR code once the project is finished: on the
    result disclosure, and on any notice while the evaluation window is open."""
    from proposals.models import Stage

    return disclosure.kind == "result" or disclosure.proposal.stage == Stage.COMPLETED


def notice_pdf(disclosure, page_url: str) -> bytes:
    """The A4 notice for the notice board, rendered on demand (not stored): key facts, a QR
    code to ``page_url`` (the disclosure's absolute page URL) and, for a finished project,
    one to the evaluation form; the content's SHA-256 and the evidence head."""
    urls = _urls(disclosure, page_url)
    evaluate = notice_wants_evaluation(disclosure)
    context = {
        "disclosure": disclosure,
        "content": disclosure.content,
        "created": _created(disclosure),
        "page_qr": qr_data_uri(urls["page_url"]),
        "evaluate_qr": qr_data_uri(urls["evaluate_url"]) if evaluate else "",
        "latest_update": (disclosure.content.get("updates") or [None])[-1],
        **urls,
    }
    if not evaluate:
        context["evaluate_url"] = ""
    return _render("disclosure/pdf/notice.html", context)
