"""What a proposal's page and its actions read: the proposal, everything its page lists, and
the few lookups of its forms and files."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, prefetch_related_objects

from council.evidence import evidence_name_bases
from council.models import EvidenceEvent

from ..models import (
    AdmissibilityReview,
    Attachment,
    AttachmentKind,
    ExpertInvitation,
    ExpertOpinion,
    FeasibilityReview,
    Proposal,
    Revision,
    Stage,
)


def proposal_for_page(pk: int) -> Proposal | None:
    """The proposal ``pk`` with what every page of it shows (community, proposer, who entered
    it, what it was merged into, its co-sign count ``cosign_total``), in one query."""
    return (
        Proposal.objects.select_related(
            "community__sub_district", "community__council", "proposer", "entered_by",
            "merged_into",
        )
        .annotate(cosign_total=Count("cosigns"))
        .filter(pk=pk)
        .first()
    )  # fmt: skip


@dataclass(frozen=True)
class ProposalPage:
    """What a proposal's page lists besides the proposal itself."""

    invitations: list[ExpertInvitation]
    feasibility_reviews: list[FeasibilityReview]  # newest first
    photos: list[Attachment]
    documents: list[Attachment]
    admissibility: AdmissibilityReview | None  # the latest checklist
    merged_from: list[Proposal]
    opinions: list[ExpertOpinion]
    revisions: list[Revision]  # without their text
    timeline: list[EvidenceEvent]


def proposal_page(proposal: Proposal) -> ProposalPage:
    """Everything the page of ``proposal`` lists, one query per list whatever its length.

    The invitations and feasibility reviews are prefetched onto ``proposal``, so its
    ``invited_expert_ids`` (which ``council.rules`` reads) and ``latest_feasibility`` (the
    cost that counts) need no query of their own.
    """
    prefetch_related_objects(
        [proposal],
        Prefetch(
            "expert_invitations",
            ExpertInvitation.objects.select_related("expert").order_by("created_at", "pk"),
        ),
        Prefetch(
            "feasibility_reviews",
            FeasibilityReview.objects.select_related("reviewer").order_by("-created_at", "-pk"),
        ),
    )
    attachments = list(proposal.attachments.order_by("created_at", "pk"))
    return ProposalPage(
        invitations=list(proposal.expert_invitations.all()),
        feasibility_reviews=list(proposal.feasibility_reviews.all()),
        photos=[a for a in attachments if a.kind == AttachmentKind.PHOTO],
        documents=[a for a in attachments if a.kind == AttachmentKind.DOCUMENT],
        admissibility=(
            proposal.admissibility_reviews.select_related("reviewer")
            .order_by("-created_at", "-pk")
            .first()
        ),
        merged_from=list(proposal.merged_from.only("pk", "title").order_by("pk")),
        opinions=list(
            proposal.expert_opinions.select_related("expert").order_by("created_at", "pk")
        ),
        revisions=list(
            proposal.revisions.select_related("author").defer("body", "summary").order_by("number")
        ),
        timeline=proposal_timeline(proposal),
    )


def proposal_timeline(proposal: Proposal) -> list[EvidenceEvent]:
    """Every recorded step of the proposal, oldest first, for its timeline (who and when),
    a decision with the record it follows from (``named_basis``: the ballot, …)."""
    return evidence_name_bases(
        list(
            EvidenceEvent.objects.filter(
                object_type=proposal._meta.label_lower, object_id=str(proposal.pk)
            )
            .select_related("actor")
            .order_by("seq")
        )
    )


def merge_targets(proposal: Proposal) -> list[Proposal]:
    """The proposals ``proposal`` may be merged into: the others of its community still open
    (``Stage.OPEN``), newest first, with their title."""
    return list(
        Proposal.objects.filter(community_id=proposal.community_id, stage__in=Stage.OPEN)
        .exclude(pk=proposal.pk)
        .only("pk", "title")
        .order_by("-pk")
    )


def merge_target(proposal: Proposal, pk: int) -> Proposal | None:
    """The public proposal ``pk`` of the same community as ``proposal``, if there is one: the
    lifecycle's guard then says whether it may be merged into."""
    return Proposal.objects.public().filter(community_id=proposal.community_id, pk=pk).first()


def has_cosigned(user, proposal: Proposal) -> bool:
    return user.is_authenticated and proposal.cosigns.filter(user_id=user.pk).exists()


def follows_proposal(user, proposal: Proposal) -> bool:
    """Whether the user hears when this proposal moves."""
    return user.is_authenticated and proposal.follows.filter(user_id=user.pk).exists()


def latest_revision_number(proposal: Proposal) -> int:
    """The number of the proposal's latest revision; 0 before it has one."""
    latest = proposal.revisions.order_by("-number").only("number").first()
    return latest.number if latest else 0


def proposal_revisions(proposal: Proposal) -> list[Revision]:
    """Every revision of the proposal with its text and author, oldest first."""
    return list(proposal.revisions.select_related("author").order_by("number"))


def attachment_for_serving(pk: int) -> Attachment | None:
    """The attachment ``pk`` with its proposal and community (whom it may be served to is
    ``proposals.view`` on that proposal)."""
    return (
        Attachment.objects.select_related("proposal__community__sub_district").filter(pk=pk).first()
    )
