"""Completion, final accounts and residents' evaluation (实施结果和评价).

Recording completion settles the project's reservation to the final accounts, moves it to
completed and opens the evaluation window. Residents of the community give 满意 / 基本满意 /
不满意 once each, changeable until the window closes; staff may enter paper evaluations.
Closing the window applies the verdict rule, drafts disclosure 3 and moves the project to
evaluated — through ``proposals.lifecycle``, on the window's basis.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council import clock
from council.deadlines import Deadline
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.models import Role, RoleKind, RoleStatus
from council.money import format_yuan
from council.notifications import notify_on_commit
from council.sanitiser import render_plain
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from voting.models import Reservation

from ..models import Completion, Evaluation, EvaluationWindow, Provider, Rating
from ..verdict import verdict_compute
from ._common import ACTORS, require_staff
from .publishing import result_draft

VARIANCE_LIMIT = Decimal("0.10")  # above 10% either way, the difference is explained
EVALUATION_DAYS = 14


def variance_needs_explanation(budget: Decimal, actual: Decimal) -> bool:
    """True when the actual cost differs from the budget by more than 10% (either way)."""
    if budget <= 0:
        return actual != budget
    return abs(actual - budget) > VARIANCE_LIMIT * budget


def _residents(proposal: Proposal) -> list:
    return [
        r.user
        for r in Role.objects.filter(
            community_id=proposal.community_id, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
        ).select_related("user")
    ]


def _project_url(proposal: Proposal) -> str:
    return reverse("project", args=[proposal.community.slug, proposal.pk])


@transaction.atomic
def completion_record(
    *,
    actor,
    proposal: Proposal,
    acceptance_note: str,
    actual: Decimal,
    provider: Provider,
    variance_explanation: str = "",
    evaluation_days: int = EVALUATION_DAYS,
) -> Completion:
    """Record completion and the final accounts; open the evaluation window.

    The budget is the money the approval reserved; a variance above 10% needs an
    explanation (published). Residents of the community are told the window is open.
    """
    proposal = (
        Proposal.objects.select_for_update()
        .select_related("community__sub_district")
        .get(pk=proposal.pk)
    )
    require_staff(
        actor,
        "disclosure.record_completion",
        proposal.community,
        _("Only the community's staff record completion."),
    )
    if proposal.stage != Stage.IN_PROGRESS:
        raise InvalidMove(
            _("Completion is recorded for a project in progress (this one is %(stage)s).")
            % {"stage": proposal.get_stage_display()}
        )
    if not acceptance_note.strip():
        raise InvalidMove(_("Write the acceptance note; it is published."))
    if actual < 0:
        raise InvalidMove(_("The actual cost cannot be negative."))
    if provider.district_id != proposal.community.sub_district.district_id:
        raise InvalidMove(_("Choose a provider on the district's list."))
    reservation = Reservation.objects.select_for_update().filter(proposal=proposal).first()
    budget = reservation.amount if reservation else proposal.counted_cost
    if variance_needs_explanation(budget, actual) and not variance_explanation.strip():
        raise InvalidMove(
            _("The actual cost %(actual)s differs from the budget %(budget)s by more than 10%%: "
              "explain why (published).")
            % {"actual": format_yuan(actual), "budget": format_yuan(budget)}
        )  # fmt: skip
    now = clock.now()
    completion = Completion.objects.create(
        proposal=proposal,
        acceptance_note=acceptance_note.strip(),
        acceptance_html=render_plain(acceptance_note.strip()),
        budget=budget,
        actual=actual,
        variance_explanation=variance_explanation.strip(),
        provider=provider,
        recorded_by=actor,
        recorded_at=now,
    )
    if reservation is not None:
        reservation.amount, reservation.settled = actual, True
        reservation.save(update_fields=["amount", "settled"])
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="completion.recorded",
        obj=completion,
        community=proposal.community,
        payload={"proposal": proposal.pk, "budget": str(budget), "actual": str(actual)},
    )
    proposal_move(actor=actor, proposal=proposal, move=Move.COMPLETE, basis=completion)
    window = EvaluationWindow.objects.create(
        proposal=proposal, opens_at=now, closes_at=now + dt.timedelta(days=evaluation_days)
    )
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="evaluation.window_opened",
        obj=window,
        community=proposal.community,
        payload={"closes_at": window.closes_at.isoformat()},
    )
    title = proposal.title
    notify_on_commit(
        _residents(proposal),
        lambda: _("“%(title)s” is finished: tell us how it turned out.") % {"title": title},
        _project_url(proposal),
    )
    return completion


def _lock_window(window: EvaluationWindow) -> EvaluationWindow:
    return (
        EvaluationWindow.objects.select_for_update(of=("self",))
        .select_related("proposal__community")
        .get(pk=window.pk)
    )


def _check_open(window: EvaluationWindow) -> None:
    if window.closed_at is not None or window.closes_at <= clock.now():
        raise InvalidMove(_("The evaluation window has closed."))


def _check_rating(rating: str, comment: str) -> None:
    if rating not in Rating.values:
        raise InvalidMove(_("Choose 满意, 基本满意 or 不满意."))
    if len(comment) > 1000:
        raise InvalidMove(_("A comment is at most 1,000 characters."))


@transaction.atomic
def evaluation_give(
    *, actor, window: EvaluationWindow, rating: str, comment: str = ""
) -> Evaluation:
    """A resident of the community evaluates a finished project, once; they may change it
    until the window closes."""
    window = _lock_window(window)
    community = window.proposal.community
    if actor is None or not actor.has_perm("disclosure.evaluate", community):
        raise NotAllowed(
            _("Only residents of %(community)s evaluate its projects.") % {"community": community}
        )
    _check_open(window)
    _check_rating(rating, comment)
    now = clock.now()
    existing = window.evaluations.filter(resident=actor).first()
    if existing is None:
        try:
            with transaction.atomic():
                evaluation = window.evaluations.create(
                    resident=actor, rating=rating, comment=comment.strip(), updated_at=now
                )
        except IntegrityError:
            existing = window.evaluations.get(resident=actor)
        else:
            evidence_record(
                actor=actor,
                roles=ACTORS,
                action="evaluation.given",
                obj=window,
                community=community,
            )
            return evaluation
    existing.rating, existing.comment, existing.updated_at = rating, comment.strip(), now
    existing.save(update_fields=["rating", "comment", "updated_at"])
    evidence_record(
        actor=actor, roles=ACTORS, action="evaluation.changed", obj=window, community=community
    )
    return existing


@transaction.atomic
def evaluation_enter_paper(
    *, actor, window: EvaluationWindow, rating: str, comment: str = ""
) -> Evaluation:
    """Staff enter a paper evaluation (marked as such; no account needed)."""
    window = _lock_window(window)
    community = window.proposal.community
    require_staff(
        actor,
        "disclosure.enter_paper_evaluation",
        community,
        _("Only the community's staff enter paper evaluations."),
    )
    _check_open(window)
    _check_rating(rating, comment)
    evaluation = window.evaluations.create(
        resident=None, rating=rating, comment=comment.strip(), entered_by=actor,
        updated_at=clock.now(),
    )  # fmt: skip
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="evaluation.paper_entered",
        obj=window,
        community=community,
        payload={"rating": rating},
    )
    return evaluation


def _close(window: EvaluationWindow, actor, reason: str) -> EvaluationWindow:
    counts = dict.fromkeys(Rating.values, 0)
    for rating in window.evaluations.values_list("rating", flat=True):
        counts[rating] += 1
    window.satisfied = counts["satisfied"]
    window.basic = counts["basic"]
    window.dissatisfied = counts["dissatisfied"]
    window.residents = len(_residents(window.proposal))
    window.verdict = verdict_compute(window.satisfied, window.basic, window.dissatisfied)
    window.closed_at = clock.now()
    window.closed_by = actor
    window.close_reason = reason
    window.save()
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="evaluation.window_closed",
        obj=window,
        community=window.proposal.community,
        payload={
            **counts,
            "residents": window.residents,
            "verdict": window.verdict,
            "reason": reason,
        },
    )
    proposal_move(
        actor=actor,
        proposal=window.proposal,
        move=Move.EVALUATE,
        basis=window,
    )
    result_draft(window.proposal)
    return window


WINDOWS = Deadline(
    model=EvaluationWindow,
    open=Q(closed_at__isnull=True),
    lock=_lock_window,
    close=_close,
    may_close=lambda actor, window: require_staff(
        actor,
        "disclosure.close_evaluation_early",
        window.proposal.community,
        _("Only the community's staff do this."),
    ),
    already_closed=gettext_lazy("The evaluation window has closed."),
    reason_needed=gettext_lazy("Say why the window closes early; the reason is published."),
)


def window_close(*, actor, window: EvaluationWindow, reason: str) -> EvaluationWindow:
    """Close an evaluation window early, as staff, with a reason (evidence); one past its
    time is closed at its time instead (``council.deadlines``)."""
    return WINDOWS.close_early(window, actor=actor, reason=reason)


def windows_close_due() -> int:
    """Close every evaluation window past its closing time; returns how many closed
    (scheduler)."""
    return WINDOWS.close_all_due()


def windows_remind() -> int:
    """Remind residents who have not evaluated, once, when two days are left."""
    now = clock.now()
    sent = 0
    due = EvaluationWindow.objects.filter(
        closed_at__isnull=True,
        reminded_at__isnull=True,
        closes_at__gt=now,
        closes_at__lte=now + dt.timedelta(days=2),
    ).select_related("proposal__community")
    for window in due:
        with transaction.atomic():
            if not EvaluationWindow.objects.filter(pk=window.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            given = set(window.evaluations.values_list("resident_id", flat=True))
            waiting = [u for u in _residents(window.proposal) if u.pk not in given]
            title = window.proposal.title
            notify_on_commit(
                waiting,
                lambda title=title: (
                    _("Reminder: the evaluation of “%(title)s” closes in two days.")
                    % {"title": title}
                ),
                _project_url(window.proposal),
            )
            sent += len(waiting)
    return sent
