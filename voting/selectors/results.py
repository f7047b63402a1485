"""What a ballot or a round says: the tally of a ballot, why a round did not fund a project.
Pure reads: no selector here writes, and a closed ballot's tally reads nothing."""

from __future__ import annotations

from django.utils.translation import gettext as _

from council.money import format_yuan

from ..models import Ballot, BallotStatus, FundingRule, HandCount, Round, RoundProject
from ..tally import Tally, count_choices, tally_compute


def ballot_tally(ballot: Ballot) -> Tally:
    """The tally of the ballot: frozen counts once closed (no query), else the votes cast so
    far with the show of hands (two queries)."""
    if ballot.status == BallotStatus.CLOSED:
        yes, no, abstain = ballot.yes, ballot.no, ballot.abstain
    else:
        yes, no, abstain = count_choices(ballot.votes.values_list("choice", flat=True))
        hands = HandCount.objects.filter(ballot=ballot).first()
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
