"""Who votes, and on what: the seated members, who is recused from a proposal, and which
proposals are on an open vote — an open ballot, or the slate of an open round. A proposal is
on at most one open vote at a time (``voting.services`` refuse a second one)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from council.models import Community
from council.selectors import council_seats
from proposals.models import Proposal, Stage

from ..models import Ballot, BallotStatus, Recusal, RoundProject


def _open_ballots() -> QuerySet[Ballot]:
    return Ballot.objects.filter(status=BallotStatus.OPEN)


def _open_slates() -> QuerySet[RoundProject]:
    return RoundProject.objects.filter(round__status=BallotStatus.OPEN)


def on_open_vote(proposal: Proposal) -> bool:
    """The proposal is on an open ballot or an open round's slate."""
    return (
        _open_ballots().filter(proposal=proposal).exists()
        or _open_slates().filter(proposal=proposal).exists()
    )


def proposals_on_open_vote(proposal_ids: Iterable[int]) -> set[int]:
    """Those of ``proposal_ids`` on an open ballot or an open round's slate. Two queries."""
    ids = list(proposal_ids)
    return set(
        _open_ballots().filter(proposal_id__in=ids).values_list("proposal_id", flat=True)
    ) | set(_open_slates().filter(proposal_id__in=ids).values_list("proposal_id", flat=True))


def slate_candidates(community: Community) -> QuerySet[Proposal]:
    """Proposals of ``community`` that a new round may put to the vote: in voting, on no open
    ballot or round; in the order they were submitted."""
    return (
        Proposal.objects.filter(community=community, stage=Stage.VOTING)
        .exclude(pk__in=_open_ballots().values("proposal_id"))
        .exclude(pk__in=_open_slates().values("proposal_id"))
        .order_by("submitted_at", "pk")
    )


def seated_members(community: Community) -> list:
    """(user, seat category) of every seated member now: active, term not ended."""
    return [(seat.user, seat.seat_category) for seat in council_seats(community)]


def recused_ids(proposal: Proposal) -> set[int]:
    """Members who do not vote on ``proposal``: its proposer, and whoever declared a conflict."""
    return {proposal.proposer_id} | set(
        Recusal.objects.filter(proposal=proposal).values_list("member_id", flat=True)
    )
