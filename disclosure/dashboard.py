"""The district dashboard (区级总览): for a district admin, every community of the district at
a glance — proposals per stage, this year's money (envelope, approved, spent) and what is
overdue — with links to the community's pages the admin may read.

A fixed number of queries whatever the number of communities: each figure is one aggregate
query over the whole district, grouped by community (money too: summed by the database, not
read project by project). The page shows the communities a page at a time, by street; the
district's totals cover them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count

from council import clock
from council.models import Community, District
from proposals.models import Proposal, Stage
from voting.models import Envelope, Reservation

from .models import EvaluationWindow, Objection
from .queue import progress_owed_counts
from .selectors import money_sums

ZERO = Decimal("0.00")


@dataclass
class CommunityLine:
    community: Community
    stages: dict = field(default_factory=dict)  # stage value → count
    envelope: Decimal | None = None  # None: the district admin has set none for the year
    approved: Decimal = ZERO
    spent: Decimal = ZERO
    progress_owed: int = 0
    objections_overdue: int = 0
    windows_overdue: int = 0

    @property
    def proposals(self) -> int:
        return sum(self.stages.values())

    @property
    def overdue(self) -> int:
        return self.progress_owed + self.objections_overdue + self.windows_overdue

    @property
    def stage_list(self) -> list[tuple[str, str, int]]:
        """(value, label, count) of every stage with a proposal, in the order of a life."""
        return [(s.value, s.label, self.stages[s.value]) for s in Stage if self.stages.get(s)]


@dataclass
class Dashboard:
    district: District
    year: int
    lines: list[CommunityLine]

    @property
    def totals(self) -> dict:
        """The district's sums: envelopes set, approved, spent, overdue items."""
        return {
            "envelope": sum((x.envelope for x in self.lines if x.envelope is not None), ZERO),
            "approved": sum((x.approved for x in self.lines), ZERO),
            "spent": sum((x.spent for x in self.lines), ZERO),
            "overdue": sum(x.overdue for x in self.lines),
        }


def district_dashboard(district: District, year: int | None = None) -> Dashboard:
    """Every community of ``district`` with its figures for ``year`` (this year by default).
    Seven queries, however many communities and projects."""
    now = clock.now()
    year = year or clock.today().year
    communities = list(
        Community.objects.filter(sub_district__district=district)
        .select_related("sub_district")
        .order_by("sub_district__name", "name")
    )
    lines = {c.pk: CommunityLine(community=c) for c in communities}
    in_district = {"community__sub_district__district": district}

    for community_id, stage, n in (
        Proposal.objects.filter(**in_district)
        .values_list("community_id", "stage")
        # COUNT(*), not of the id: answered from the (community, stage) index alone.
        .annotate(n=Count("*"))
        .order_by()
    ):
        lines[community_id].stages[stage] = n

    for community_id, amount in Envelope.objects.filter(year=year, **in_district).values_list(
        "community_id", "amount"
    ):
        lines[community_id].envelope = amount

    for row in money_sums(
        Reservation.objects.filter(
            envelope__year=year, **{"envelope__" + k: v for k, v in in_district.items()}
        ),
        "proposal__community_id",
    ):
        line = lines[row["proposal__community_id"]]
        line.approved, line.spent = Decimal(row["budget"]), Decimal(row["spent"])

    owed = progress_owed_counts(Proposal.objects.filter(**in_district), now)
    for community_id, n in owed.items():
        lines[community_id].progress_owed = n

    for community_id, n in (
        Objection.objects.filter(
            disclosure__community__sub_district__district=district,
            answered_at__isnull=True,
            disclosure__publicity_ends_at__lte=now,
        )
        .values_list("disclosure__community_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        lines[community_id].objections_overdue = n

    for community_id, n in (
        EvaluationWindow.objects.filter(
            proposal__community__sub_district__district=district,
            closed_at__isnull=True,
            closes_at__lte=now,
        )
        .values_list("proposal__community_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        lines[community_id].windows_overdue = n

    return Dashboard(district=district, year=year, lines=[lines[c.pk] for c in communities])
