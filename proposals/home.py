"""What the proposals app adds to a person's own page (我的, ``council.home``): their
proposals, each with its stepper, and the proposals they co-signed."""

from __future__ import annotations

from . import selectors


def my_proposals_section(request):
    """My proposals, each with where it stands, what happens next, who acts and by when."""
    proposals = selectors.my_proposals(request.user)
    steppers = selectors.proposals_steps(proposals, viewer=request.user)
    for proposal in proposals:
        proposal.stepper = steppers[proposal.pk]
    return ("proposals/_mine_proposals.html", {"proposals": proposals})


def my_cosigns_section(request):
    """The proposals I co-signed, with where each stands now."""
    proposals = selectors.my_cosigned(request.user)
    if not proposals:
        return None
    steppers = selectors.proposals_steps(proposals, viewer=request.user)
    for proposal in proposals:
        proposal.stepper = steppers[proposal.pk]
    return ("proposals/_mine_cosigns.html", {"proposals": proposals})
