"""Reads for the people who act: the staff work queue (one page of what waits for them) and
residents' "awaiting my evaluation". Each a constant number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef
from django.urls import reverse
from django.utils import timezone

from council import clock
from council.models import Community, Role, RoleKind, RoleStatus
from council.selectors import open_reports
from proposals.models import Proposal, Stage
from voting.models import Ballot, BallotStatus, Outcome

from .models import (
    Disclosure,
    DisclosureStatus,
    Evaluation,
    EvaluationWindow,
    Objection,
    ProgressUpdate,
)

PROGRESS_DUE_DAYS = 14
"""A project in progress owes its residents a progress update when none has been posted for
this many days (counted from its newest update, or from when the work started). Neither the
council's rules of procedure nor the settings say how often staff report progress; a fortnight
is short enough that residents see work move (disclosure 2) and long enough for a small works
contract to reach its next step."""


@dataclass
class QueueItem:
    """One thing waiting for staff: what it is (``obj``), where to act on it, since when it
    waits and by when it must be done (``deadline``, None where no rule sets one)."""

    obj: object
    title: str
    url: str
    since: dt.datetime | None
    deadline: dt.datetime | None = None
    overdue: bool = False
    section: str = ""

    @property
    def pk(self):
        return self.obj.pk


def _items(section: str, rows, now, *, title, url, since, deadline=lambda row: None) -> list:
    """Rows as ``QueueItem``s, overdue first (by deadline), then the longest waiting."""
    items = []
    for row in rows:
        due = deadline(row)
        items.append(
            QueueItem(
                obj=row,
                title=title(row),
                url=url(row),
                since=since(row),
                deadline=due,
                overdue=due is not None and due <= now,
                section=section,
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    items.sort(key=lambda i: (not i.overdue, i.deadline or far, i.since or far))
    return items


def progress_owed(community: Community, now=None) -> list[Proposal]:
    """Projects of ``community`` in progress with no progress update for ``PROGRESS_DUE_DAYS``
    days, longest first, each with ``last_progress``: when the count starts, the later of the
    start of the work and the day of its newest update (the date the update reports, read
    through ``council.clock`` like every deadline). One query."""
    return progress_owed_among(Proposal.objects.filter(community=community), now)


def progress_owed_among(proposals, now=None) -> list[Proposal]:
    """``progress_owed`` of any set of proposals. One query."""
    now = now or clock.now()
    due_before = now - dt.timedelta(days=PROGRESS_DUE_DAYS)
    owed = []
    for proposal in proposals.filter(stage=Stage.IN_PROGRESS).annotate(
        newest=Max("progress_updates__date")
    ):
        starts = [proposal.stage_changed_at or now]
        if proposal.newest is not None:
            starts.append(timezone.make_aware(dt.datetime.combine(proposal.newest, dt.time.min)))
        proposal.last_progress = max(starts)
        if proposal.last_progress <= due_before:
            owed.append(proposal)
    owed.sort(key=lambda p: (p.last_progress, p.pk))
    return owed


def progress_owed_counts(proposals, now=None) -> dict[int, int]:
    """How many of ``proposals`` owe a progress update (``progress_owed``'s rule), per
    community id: counted by the database, one query, a row per community (the district
    dashboard's, which needs the numbers only)."""
    now = now or clock.now()
    due_before = now - dt.timedelta(days=PROGRESS_DUE_DAYS)
    # An update dated D starts the count at midnight of D (local time): it is recent enough
    # when D is after the local date of ``due_before``.
    recent = ProgressUpdate.objects.filter(
        proposal=OuterRef("pk"), date__gt=timezone.localdate(due_before)
    )
    return dict(
        proposals.filter(stage=Stage.IN_PROGRESS, stage_changed_at__lte=due_before)
        .filter(~Exists(recent))
        .values_list("community_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def staff_queue(community: Community, user) -> dict:
    """Sign-ups to confirm (by ``user``: never their own), proposals to review, reported
    messages, objections to answer, drafts to publish, proposals to put to a ballot (and
    invalid ballots to repeat), projects owing a progress update and evaluation windows
    running: each a list of ``QueueItem`` with its age and deadline, overdue first; and
    ``overdue``, every overdue item of every list, the most overdue first. A constant number
    of queries."""
    now = clock.now()
    slug = community.slug
    # The district admin reads the queue but does not act on it: links lead to what they may
    # read (the project's public page), never to a staff form or residents' private data.
    staff = user.has_perm("disclosure.view_staff_queue", community)
    open_ballot = Ballot.objects.filter(proposal=OuterRef("pk"), status=BallotStatus.OPEN)

    def proposal_url(p):
        return reverse("proposal", args=[slug, p.pk])

    def title(p):
        return p.title

    def stage_since(p):
        return p.stage_changed_at

    sections = {
        "drafts": _items(
            "drafts",
            Disclosure.objects.filter(community=community, status=DisclosureStatus.DRAFT)
            .select_related("proposal")
            .order_by("drafted_at"),
            now,
            title=lambda d: d.title,
            # A draft is the staff's until published (the district admin reads it then).
            url=lambda d: reverse("disclosure", args=[d.pk]) if staff else "",
            since=lambda d: d.drafted_at,
        ),
        "objections": _items(
            "objections",
            Objection.objects.filter(
                disclosure__community=community, answered_at__isnull=True
            ).select_related("disclosure__proposal"),
            now,
            title=lambda o: o.disclosure.proposal.title,
            url=lambda o: reverse("disclosure", args=[o.disclosure_id]) + f"#objection-{o.pk}",
            since=lambda o: o.created_at,
            # Answered before the publicity period ends, else the project cannot start.
            deadline=lambda o: o.disclosure.publicity_ends_at,
        ),
        "signups": _items(
            "signups",
            [
                residency
                for residency in Role.objects.filter(
                    community=community, kind=RoleKind.RESIDENT, status=RoleStatus.PENDING
                )
                .select_related("user", "grid", "community")
                .order_by("created_at")
                if user.has_perm("council.confirm_resident", residency)
            ],
            now,
            title=lambda r: r.user.public_name,
            url=lambda r: reverse("resident", args=[slug, r.pk]) if staff else "",
            since=lambda r: r.created_at,
        ),
        "to_review": _items(
            "to_review",
            Proposal.objects.filter(community=community, stage=Stage.UNDER_REVIEW).order_by(
                "stage_changed_at", "pk"
            ),
            now,
            title=title,
            url=proposal_url,
            since=stage_since,
        ),
        "reports": _items(
            "reports",
            open_reports(community)[:50],
            now,
            title=lambda r: r.message.thread.title,
            url=lambda r: (
                reverse("message_reports", args=[slug]) + f"#report-{r.pk}" if staff else ""
            ),
            since=lambda r: r.created_at,
        ),
        "to_vote": _items(
            "to_vote",
            Proposal.objects.filter(community=community, stage=Stage.VOTING)
            .exclude(Exists(open_ballot))
            .order_by("pk"),
            now,
            title=title,
            url=proposal_url,
            since=stage_since,
        ),
        "progress_owed": _items(
            "progress_owed",
            progress_owed(community, now),
            now,
            title=title,
            url=lambda p: reverse("progress_new" if staff else "project", args=[slug, p.pk]),
            since=lambda p: p.last_progress,
            deadline=lambda p: p.last_progress + dt.timedelta(days=PROGRESS_DUE_DAYS),
        ),
        "windows": _items(
            "windows",
            EvaluationWindow.objects.filter(
                proposal__community=community, closed_at__isnull=True
            ).select_related("proposal"),
            now,
            title=lambda w: w.proposal.title,
            url=lambda w: reverse("evaluate", args=[slug, w.proposal_id]),
            since=lambda w: w.opens_at,
            deadline=lambda w: w.closes_at,
        ),
    }
    overdue = sorted(
        (item for items in sections.values() for item in items if item.overdue),
        key=lambda i: i.deadline,
    )
    return {
        **sections,
        "overdue": overdue,
        "now": now,
        "progress_due_days": PROGRESS_DUE_DAYS,
        "invalid_ballots": list(
            Ballot.objects.filter(
                community=community, outcome=Outcome.INVALID, proposal__stage=Stage.VOTING
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
