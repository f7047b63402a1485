"""Reads of the proposals app, each with a query count that does not grow with the data."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from council.models import EvidenceEvent
from council.personal_data import iso

from .models import Attachment, AttachmentKind, CoSign, FeasibilityReview, Proposal

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


def proposal_for_page(pk: int) -> Proposal | None:
    return (
        Proposal.objects.select_related(
            "community__sub_district", "community__council", "proposer", "entered_by",
            "merged_into",
        )
        .annotate(cosign_total=Count("cosigns"))
        .filter(pk=pk)
        .first()
    )  # fmt: skip


def proposal_timeline(proposal: Proposal) -> list[EvidenceEvent]:
    """Every recorded step of the proposal, oldest first, for its timeline (who and when)."""
    return list(
        EvidenceEvent.objects.filter(
            object_type=proposal._meta.label_lower, object_id=str(proposal.pk)
        )
        .select_related("actor")
        .order_by("seq")
    )


def stage_counts(community) -> dict[str, int]:
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
    from .models import Follow

    return Follow.objects.filter(user=user, community=community, proposal__isnull=True).exists()


# --- A person's own data (registered with ``council.personal_data``) -------------------------


def personal_data_of(user) -> dict:
    """What the proposals app holds about ``user``: their proposals (drafts included) with
    the revisions they wrote, their co-signs, expert opinions, uploaded files and follows."""
    from django.urls import reverse

    from .models import ExpertOpinion, Follow, Revision

    def page(proposal_id, slug):
        return reverse("proposal", args=[slug, proposal_id])

    proposals = Proposal.objects.filter(proposer=user).select_related("community").order_by("pk")
    revisions = Revision.objects.filter(author=user).order_by("proposal", "number")
    cosigns = CoSign.objects.filter(user=user).select_related("proposal__community").order_by("pk")
    opinions = (
        ExpertOpinion.objects.filter(expert=user)
        .select_related("proposal__community")
        .order_by("pk")
    )
    files = Attachment.objects.filter(uploaded_by=user).order_by("pk")
    follows = Follow.objects.filter(user=user).select_related("community", "proposal")
    return {
        "proposals": [
            {
                "id": p.pk,
                "community": p.community.name,
                "title": p.title,
                "summary": p.summary,
                "description": p.body,
                "project_type": p.project_type,
                "sub_kind": p.sub_kind,
                "location": p.location,
                "beneficiaries": p.beneficiaries,
                "estimated_cost": p.estimated_cost,
                "stage": p.stage,
                "entered_on_your_behalf": p.entered_by_id is not None,
                "created_at": iso(p.created_at),
                "submitted_at": iso(p.submitted_at),
                "page": page(p.pk, p.community.slug),
            }
            for p in proposals
        ],
        "revisions": [
            {
                "proposal_id": r.proposal_id,
                "number": r.number,
                "title": r.title,
                "summary": r.summary,
                "description": r.body,
                "note": r.note,
                "created_at": iso(r.created_at),
            }
            for r in revisions
        ],
        "cosigns": [
            {
                "proposal_id": c.proposal_id,
                "proposal": c.proposal.title,
                "created_at": iso(c.created_at),
                "page": page(c.proposal_id, c.proposal.community.slug),
            }
            for c in cosigns
        ],
        "expert_opinions": [
            {
                "proposal_id": o.proposal_id,
                "proposal": o.proposal.title,
                "recommendation": o.recommendation,
                "remarks": o.remarks,
                "created_at": iso(o.created_at),
            }
            for o in opinions
        ],
        "files": [
            {
                "proposal_id": f.proposal_id,
                "kind": f.kind,
                "name": f.name,
                "size": f.size,
                "created_at": iso(f.created_at),
                "link": reverse("attachment_file", args=[f.pk]),
            }
            for f in files
        ],
        "follows": [
            {"community": f.community.name, "proposal_id": f.proposal_id}
            for f in follows.order_by("pk")
        ],
    }
