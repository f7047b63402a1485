"""Reads of ballots and rounds for pages. They never write: a page that must not show a stale
"open" closes what is due first (``voting.services.ballot_close_if_due``), then reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, F, OuterRef, Prefetch, QuerySet, When

from council import clock
from council.models import Community, Council
from proposals.models import Proposal, Stage

from ..models import (
    Ballot,
    BallotStatus,
    Eligibility,
    Meeting,
    MeetingStatus,
    Recusal,
    Round,
    RoundBallot,
    RoundMember,
    RoundProject,
    Vote,
)
from ..tally import Tally
from .receipts import receipt_of
from .results import ballot_tally, rejection_reason


def public_proposals(community: Community) -> QuerySet[Proposal]:
    """The proposals of ``community`` that anyone may see (``Stage.PUBLIC``)."""
    return Proposal.objects.public().filter(community=community)


def public_proposal(community: Community, pk: int) -> Proposal | None:
    return public_proposals(community).filter(pk=pk).first()


def proposal_of(community: Community, pk: int) -> Proposal | None:
    """The proposal ``pk`` of ``community`` in any stage (for the clerk), or None."""
    return Proposal.objects.filter(community=community, pk=pk).first()


def ballot_for_page(slug: str, pk: int) -> Ballot | None:
    """The ballot ``pk`` of the community ``slug`` with what its page shows of it, or None.
    One query (its ``voter_ids`` are read when asked, or set by ``ballot_votes``)."""
    return (
        Ballot.objects.filter(community__slug=slug, pk=pk)
        .select_related("proposal", "meeting", "opened_by", "closed_by", "community__sub_district")
        .first()
    )


@dataclass(frozen=True)
class BallotVotes:
    """What a ballot's page shows of its votes (``ballot_votes``)."""

    tally: Tally
    lines: list[dict]
    my_vote: Vote | None
    my_receipt: dict | None


def ballot_votes(ballot: Ballot, user) -> BallotVotes:
    """The ballot's tally, its list of members, and the signed-in ``user``'s
    own vote and receipt, from one read of the list and one of the votes: two queries, three
    for an open secret ballot (its show of hands). Sets ``ballot.voter_ids`` from the list.

    The votes are read with the ``receipt`` of ``user``'s own vote only: nobody else's receipt
    leaves the database (``voting.selectors.receipts``)."""
    members = list(
        ballot.eligible.select_related("member").order_by("seat_category", "member__display_name")
    )
    ballot.__dict__["voter_ids"] = frozenset(m.member_id for m in members if not m.recused)
    mine = user.pk if user.is_authenticated else None
    votes = {
        vote.member_id: vote
        for vote in Vote.objects.filter(ballot=ballot)
        .annotate(own_receipt=Case(When(member_id=mine, then=F("receipt")), default=None))
        .only("member_id", "choice", "recorded_by_id")
    }
    my_vote = votes.get(mine)
    if my_vote is not None:
        my_vote.receipt = my_vote.own_receipt
    return BallotVotes(
        tally=ballot_tally(ballot, choices=[vote.choice for vote in votes.values()]),
        lines=_lines(ballot, members, votes),
        my_vote=my_vote,
        my_receipt=receipt_of(ballot, my_vote),
    )


def _lines(ballot: Ballot, members, votes: dict) -> list[dict]:
    """Per member on the list, what the page may show: whether they voted, and — for a
    roll-call ballot once closed — their choice. A secret ballot shows no per-member vote at
    all, to anyone."""
    lines = []
    for line in members:
        vote = votes.get(line.member_id)
        shown = not ballot.is_secret
        lines.append(
            {
                "member": line.member,
                "seat": line.get_seat_category_display(),
                "recused": line.recused,
                "voted": shown and vote is not None,
                "choice": vote.get_choice_display()
                if shown and vote and not ballot.is_open
                else "",
                "by_clerk": shown and vote is not None and vote.recorded_by_id is not None,
            }
        )
    return lines


def expert_opinions(proposal: Proposal) -> list:
    """The formal expert opinions recorded on ``proposal``, oldest first, with their experts.
    One query."""
    return list(proposal.expert_opinions.select_related("expert").order_by("created_at", "pk"))


def ballot_voters(ballot: Ballot) -> QuerySet:
    """The members who may vote in ``ballot`` (on its list, not recused), by name."""
    voters = ballot.eligible.filter(recused=False).values("member_id")
    return get_user_model().objects.filter(pk__in=voters).order_by("display_name")


def ballots_of_proposal(proposal: Proposal) -> list[Ballot]:
    return list(Ballot.objects.filter(proposal=proposal).order_by("-opened_at", "-pk"))


def recusals_of(proposal: Proposal) -> list[Recusal]:
    return list(Recusal.objects.filter(proposal=proposal).select_related("member"))


def meetings_open_for(community: Community) -> list[Meeting]:
    """Meetings a ballot may be opened at: not ended."""
    return list(
        Meeting.objects.filter(community=community)
        .exclude(status=MeetingStatus.ENDED)
        .order_by("starts_at")
    )


def council_overview(community: Community) -> dict:
    """The council page's council and lists: meetings, ballots and rounds, newest first
    (bounded), and the proposals in voting."""
    return {
        "council": Council.objects.filter(community=community).first(),
        "meetings": list(Meeting.objects.filter(community=community).order_by("-starts_at")[:20]),
        "ballots": list(
            Ballot.objects.filter(community=community)
            .select_related("proposal")
            .order_by("-opened_at", "-pk")[:30]
        ),
        "rounds": list(
            Round.objects.filter(community=community).order_by("-opened_at", "-pk")[:10]
        ),
        "in_voting": list(
            Proposal.objects.filter(community=community, stage=Stage.VOTING).order_by("pk")
        ),
    }


def awaiting_for(user) -> dict:
    """Open ballots and rounds where ``user`` may vote and has not yet (awaiting my vote)."""
    now = clock.now()
    mine = Eligibility.objects.filter(ballot=OuterRef("pk"), member=user, recused=False)
    voted = Vote.objects.filter(ballot=OuterRef("pk"), member=user)
    ballots = list(
        Ballot.objects.filter(status=BallotStatus.OPEN, closes_at__gt=now)
        .filter(Exists(mine))
        .exclude(Exists(voted))
        .select_related("proposal", "community")
        .order_by("closes_at")
    )
    in_round = RoundMember.objects.filter(round=OuterRef("pk"), member=user)
    handed_in = RoundBallot.objects.filter(round=OuterRef("pk"), member=user)
    rounds = list(
        Round.objects.filter(status=BallotStatus.OPEN, closes_at__gt=now)
        .filter(Exists(in_round))
        .exclude(Exists(handed_in))
        .select_related("community")
        .order_by("closes_at")
    )
    return {"ballots": ballots, "rounds": rounds}


def round_for_page(community: Community, pk: int) -> Round | None:
    """The round ``pk`` of ``community`` with its slate, or None. Two queries."""
    return (
        Round.objects.filter(community=community, pk=pk)
        .select_related("envelope", "community", "opened_by")
        .prefetch_related(
            Prefetch("projects", queryset=RoundProject.objects.select_related("proposal"))
        )
        .first()
    )


def round_lines(round_: Round) -> list[dict]:
    """The slate with, once closed, approvals, funded or not and why not; funded first, in
    order of approvals."""
    projects = list(round_.projects.all())
    if round_.status == BallotStatus.CLOSED and round_.valid:
        projects.sort(key=lambda rp: (not rp.funded, -(rp.approvals or 0), rp.cost, rp.position))
    return [
        {
            "project": rp,
            "reason": rejection_reason(round_, rp) if round_.valid and rp.funded is False else "",
        }
        for rp in projects
    ]


def round_voters(round_: Round) -> QuerySet:
    """The members on the round's list, by name."""
    return (
        get_user_model()
        .objects.filter(pk__in=round_.members.values("member_id"))
        .order_by("display_name")
    )


def round_handed_in(round_: Round) -> int:
    """How many approval ballots are handed in: counted while open, frozen once closed."""
    return round_.ballots.count() if round_.is_open else round_.participation


def round_member_line(round_: Round, user) -> tuple[RoundMember | None, RoundBallot | None]:
    if not user.is_authenticated:
        return None, None
    return (
        RoundMember.objects.filter(round=round_, member=user).first(),
        RoundBallot.objects.filter(round=round_, member=user).first(),
    )
