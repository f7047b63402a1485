"""Reads for the people who act: the staff work queue (one page of what waits for them) and
residents' "awaiting my evaluation". Each a constant number of queries."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from council import clock
from council.models import Community, Role, RoleKind, RoleStatus
from council.selectors import open_reports
from proposals.models import Proposal, Stage
from voting.models import Ballot, BallotStatus, Outcome

from .models import Disclosure, DisclosureStatus, Evaluation, EvaluationWindow, Objection


def staff_queue(community: Community, user) -> dict:
    """Sign-ups to confirm (by ``user``: never their own), proposals to review, reported
    messages, objections to answer, drafts to publish, invalid ballots to repeat and evaluation
    windows running."""
    open_ballot = Ballot.objects.filter(proposal=OuterRef("pk"), status=BallotStatus.OPEN)
    return {
        "signups": [
            residency
            for residency in Role.objects.filter(
                community=community, kind=RoleKind.RESIDENT, status=RoleStatus.PENDING
            )
            .select_related("user", "grid", "community")
            .order_by("created_at")
            if user.has_perm("council.confirm_resident", residency)
        ],
        "to_review": list(
            Proposal.objects.filter(community=community, stage=Stage.UNDER_REVIEW).order_by(
                "stage_changed_at", "pk"
            )
        ),
        "reports": list(open_reports(community)[:50]),
        "objections": list(
            Objection.objects.filter(
                disclosure__community=community, answered_at__isnull=True
            ).select_related("disclosure__proposal")
        ),
        "drafts": list(
            Disclosure.objects.filter(community=community, status=DisclosureStatus.DRAFT)
            .select_related("proposal")
            .order_by("drafted_at")
        ),
        "to_vote": list(
            Proposal.objects.filter(community=community, stage=Stage.VOTING)
            .exclude(Exists(open_ballot))
            .order_by("pk")
        ),
        "invalid_ballots": list(
            Ballot.objects.filter(
                community=community, outcome=Outcome.INVALID, proposal__stage=Stage.VOTING
            ).select_related("proposal")
        ),
        "windows": list(
            EvaluationWindow.objects.filter(
                proposal__community=community, closed_at__isnull=True
            ).select_related("proposal")
        ),
    }


def my_evaluation(window: EvaluationWindow, user) -> Evaluation | None:
    if not user.is_authenticated:
        return None
    return window.evaluations.filter(resident=user).first()


def evaluations_awaiting(user) -> list[EvaluationWindow]:
    """Open evaluation windows of the communities where ``user`` is a resident, not yet
    evaluated by them."""
    communities = Role.objects.filter(
        user=user, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
    ).values("community_id")
    given = Evaluation.objects.filter(window=OuterRef("pk"), resident=user)
    return list(
        EvaluationWindow.objects.filter(
            proposal__community_id__in=communities,
            closed_at__isnull=True,
            closes_at__gt=clock.now(),
        )
        .exclude(Exists(given))
        .select_related("proposal__community")
        .order_by("closes_at")
    )
