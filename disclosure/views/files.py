"""A published disclosure's official PDF (stored at publication) and its notice-board sheet
(rendered on demand). Drafts answer 404, to everyone, like anything not public.

Both are PDFs the app writes itself with WeasyPrint from its own templates (no uploaded bytes),
so they open inline in the browser. Uploaded PDFs (a proposal's documents) are another matter:
``proposals.views`` serves those as attachments only."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import quote

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_safe

from council.files import stored_file_open

from ..models import Disclosure, DisclosureStatus

# The stored PDF never changes: a correction is a new version at a new URL.
IMMUTABLE = {"public": True, "max_age": 31_536_000, "immutable": True}
NOTICE_SECONDS = 3600  # a notice is rendered on demand; keep it this long


def _published(pk: int) -> Disclosure:
    return get_object_or_404(
        Disclosure.objects.select_related("community", "proposal"),
        pk=pk,
        status=DisclosureStatus.PUBLISHED,
    )


def _safe_for_names(text: str) -> str:
    text = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "", text)
    return re.sub(r"\s+", " ", text).strip(" .")


def _disposition(ascii_name: str, name: str) -> str:
    """``inline`` with an ASCII fallback ``filename`` and the UTF-8 ``filename*`` (RFC 6266,
    RFC 5987), which browsers prefer."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-") or "disclosure.pdf"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _names(disclosure: Disclosure, suffix: str = "") -> tuple[str, str]:
    stem = f"{disclosure.community.slug}-{disclosure.proposal_id}-{disclosure.kind}"
    title = _safe_for_names(disclosure.title.replace(" · ", "-"))[:120] or stem
    version = f"v{disclosure.version}"
    return (f"{stem}-{version}{suffix}.pdf", f"{title}-{version}{suffix}.pdf")


@require_safe
def disclosure_pdf_file(request, pk: int):
    """The official PDF as stored at publication: the bytes whose SHA-256 the page shows."""
    disclosure = _published(pk)
    if not disclosure.pdf:
        raise Http404
    etag = f'"{disclosure.pdf_sha256}"' if disclosure.pdf_sha256 else None
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        patch_cache_control(not_modified, **IMMUTABLE)
        return not_modified
    response = FileResponse(stored_file_open(disclosure.pdf), content_type="application/pdf")
    response["Content-Disposition"] = _disposition(*_names(disclosure))
    if etag:
        response["ETag"] = etag
        digest = base64.b64encode(bytes.fromhex(disclosure.pdf_sha256)).decode()
        response["Repr-Digest"] = f"sha-256=:{digest}:"
    patch_cache_control(response, **IMMUTABLE)
    return response


@require_safe
def disclosure_notice(request, pk: int):
    """The A4 notice for the notice board, with QR codes to the page (and the evaluation form
    once the project is finished). Rendered on demand and kept in the cache for an hour."""
    # Imported here, not with the URLs: WeasyPrint takes over a second to import, more than
    # half of a worker's start, and bin/serve's restart of a dead worker waits for it.
    from ..pdf import notice_pdf, notice_wants_evaluation, page_url_for

    disclosure = _published(pk)
    page_url = page_url_for(disclosure, request)
    where = hashlib.sha256(page_url.encode()).hexdigest()[:16]
    key = f"disclosure-notice:{disclosure.pk}:{int(notice_wants_evaluation(disclosure))}:{where}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = notice_pdf(disclosure, page_url)
        cache.set(key, pdf, NOTICE_SECONDS)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = _disposition(*_names(disclosure, "-notice"))
    patch_cache_control(response, public=True, max_age=NOTICE_SECONDS)
    return response
