"""What a ballot or a round says: the tally of a ballot, what a round's rule funds and why it
did not fund a project. Pure reads: nothing here writes, and a closed ballot's tally reads
nothing."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from council.money import format_yuan

from ..allocation import Project, equal_shares, greedy
from ..models import Ballot, BallotStatus, FundingRule, HandCount, Round, RoundProject
from ..tally import Tally, count_choices, tally_compute


def ballot_tally(ballot: Ballot, *, choices: Iterable[str] | None = None) -> Tally:
    """The tally of the ballot: frozen counts once closed (no query), else the votes cast so
    far (their ``choices`` when the caller has read them; else one query) with, for a secret
    ballot, the clerk's show of hands (one query: only a secret ballot has one)."""
    if ballot.status == BallotStatus.CLOSED:
        yes, no, abstain = ballot.yes, ballot.no, ballot.abstain
    else:
        if choices is None:
            choices = ballot.votes.values_list("choice", flat=True)
        yes, no, abstain = count_choices(choices)
        hands = HandCount.objects.filter(ballot=ballot).first() if ballot.is_secret else None
        if hands is not None:
            yes, no, abstain = yes + hands.yes, no + hands.no, abstain + hands.abstain
    return tally_compute(
        quorum=ballot.quorum,
        threshold=ballot.threshold,
        base=ballot.base,
        yes=yes,
        no=no,
        abstain=abstain,
    )


def rejection_reason(round_: Round, rp: RoundProject) -> str:
    """Why a project of a closed, valid round was not funded, in the active language."""
    if not rp.approvals:
        return _("No member approved it.")
    if round_.rule == FundingRule.MES:
        return _(
            "%(n)d approvals; its cost of %(cost)s could not be shared equally among its "
            "supporters within the %(money)s of the round."
        ) % {"n": rp.approvals, "cost": format_yuan(rp.cost), "money": format_yuan(round_.money)}
    return _(
        "%(n)d approvals; its cost of %(cost)s did not fit in what was left when its turn came "
        "(of the round's %(money)s)."
    ) % {"n": rp.approvals, "cost": format_yuan(rp.cost), "money": format_yuan(round_.money)}


def round_allocate(round_: Round, ballots: list[list[int]]) -> list[int]:
    """The proposal ids the round's rule funds from these approval ballots."""
    projects = [
        Project(id=str(rp.proposal_id), cost=rp.cost, order=rp.position)
        for rp in round_.projects.all()
    ]
    sets = [{str(pk) for pk in approved} for approved in ballots]
    if round_.rule == FundingRule.MES:
        funded = equal_shares(
            projects, sets, round_.money, completion="add1" if round_.add1 else "none"
        )
    else:
        funded = greedy(projects, sets, round_.money)
    return [int(pk) for pk in funded]
