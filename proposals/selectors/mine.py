"""What a person's own page (我的) reads of the proposals app: what they proposed, what they
co-signed, and the threads they follow because of a proposal. Each one query."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from ..models import CoSign, Follow, Proposal


def _with_stepper_facts(proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """What a stepper reads: the community and its council, and the co-sign count."""
    return proposals.select_related("community__council").annotate(
        cosign_total=Count("cosigns", distinct=True)
    )


def my_proposals(user) -> list[Proposal]:
    """Every proposal the person proposed (drafts included), the newest first."""
    return list(
        _with_stepper_facts(Proposal.objects.filter(proposer=user)).order_by("-created_at", "-pk")
    )


def my_cosigned(user) -> list[Proposal]:
    """The public proposals the person co-signed, the one that moved last first."""
    mine = CoSign.objects.filter(user=user)
    return list(
        _with_stepper_facts(
            Proposal.objects.public().filter(pk__in=mine.values("proposal_id"))
        ).order_by("-stage_changed_at", "-pk")
    )


def followed_thread_ids(user) -> QuerySet:
    """The threads of the proposals the person proposed, co-signed or follows (a
    ``followed_threads`` hook)."""
    followed = Follow.objects.filter(user=user, proposal__isnull=False).values("proposal_id")
    return (
        Proposal.objects.filter(thread__isnull=False)
        .filter(Q(proposer=user) | Q(cosigns__user=user) | Q(pk__in=followed))
        .values("thread_id")
    )
