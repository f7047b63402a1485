"""What the voting app tells a proposal's stepper (the ``proposal_deadlines`` hook): a
proposal in voting is due when its open ballot, or the open yearly round it is on, closes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from proposals.models import Stage

from .models import Ballot, BallotStatus, RoundProject


def proposal_deadlines(proposals) -> dict[int, dict]:
    """For each proposal in voting with an open ballot or round, its closing time; for one
    without, that staff open the ballot. Two queries at most."""
    voting = [p.pk for p in proposals if p.stage == Stage.VOTING]
    if not voting:
        return {}
    found: dict[int, dict] = {
        pk: {"next": _("Staff open the council's ballot; then the council votes on it.")}
        for pk in voting
    }
    for pk, closes_at in RoundProject.objects.filter(
        proposal_id__in=voting, round__status=BallotStatus.OPEN
    ).values_list("proposal_id", "round__closes_at"):
        found[pk] = {"by": closes_at}
    for pk, closes_at in Ballot.objects.filter(
        proposal_id__in=voting, status=BallotStatus.OPEN
    ).values_list("proposal_id", "closes_at"):
        found[pk] = {"by": closes_at}
    return found
