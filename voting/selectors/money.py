"""The money of the year: what an envelope holds, what is taken and what is left."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from council import clock
from council.models import Community
from proposals.models import FeasibilityReview

from ..models import Ballot, BallotStatus, Envelope, Round


def envelope_reserved(envelope: Envelope) -> Decimal:
    return envelope.reservations.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def envelope_committed(envelope: Envelope) -> Decimal:
    """Money of the envelope already taken: reservations of approved projects, the counted
    cost of proposals on open ballots (staff's latest feasibility estimate, else the
    proposer's), and the money of open rounds. Three queries, however many ballots are open."""
    latest_estimate = (
        FeasibilityReview.objects.filter(proposal=OuterRef("proposal"))
        .order_by("-created_at", "-pk")
        .values("cost_estimate")[:1]
    )
    ballot_costs = Ballot.objects.filter(envelope=envelope, status=BallotStatus.OPEN).aggregate(
        total=Sum(Coalesce(Subquery(latest_estimate), F("proposal__estimated_cost")))
    )["total"] or Decimal("0")
    rounds = Round.objects.filter(envelope=envelope, status=BallotStatus.OPEN).aggregate(
        total=Sum("money")
    )["total"] or Decimal("0")
    return envelope_reserved(envelope) + ballot_costs + rounds


def envelope_left(envelope: Envelope) -> Decimal:
    """What is left of the envelope to put to a new ballot or round."""
    return envelope.amount - envelope_committed(envelope)


def money_of_year(community: Community) -> dict | None:
    """This year's envelope of ``community`` with what is committed and what is left, or None
    if the district admin has set none."""
    envelope = Envelope.objects.filter(community=community, year=clock.today().year).first()
    if envelope is None:
        return None
    committed = envelope_committed(envelope)
    return {"envelope": envelope, "committed": committed, "left": envelope.amount - committed}
