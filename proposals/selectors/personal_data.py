"""A person's own data in the proposals app (registered with ``council.personal_data``)."""

from __future__ import annotations

from django.urls import reverse

from council.personal_data import iso

from ..models import Attachment, CoSign, ExpertOpinion, Follow, Proposal, Revision


def personal_data_of(user) -> dict:
    """What the proposals app holds about ``user``: their proposals (drafts included) with
    the revisions they wrote, their co-signs, expert opinions, uploaded files and follows."""

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
