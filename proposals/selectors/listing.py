"""The community's proposal list: filtered, searched and sorted rows, and counts by stage."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from ..models import Attachment, AttachmentKind, CoSign, FeasibilityReview, Follow, Proposal

# ``listed_cost`` is the cost that counts (see ``Proposal.counted_cost``), annotated by
# ``proposal_list``: sorting by cost sorts by the figure each row shows.
SORTS = {
    "newest": ("-submitted_at", "-created_at", "-pk"),
    "cosigns": ("-cosign_total", "-submitted_at", "-pk"),
    "cost_low": ("listed_cost", "-pk"),
    "cost_high": ("-listed_cost", "-pk"),
}


@dataclass(frozen=True)
class ProposalFilter:
    stage: str = ""
    project_type: str = ""
    sub_kind: str = ""
    q: str = ""
    sort: str = "newest"


def proposal_list(community, f: ProposalFilter) -> QuerySet[Proposal]:
    """Public proposals of a community, filtered, searched and sorted.

    Search is a substring match on title, summary and description (``icontains``): it finds
    路灯 inside 更换小区路灯 on SQLite and PostgreSQL alike, where full-text search would need
    a Chinese word segmenter. Each row carries its co-sign count (``cosign_total``), the cost
    that counts (``listed_cost``: staff's latest feasibility estimate, else the proposer's) and
    its first photo (``photos``, a list of at most one).

    Three queries whatever the data: the page's rows, their first photos and, through a
    paginator, the count. Both annotations are correlated subqueries rather than a join with
    ``GROUP BY``, so the rows are neither multiplied nor grouped before the page is cut.
    """
    proposals = Proposal.objects.public().filter(community=community)
    if f.stage:
        proposals = proposals.filter(stage=f.stage)
    if f.project_type:
        proposals = proposals.filter(project_type=f.project_type)
    if f.sub_kind:
        proposals = proposals.filter(sub_kind=f.sub_kind)
    for word in f.q.split()[:5]:
        proposals = proposals.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word)
        )
    cosigns = (
        CoSign.objects.filter(proposal=OuterRef("pk"))
        .order_by()
        .values("proposal")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest_cost = (
        FeasibilityReview.objects.filter(proposal=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("cost_estimate")[:1]
    )
    # Sliced: the database keeps the first photo of each row (a window function), not all.
    photos = Attachment.objects.filter(kind=AttachmentKind.PHOTO).order_by("pk")[:1]
    return (
        proposals.annotate(
            cosign_total=Coalesce(Subquery(cosigns, output_field=IntegerField()), 0),
            listed_cost=Coalesce(Subquery(latest_cost), F("estimated_cost")),
        )
        .defer("body", "body_html", "inadmissible_reason", "inadmissible_reason_html")
        .prefetch_related(Prefetch("attachments", queryset=photos, to_attr="photos"))
        .order_by(*SORTS.get(f.sort, SORTS["newest"]))
    )


def stage_counts(community) -> dict[str, int]:
    """How many public proposals of the community are in each stage (stages with none left
    out), in one query."""
    rows = (
        Proposal.objects.public()
        .filter(community=community)
        .values("stage")
        .annotate(n=Count("pk"))
    )
    return {row["stage"]: row["n"] for row in rows}


def follows_community(user, community) -> bool:
    """Whether the user hears of every proposal of this community."""
    if not user.is_authenticated:
        return False
    return Follow.objects.filter(user=user, community=community, proposal__isnull=True).exists()
