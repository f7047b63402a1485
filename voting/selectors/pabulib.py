"""A round as a Pabulib instance, for researchers' tools (``manage.py export_pabulib``)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.timezone import localtime

from ..models import BallotStatus, FundingRule, Round
from ..pabulib import Instance


def _amount(value: Decimal) -> str:
    """Whole yuan without decimals (as Pabulib files write costs), else two places."""
    return str(value.quantize(Decimal(1))) if value == value.to_integral() else str(value)


def round_to_pabulib(round_: Round) -> Instance:
    """The round's slate, money and approval ballots. Voter ids are usernames for a roll-call
    round; a secret one's voters are numbered 1, 2, … in the order of their ballots' content
    (the approved ids), which depends on nothing but the ballots handed in. No personal data."""
    projects = list(round_.projects.select_related("proposal"))
    ballots = list(round_.ballots.select_related("member").order_by("member__username"))
    closed = round_.status == BallotStatus.CLOSED
    counts = {rp.proposal_id: 0 for rp in projects}
    for ballot in ballots:
        for pk in ballot.approved:
            counts[pk] = counts.get(pk, 0) + 1
    rule = "greedy"
    if round_.rule == FundingRule.MES:
        rule = "equalshares/add1" if round_.add1 else "equalshares"
    meta = {
        "description": round_.title,
        "country": "China",
        "unit": round_.community.name,
        "instance": str(round_.envelope.year),
        "num_projects": str(len(projects)),
        "num_votes": str(len(ballots)),
        "budget": _amount(round_.money),
        "vote_type": "approval",
        "rule": rule,
        "date_begin": localtime(round_.opened_at).strftime("%d.%m.%Y"),
        "date_end": localtime(round_.closes_at).strftime("%d.%m.%Y"),
        "language": "zh",
        "currency": "CNY",
    }
    project_rows = []
    for rp in projects:
        row = {
            "project_id": str(rp.proposal_id),
            "cost": _amount(rp.cost),
            "votes": str(counts[rp.proposal_id]),
            "name": rp.proposal.title,
        }
        if closed and round_.valid:
            row["selected"] = "1" if rp.funded else "0"
        project_rows.append(row)
    if round_.is_secret:
        ballots.sort(key=lambda ballot: (len(ballot.approved), sorted(ballot.approved)))
        voter_ids = [str(n) for n in range(1, len(ballots) + 1)]
    else:
        voter_ids = [ballot.member.username for ballot in ballots]
    votes = [
        {"voter_id": voter, "vote": ",".join(str(pk) for pk in sorted(ballot.approved))}
        for voter, ballot in zip(voter_ids, ballots, strict=True)
    ]
    return Instance(meta=meta, projects=project_rows, votes=votes)
