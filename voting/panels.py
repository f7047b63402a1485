"""The voting section of a proposal's page (a ``proposal_panels`` hook): its
ballots and results, recusals, and the clerk's and members' actions."""

from __future__ import annotations

from proposals.models import Stage

from . import selectors
from .forms.ballots import RecusalForm
from .models import BallotStatus, RoundProject


def proposal_voting_panel(request, proposal):
    if proposal.stage in Stage.BEFORE_CONSULTATION:
        return None
    user = request.user
    # Before voting there is no ballot or round to look for: one query, for the recusals.
    voted_on = proposal.stage != Stage.CONSULTATION
    ballots = selectors.ballots_of_proposal(proposal) if voted_on else []
    recusals = selectors.recusals_of(proposal)
    rounds = (
        list(
            RoundProject.objects.filter(proposal=proposal)
            .select_related("round")
            .order_by("-round__opened_at")
        )
        if voted_on
        else []
    )
    community = proposal.community
    has_open = any(b.status == BallotStatus.OPEN for b in ballots) or any(
        rp.round.status == BallotStatus.OPEN for rp in rounds
    )
    can_open = (
        proposal.stage == Stage.VOTING
        and not has_open
        and user.has_perm("voting.open_ballot", community)
    )
    can_recuse = (
        proposal.stage in Stage.DELIBERATION
        and user.has_perm("voting.declare_recusal", proposal)
        and not any(r.member_id == user.pk for r in recusals)
    )
    if not (ballots or recusals or rounds or can_open or can_recuse):
        return None
    return (
        "voting/_proposal_panel.html",
        {
            "proposal": proposal,
            "community": community,
            "ballots": ballots,
            "rounds": rounds,
            "recusals": recusals,
            "can_open": can_open,
            "can_recuse": can_recuse,
            "recusal_form": RecusalForm() if can_recuse else None,
        },
    )
