"""Demo data of the voting app: this year's envelopes, real ballots behind every demo
decision, an upcoming meeting with its agenda, and an open ballot to try.

Idempotent like the rest of ``seed_demo``. Registered with ``proposals.demo`` (in
``VotingConfig.ready``) so that demo proposals are approved or rejected by a council ballot
with members' votes, as in the app, not by a stated basis.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils.timezone import localtime

from council import clock
from council.models import Community, RoleKind
from proposals.lifecycle import Move
from proposals.models import Proposal, Stage

from . import services
from .models import Ballot, BallotStatus, Envelope, Meeting

ENVELOPE = Decimal("2000000.00")
CLOSE_REASON = "议事会会议现场表决完毕（演示）"


def envelope_ensure(community: Community) -> Envelope:
    envelope, _ = Envelope.objects.get_or_create(
        community=community, year=clock.today().year, defaults={"amount": ENVELOPE}
    )
    return envelope


def _decide(proposal: Proposal, staff, *, approve: bool) -> Proposal:
    """Open a ballot, let the members vote (most for ``approve``, a few otherwise, one
    abstaining), and close it as the clerk at the end of the meeting."""
    envelope_ensure(proposal.community)
    ballot = services.ballot_open(
        actor=staff, proposal=proposal, closes_at=clock.now() + dt.timedelta(hours=2)
    )
    voters = [
        line.member
        for line in ballot.eligible.filter(recused=False).select_related("member").order_by("pk")
    ]
    majority, minority = ("yes", "no") if approve else ("no", "yes")
    for n, member in enumerate(voters):
        choice = "abstain" if n == len(voters) - 1 else (minority if n % 4 == 3 else majority)
        services.vote_cast(actor=member, ballot=ballot, choice=choice)
    services.ballot_close(actor=staff, ballot=ballot, reason=CLOSE_REASON)
    return Proposal.objects.get(pk=proposal.pk)


def decide_approve(proposal: Proposal, staff) -> Proposal:
    return _decide(proposal, staff, approve=True)


def decide_reject(proposal: Proposal, staff) -> Proposal:
    return _decide(proposal, staff, approve=False)


def deciders() -> dict[str, object]:
    return {Move.APPROVE: decide_approve, Move.REJECT: decide_reject}


@transaction.atomic
def seed() -> int:
    """Envelopes, and for each demo community with a proposal in voting: a meeting tomorrow
    with it on the agenda and an open ballot on it. Returns how many objects were added."""
    added = 0
    for community in Community.objects.filter(slug__in=["donghu", "xiling"]):
        envelope_ensure(community)
        staff = community.roles.filter(kind=RoleKind.STAFF).order_by("pk").first()
        in_voting = Proposal.objects.filter(community=community, stage=Stage.VOTING).first()
        if staff is None or in_voting is None:
            continue
        if Ballot.objects.filter(proposal=in_voting, status=BallotStatus.OPEN).exists():
            continue
        agenda = [in_voting] + list(
            Proposal.objects.filter(community=community, stage=Stage.CONSULTATION)[:2]
        )
        meeting = (
            Meeting.objects.filter(community=community, items__proposal=in_voting)
            .exclude(status="ended")
            .first()
        )
        if meeting is None:
            start = localtime(clock.now() + dt.timedelta(days=1)).replace(
                hour=19, minute=0, second=0, microsecond=0
            )
            meeting = services.meeting_schedule(
                actor=staff.user,
                community=community,
                title=f"{community.name}居民议事会{clock.today().month}月例会",
                starts_at=start,
                place="社区党群服务中心二楼会议室",
                proposals=agenda,
            )
            added += 1
        ballot = services.ballot_open(
            actor=staff.user,
            proposal=in_voting,
            closes_at=meeting.starts_at + dt.timedelta(days=2),
            meeting=meeting,
        )
        # Two members have voted already; the demo's council-member sign-in has not.
        voters = list(
            ballot.eligible.filter(recused=False)
            .exclude(member__username__endswith="resident01")
            .select_related("member")
            .order_by("pk")[:2]
        )
        for line in voters:
            services.vote_cast(actor=line.member, ballot=ballot, choice="yes")
        added += 1
    return added
