"""Gathering co-signs: the proposal's address to share, its QR code, and the A5 sheet to print
and put up (扫码附议) while the proposal is gathering co-signs."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from council.qr import absolute_url, qr_data_uri, qr_svg

from ...models import Proposal, Stage
from .common import proposal_of


def proposal_page_url(proposal: Proposal, request=None) -> str:
    """The absolute address of the proposal's page, the one its QR codes encode."""
    return absolute_url(reverse("proposal", args=[proposal.community.slug, proposal.pk]), request)


def share_context(request, proposal: Proposal) -> dict:
    """What the page's share box shows (``proposals/_share.html``), only while the proposal
    is gathering co-signs: nothing but its address goes into the QR code."""
    if proposal.stage != Stage.SUBMITTED:
        return {}
    url = proposal_page_url(proposal, request)
    return {"share_url": url, "share_qr": qr_svg(url, title=_("QR code of this proposal's page"))}


def _needed(proposal: Proposal, cosigns: int) -> int:
    return max(proposal.community.cosign_threshold - cosigns, 0)


@require_safe
def proposal_cosign_sheet(request, slug, pk):
    """The A5 sheet to print: title, summary, how many co-signs it needs, until when, and a QR
    code of the page. Only while the proposal is gathering co-signs; 404 otherwise. Never
    the proposer's contact details."""
    # Imported here, not with the URLs: WeasyPrint takes over a second to import.
    from council.pdf import render_pdf

    proposal = proposal_of(request, slug, pk)
    if proposal.stage != Stage.SUBMITTED:
        raise Http404
    url = proposal_page_url(proposal, request)
    cosigns = proposal.cosign_total
    pdf = render_pdf(
        "proposals/cosign_sheet.html",
        {
            "proposal": proposal,
            "community": proposal.community,
            "cosigns": cosigns,
            "needed": _needed(proposal, cosigns),
            "page_url": url,
            "page_qr": qr_data_uri(url),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="proposal-{proposal.pk}-cosign.pdf"'
    patch_cache_control(response, private=True, max_age=60)
    return response
