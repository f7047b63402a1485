"""The disclosure section of a proposal's page (a ``proposal_panels`` hook): the
project's public story page and its published disclosures."""

from __future__ import annotations

from proposals.models import Stage

from .models import Disclosure, DisclosureStatus


def proposal_disclosure_panel(request, proposal):
    if proposal.stage not in Stage.DECIDED:
        return None
    disclosures = list(
        Disclosure.objects.filter(proposal=proposal, status=DisclosureStatus.PUBLISHED).order_by(
            "kind", "version"
        )
    )
    return (
        "disclosure/_proposal_panel.html",
        {"proposal": proposal, "community": proposal.community, "disclosures": disclosures},
    )
