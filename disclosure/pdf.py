"""Official PDFs of disclosures, and printable notices for the notice board (居务公开栏).

``disclosure_pdf`` renders the official record: ``disclosure_publish`` calls it once, after it
has sealed the content hash and the evidence head on the row, and stores the bytes and their
SHA-256. The body is ``templates/disclosure/_content.html``, the same rendering the public page
uses, in the official language (Chinese); every page's footer prints the content's SHA-256,
the evidence log's head hash at publication and where to verify them.

``notice_pdf`` renders, on demand, the A4 sheet for the notice board: the key facts in large
type and a QR code to the disclosure's page (and, once the project is finished, one to the
evaluation form), with the same two hashes.

Both are rendered by ``council.pdf.render_pdf`` (WeasyPrint with Noto Sans CJK SC, nothing
fetched but ``data:`` URLs).
"""

from __future__ import annotations

from urllib.parse import urljoin

from django.urls import reverse
from django.utils.timezone import localtime

from council.pdf import OFFICIAL_LANGUAGE
from council.pdf import render_pdf as _render
from council.qr import FALLBACK_SITE_URL, absolute_url, qr_data_uri, site_url

__all__ = [
    "FALLBACK_SITE_URL",
    "OFFICIAL_LANGUAGE",
    "disclosure_pdf",
    "notice_pdf",
    "page_url_for",
    "qr_data_uri",
    "site_url",
]


def page_url_for(disclosure, request=None) -> str:
    """The absolute URL of a disclosure's public page: ``SITE_URL`` if set, else the
    request's own origin, else the fallback."""
    return absolute_url(reverse("disclosure", args=[disclosure.pk]), request)


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
