"""Reads of the disclosure app for the public pages, the open data and the statistics. Each
returns plain data or a queryset whose query count does not grow with the number of rows.

Nothing here reads residents' private data: people appear by display name (staff who
published, council members on a roll-call ballot) or not at all (objectors, evaluators).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import (
    Count,
    DecimalField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council import clock
from council.evidence import ObjectName, object_pks, objects_named
from council.models import Checkpoint, Community, EvidenceEvent, Role, RoleKind, RoleStatus
from council.personal_data import entered_by_other, iso
from council.rules import held_roles
from council.search import SearchHits, highlighted, query_terms, snippet
from council.selectors import SWITCHER_LISTS_ALL_UP_TO, communities_by_place
from proposals.models import FeasibilityReview, Proposal, Stage
from proposals.search import KIND as PROPOSAL
from proposals.selectors import Found, proposals_found
from voting.models import (
    Ballot,
    BallotStatus,
    Eligibility,
    Reservation,
    Round,
    RoundProject,
    Vote,
)

from .models import (
    Completion,
    Disclosure,
    DisclosureStatus,
    EvaluationWindow,
    FigureKind,
    Kind,
    Objection,
    ProgressPhoto,
    ProgressUpdate,
    Provider,
    Rating,
    StatisticsCell,
    Verdict,
)
from .search import KIND as DISCLOSURE
from .search import disclosure_text

PUBLISHED = DisclosureStatus.PUBLISHED
KIND_ORDER = [Kind.DECISION, Kind.IMPLEMENTATION, Kind.RESULT]
MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")


# --- The disclosure index ---------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureFilter:
    community: str = ""
    kind: str = ""
    year: int | None = None
    project_type: str = ""


def published_disclosures(f: DisclosureFilter = DisclosureFilter()) -> QuerySet[Disclosure]:
    """Published disclosures of every community, newest first, filtered. One query for a page
    of rows (community joined), one for the paginator's count."""
    rows = Disclosure.objects.filter(status=PUBLISHED)
    if f.community:
        rows = rows.filter(community__slug=f.community)
    if f.kind:
        rows = rows.filter(kind=f.kind)
    if f.year:
        rows = rows.filter(published_at__year=f.year)
    if f.project_type:
        rows = rows.filter(proposal__project_type=f.project_type)
    return (
        rows.select_related("community")
        .only(
            "pk", "title", "kind", "version", "is_correction", "published_at",
            "community__name", "community__slug",
        )
        .order_by("-published_at", "-pk")
    )  # fmt: skip


def disclosure_years() -> list[int]:
    """The years (local time) from the first publication to the last, newest first. One
    query, answered from both ends of the index of publication order, not by reading every
    disclosure (a programme publishes every year it runs)."""
    span = Disclosure.objects.filter(status=PUBLISHED).aggregate(
        first=Min("published_at"), last=Max("published_at")
    )
    if span["first"] is None:
        return []
    return list(range(localtime(span["last"]).year, localtime(span["first"]).year - 1, -1))


def feed_items(limit: int, before: tuple[dt.datetime, int] | None = None) -> list[Disclosure]:
    """Published disclosures for the Atom feed, newest first: the latest ``limit``, or with
    ``before`` (an entry's publication time and id) the ``limit`` published just before that
    entry. One query, on the index of publication order, however deep the page."""
    published = Disclosure.objects.filter(status=PUBLISHED)
    if before is not None:
        moment, pk = before
        published = published.filter(Q(published_at__lt=moment) | Q(published_at=moment, pk__lt=pk))
    return list(published.select_related("community").order_by("-published_at", "-pk")[:limit])


def communities_few() -> list[Community] | None:
    """Every community, by place, while there are few enough to list on one page (as the
    header lists them: ``council.selectors.SWITCHER_LISTS_ALL_UP_TO``); None in a city, whose
    hundreds are found on the programme page instead. One query."""
    first = list(communities_by_place().only("name", "slug")[: SWITCHER_LISTS_ALL_UP_TO + 1])
    return None if len(first) > SWITCHER_LISTS_ALL_UP_TO else first


def communities() -> list[Community]:
    """Every community, by district, sub-district and name, with both loaded (the filters'
    selects group them: ``council.forms.community_choices``)."""
    return list(communities_by_place().only("name", "slug"))


def staff_drafts(user) -> list[Community]:
    """The communities where ``user`` is staff and disclosures wait to be published, each with
    ``drafts``, how many. Empty for anyone else."""
    ids = [r.community_id for r in held_roles(user) if r.kind == RoleKind.STAFF]
    if not ids:
        return []
    return list(
        Community.objects.filter(pk__in=ids)
        .annotate(drafts=Count("disclosures", filter=Q(disclosures__status=DisclosureStatus.DRAFT)))
        .filter(drafts__gt=0)
        .only("name", "slug")
        .order_by("name")
    )


# --- One disclosure ---------------------------------------------------------------------------


def disclosure_for_page(pk: int) -> Disclosure | None:
    """The disclosure with what its page shows about it: community, project, who published,
    the version it follows and the one that follows it."""
    return (
        Disclosure.objects.select_related(
            "community", "proposal", "published_by", "previous", "next_version"
        )
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class LogPlace:
    """Where a published disclosure's publication entry ("disclosure.published") stands in the
    evidence log: its leaf ``index`` (None while the sequencer has not placed it yet) and the
    first signed checkpoint that includes it (``checkpoint_size``, ``checkpoint_root`` in hex,
    ``checkpoint_signed_at``; None until one is signed)."""

    index: int | None
    checkpoint_size: int | None = None
    checkpoint_root: str = ""
    checkpoint_signed_at: dt.datetime | None = None

    @property
    def number(self) -> int | None:
        """The entry's number as the evidence page counts them (from 1): ``index + 1``."""
        return None if self.index is None else self.index + 1

    @property
    def in_checkpoint(self) -> bool:
        """Whether a signed checkpoint includes the entry, so that it can be checked."""
        return self.index is not None and self.checkpoint_size is not None


def disclosure_log_place(disclosure: Disclosure) -> LogPlace | None:
    """The log place of a published disclosure's publication entry, in one query whatever the
    log's size; None for a draft or a disclosure published without an entry of its own."""
    if not disclosure.is_published or disclosure.published_event_id is None:
        return None
    # The smallest checkpoint of size > leaf index (= seq - 1): the first tree holding it.
    first = Checkpoint.objects.filter(size__gte=OuterRef("seq")).order_by("size")
    row = (
        EvidenceEvent.objects.filter(pk=disclosure.published_event_id)
        .annotate(
            checkpoint_size=Subquery(first.values("size")[:1]),
            checkpoint_root=Subquery(first.values("root")[:1]),
            checkpoint_signed_at=Subquery(first.values("signed_at")[:1]),
        )
        .values_list("seq", "checkpoint_size", "checkpoint_root", "checkpoint_signed_at")
        .first()
    )
    if row is None or row[0] is None:
        return LogPlace(index=None)
    seq, size, root, signed_at = row
    return LogPlace(
        index=seq - 1,
        checkpoint_size=size,
        checkpoint_root=root or "",
        checkpoint_signed_at=signed_at,
    )


def disclosure_versions(disclosure: Disclosure, *, drafts: bool) -> list[Disclosure]:
    """Every version of this disclosure (same project, same kind), oldest first."""
    versions = Disclosure.objects.filter(proposal_id=disclosure.proposal_id, kind=disclosure.kind)
    if not drafts:
        versions = versions.filter(status=PUBLISHED)
    return list(
        versions.only(
            "pk", "version", "status", "is_correction", "note", "published_at", "proposal_id",
            "kind",
        ).order_by("version")
    )  # fmt: skip


def _decision_objections(proposal_id: int, from_version: int = 1) -> list[Objection]:
    """Objections lodged against the project's published decision, from ``from_version`` on,
    each with its answer, in the order lodged. The objector is never loaded: pages say "a
    resident"."""
    return list(
        Objection.objects.filter(
            disclosure__proposal_id=proposal_id,
            disclosure__kind=Kind.DECISION,
            disclosure__status=PUBLISHED,
            disclosure__version__gte=from_version,
        )
        .select_related("disclosure")
        .only(
            "pk", "text", "answer", "created_at", "answered_at",
            "disclosure__id", "disclosure__version",
        )
        .order_by("created_at", "pk")
    )  # fmt: skip


def objections_of(disclosure: Disclosure) -> list[Objection]:
    """Objections lodged against this version of the project's decision or a later one (those
    against earlier versions are in this version's content already)."""
    if disclosure.kind != Kind.DECISION:
        return []
    return _decision_objections(disclosure.proposal_id, disclosure.version)


def in_publicity(disclosure: Disclosure) -> bool:
    return (
        disclosure.is_published
        and disclosure.kind == Kind.DECISION
        and disclosure.publicity_ends_at is not None
        and clock.now() < disclosure.publicity_ends_at
    )


# --- A project's whole story ------------------------------------------------------------------


def project_for_page(community: Community, pk: int) -> Proposal | None:
    """A public proposal of ``community`` (None for a draft, or one of another community),
    with the cost that counts annotated as ``listed_cost``."""
    latest_cost = (
        FeasibilityReview.objects.filter(proposal=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("cost_estimate")[:1]
    )
    return (
        Proposal.objects.public()
        .filter(community=community, pk=pk)
        .annotate(listed_cost=Coalesce(Subquery(latest_cost), F("estimated_cost")))
        .defer("body", "body_html")
        .first()
    )


@dataclass
class Evaluation:
    """What the public may see of a project's evaluation window: while it is open, only how
    many have taken part; once closed, the distribution and the verdict."""

    window: EvaluationWindow
    is_open: bool
    accepting: bool
    given: int
    paper: int
    residents: int
    participation: str
    distribution: list[dict] = field(default_factory=list)


@dataclass
class Story:
    proposal: Proposal
    ballot: Ballot | None
    round_project: RoundProject | None
    decision: Disclosure | None
    objections_open: int
    reservation: Reservation | None
    updates: list[ProgressUpdate]
    completion: Completion | None
    variance: Decimal | None
    variance_percent: str | None
    evaluation: Evaluation | None
    disclosures: list[dict]
    spent: Decimal | None
    objections: list[Objection] = field(default_factory=list)


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}" if whole else "0.0"


def _evaluation(proposal: Proposal) -> Evaluation | None:
    window = EvaluationWindow.objects.filter(proposal=proposal).first()
    if window is None:
        return None
    counts = window.evaluations.aggregate(
        given=Count("pk"), paper=Count("pk", filter=Q(entered_by__isnull=False))
    )
    if window.closed_at is None:
        residents = Role.objects.filter(
            community_id=proposal.community_id, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
        ).count()
        return Evaluation(
            window=window,
            is_open=True,
            accepting=window.closes_at > clock.now(),
            given=counts["given"],
            paper=counts["paper"],
            residents=residents,
            participation=_percent(counts["given"], residents),
        )
    total = (window.satisfied or 0) + (window.basic or 0) + (window.dissatisfied or 0)
    distribution = [
        {
            "rating": value,
            "label": Rating(value).label,
            "n": getattr(window, value) or 0,
            "percent": _percent(getattr(window, value) or 0, total),
        }
        for value in Rating.values
    ]
    return Evaluation(
        window=window,
        is_open=False,
        accepting=False,
        given=total,
        paper=counts["paper"],
        residents=window.residents or 0,
        participation=_percent(total, window.residents or 0),
        distribution=distribution,
    )


def _disclosure_groups(proposal: Proposal, *, drafts: bool) -> list[dict]:
    rows = Disclosure.objects.filter(proposal=proposal)
    if not drafts:
        rows = rows.filter(status=PUBLISHED)
    rows = rows.only(
        "pk", "kind", "version", "status", "is_correction", "note", "published_at",
        "publicity_ends_at", "title", "proposal_id",
    ).order_by("kind", "version")  # fmt: skip
    by_kind: dict[str, list[Disclosure]] = {}
    for d in rows:
        by_kind.setdefault(d.kind, []).append(d)
    return [
        {"kind": kind, "label": Kind(kind).label, "versions": by_kind[kind]}
        for kind in KIND_ORDER
        if kind in by_kind
    ]


def project_story(proposal: Proposal, *, staff: bool) -> Story:
    """Everything the project page shows, in a fixed number of queries whatever the number of
    progress updates, photos, disclosures or versions."""
    ballot = (
        Ballot.objects.filter(proposal=proposal, status=BallotStatus.CLOSED)
        .order_by("-closed_at", "-pk")
        .first()
    )
    round_project = None
    if ballot is None:
        round_project = (
            RoundProject.objects.filter(proposal=proposal, round__status=BallotStatus.CLOSED)
            .select_related("round")
            .order_by("-round__closed_at")
            .first()
        )
    groups = _disclosure_groups(proposal, drafts=staff)
    decision = None
    for group in groups:
        if group["kind"] == Kind.DECISION:
            published = [d for d in group["versions"] if d.is_published]
            decision = published[-1] if published else None
    objections = []
    if decision is not None:
        objections = _decision_objections(proposal.pk)
    objections_open = sum(1 for o in objections if o.answered_at is None)
    updates = list(
        ProgressUpdate.objects.filter(proposal=proposal)
        .select_related("provider")
        .prefetch_related("photos")
        .order_by("date", "pk")
    )
    completion = Completion.objects.filter(proposal=proposal).select_related("provider").first()
    variance = variance_percent = None
    if completion is not None:
        variance = completion.actual - completion.budget
        if completion.budget:
            variance_percent = f"{variance * 100 / completion.budget:+.1f}"
    return Story(
        proposal=proposal,
        ballot=ballot,
        round_project=round_project,
        decision=decision,
        objections_open=objections_open,
        objections=objections,
        reservation=Reservation.objects.filter(proposal=proposal)
        .select_related("envelope")
        .first(),
        updates=updates,
        completion=completion,
        variance=variance,
        variance_percent=variance_percent,
        evaluation=_evaluation(proposal),
        disclosures=groups,
        spent=updates[-1].spent if updates else None,
    )


def progress_photo(pk: int) -> ProgressPhoto | None:
    return (
        ProgressPhoto.objects.select_related("update__proposal")
        .filter(pk=pk)
        .filter(update__proposal__stage__in=Stage.PUBLIC)
        .first()
    )


# --- Providers ----------------------------------------------------------------------------


def provider_projects(provider: Provider) -> list[Proposal]:
    """The projects a provider delivered or delivers (through progress updates and
    completions), newest first, each with its community and evaluation verdict."""
    delivered = Q(progress_updates__provider=provider) | Q(completion__provider=provider)
    return list(
        Proposal.objects.public()
        .filter(delivered)
        .distinct()
        .select_related("community")
        .annotate(
            verdict=F("evaluation_window__verdict"),
            window_closed=F("evaluation_window__closed_at"),
        )
        .only("pk", "title", "stage", "project_type", "community__name", "community__slug")
        .order_by("-pk")
    )  # fmt: skip


# --- Money, votes and evaluations (open data and statistics) ------------------------------


def _scoped(qs: QuerySet, community: Community | None, path: str = "community") -> QuerySet:
    return qs if community is None else qs.filter(**{path: community})


def public_proposals(community: Community | None = None) -> QuerySet[Proposal]:
    latest_cost = (
        FeasibilityReview.objects.filter(proposal=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("cost_estimate")[:1]
    )
    return (
        _scoped(Proposal.objects.public(), community)
        .select_related("community")
        .annotate(listed_cost=Coalesce(Subquery(latest_cost), F("estimated_cost")))
        .only(
            "pk", "title", "summary", "project_type", "sub_kind", "stage", "submitted_at",
            "estimated_cost", "community__name", "community__slug",
        )
        .order_by("pk")
    )  # fmt: skip


def closed_ballots(community: Community | None = None) -> QuerySet[Ballot]:
    return (
        _scoped(Ballot.objects.filter(status=BallotStatus.CLOSED), community)
        .select_related("community", "proposal")
        .only(
            "pk", "proposal__id", "proposal__title", "community__name", "community__slug",
            "opened_at", "closed_at", "close_reason", "secrecy", "threshold",
            "quorum_numerator", "quorum_denominator", "base", "yes", "no", "abstain",
            "outcome", "votes_sha256", "votes_format", "status",
        )
        .order_by("pk")
    )  # fmt: skip


def closed_rounds(community: Community | None = None) -> QuerySet[Round]:
    return (
        _scoped(Round.objects.filter(status=BallotStatus.CLOSED), community)
        .select_related("community")
        .order_by("pk")
    )


def closed_round_projects(community: Community | None = None) -> QuerySet[RoundProject]:
    """The slates of closed rounds: each project's place, cost, approvals and funding."""
    return (
        _scoped(
            RoundProject.objects.filter(round__status=BallotStatus.CLOSED),
            community,
            "round__community",
        )
        .select_related("round")
        .only("round__id", "round__valid", "proposal_id", "position", "cost", "approvals", "funded")
        .order_by("round_id", "position")
    )


def closed_roll_call_ballots() -> QuerySet[Ballot]:
    """Closed ballots whose members' votes are published (secret ballots never)."""
    return (
        Ballot.objects.filter(status=BallotStatus.CLOSED)
        .exclude(secrecy="secret")
        .only("pk", "community_id", "closed_at")
        .order_by("pk")
    )


def roll_call_lines(ballots: Iterable[Ballot]) -> tuple[list, dict]:
    """The members on these closed roll-call ballots (``closed_roll_call_ballots``) and their
    choices: the lines (member joined) and ``{(ballot_id, member_id): choice}``. Two queries."""
    ids = [b.pk for b in ballots]
    lines = list(
        Eligibility.objects.filter(ballot_id__in=ids)
        .select_related("member", "ballot")
        .only(
            "pk", "seat_category", "recused", "member__display_name", "member__closed_at",
            "ballot__id", "ballot__proposal_id", "ballot__community_id",
        )
        .order_by("ballot_id", "seat_category", "member__display_name", "pk")
    )  # fmt: skip
    choices = {
        (ballot_id, member_id): choice
        for ballot_id, member_id, choice in Vote.objects.filter(ballot_id__in=ids).values_list(
            "ballot_id", "member_id", "choice"
        )
    }
    return lines, choices


def spending(community: Community | None = None) -> QuerySet[Reservation]:
    """One row per funded project: its envelope's year, the money reserved (the budget), the
    money spent so far (last progress update), and the final accounts once completed."""
    spent = (
        ProgressUpdate.objects.filter(proposal=OuterRef("proposal_id"))
        .order_by("-date", "-pk")
        .values("spent")[:1]
    )
    return (
        _scoped(Reservation.objects.all(), community, "proposal__community")
        .select_related("envelope", "proposal__community")
        .annotate(
            spent_so_far=Subquery(spent, output_field=MONEY),
            final_budget=F("proposal__completion__budget"),
            actual=F("proposal__completion__actual"),
        )
        .only(
            "pk", "amount", "settled", "envelope__year", "proposal__id", "proposal__title",
            "proposal__project_type", "proposal__stage", "proposal__community__name",
            "proposal__community__slug",
        )
        .order_by("envelope__year", "proposal_id")
    )  # fmt: skip


def budget_of(row: Reservation) -> Decimal:
    """The budget: what the approval reserved (kept on the completion once settled)."""
    return row.final_budget if row.final_budget is not None else row.amount


def spent_of(row: Reservation) -> Decimal:
    """Money spent: the final accounts once completed, else the last progress update's."""
    if row.actual is not None:
        return row.actual
    return row.spent_so_far if row.spent_so_far is not None else ZERO


def closed_windows(community: Community | None = None) -> QuerySet[EvaluationWindow]:
    return (
        _scoped(
            EvaluationWindow.objects.filter(closed_at__isnull=False),
            community,
            "proposal__community",
        )
        .select_related("proposal__community")
        .annotate(paper=Count("evaluations", filter=Q(evaluations__entered_by__isnull=False)))
        .only(
            "pk", "opens_at", "closed_at", "satisfied", "basic", "dissatisfied", "residents",
            "verdict", "proposal__id", "proposal__title", "proposal__project_type",
            "proposal__community__name", "proposal__community__slug",
        )
        .order_by("closed_at", "pk")
    )  # fmt: skip


# --- Statistics -------------------------------------------------------------------------------


@dataclass
class Statistics:
    money: list[dict]  # {"year", "project_type", "budget", "spent", "projects"}
    stages: list[dict]  # {"stage", "n"} in the order of a project's life
    verdicts: list[dict]  # {"verdict", "n"}
    proposals: int
    funded: int
    budget: Decimal
    spent: Decimal
    evaluated: int
    evaluations: int
    residents_asked: int
    published: int


def money_sums(reservations: QuerySet[Reservation], *group_by: str) -> QuerySet:
    """``reservations`` summed by the database per ``group_by`` values: ``budget`` and
    ``spent`` (``budget_of`` and ``spent_of`` as one expression each) and ``projects``. One
    query, a row per group however many projects."""
    spent = (
        ProgressUpdate.objects.filter(proposal=OuterRef("proposal_id"))
        .order_by("-date", "-pk")
        .values("spent")[:1]
    )
    return (
        reservations.values(*group_by)
        .annotate(
            budget=Sum(Coalesce(F("proposal__completion__budget"), F("amount"))),
            spent=Sum(
                Coalesce(
                    F("proposal__completion__actual"),
                    Subquery(spent, output_field=MONEY),
                    Value(ZERO, output_field=MONEY),
                )
            ),
            projects=Count("pk"),
        )
        .order_by(*group_by)
    )


def data_version() -> tuple[int, dt.datetime | None]:
    """The last act the evidence log recorded, (id, time): every change to what the public
    figures and files show is one (``council.evidence``). One query on the log's primary key."""
    last = EvidenceEvent.objects.order_by("-pk").values_list("pk", "created_at").first()
    return last or (0, None)


def statistics_current(community: Community | None = None) -> Statistics:
    """``statistics`` as of the last act recorded: summed once after each change and kept in
    the cache (shared by the workers), not summed again for every reader. One query when
    nothing has changed since."""
    version, moment = data_version()
    stamp = moment.isoformat() if moment else ""
    key = f"statistics:{community.pk if community else 'all'}:{version}:{stamp}"
    figures = cache.get(key)
    if figures is None:
        figures = statistics(community)
        cache.set(key, figures, STATISTICS_KEPT)
    return figures


# How long figures no act has outdated stay in the cache: a day (a new act makes a new key).
STATISTICS_KEPT = 24 * 3600


def statistics(community: Community | None = None) -> Statistics:
    """The figures of the statistics pages, district-wide or for one community, summed from
    the communities' cells (``StatisticsCell``, kept by ``statistics_refresh``): one query,
    a few hundred rows for a whole city, whatever the number of projects."""
    rows = (
        _scoped(StatisticsCell.objects.all(), community)
        .values("kind", "key", "year")
        .annotate(
            n=Sum("count"),
            money_budget=Sum("budget"),
            money_spent=Sum("spent"),
            evaluations=Sum("given"),
            residents=Sum("asked"),
        )
        .order_by("kind", "year", "key")
    )
    return _statistics_of(rows)


def statistics_scan(community: Community | None = None) -> Statistics:
    """``statistics`` summed from the rows themselves (four queries, each summed by the
    database but reading every proposal, window and project): what the cells must equal."""
    return _statistics_of(statistics_cells_scan(community))


def statistics_cells_scan(community: Community | None = None) -> list[dict]:
    """The cells of ``community`` (every community's, summed, when None) read from the rows:
    {"kind", "key", "year", "n", "money_budget", "money_spent", "evaluations", "residents"}.
    Four queries."""
    blank = {"year": 0, "n": 0, "money_budget": ZERO, "money_spent": ZERO}
    blank |= {"evaluations": 0, "residents": 0}
    cells = [
        {**blank, "kind": FigureKind.STAGE, "key": stage, "n": n}
        for stage, n in _scoped(Proposal.objects.public(), community)
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    ]
    windows = (
        _scoped(
            EvaluationWindow.objects.filter(closed_at__isnull=False),
            community,
            "proposal__community",
        )
        .values_list("verdict")
        .annotate(
            n=Count("pk"),
            given=Coalesce(Sum(F("satisfied") + F("basic") + F("dissatisfied")), Value(0)),
            asked=Coalesce(Sum("residents"), Value(0)),
        )
        .order_by()
    )
    cells += [
        {**blank, "kind": FigureKind.VERDICT, "key": verdict, "n": n}
        | {"evaluations": given, "residents": asked}
        for verdict, n, given, asked in windows
    ]
    money = money_sums(
        _scoped(Reservation.objects.all(), community, "proposal__community"),
        "envelope__year",
        "proposal__project_type",
    )
    cells += [
        {**blank, "kind": FigureKind.MONEY, "key": row["proposal__project_type"]}
        | {"year": row["envelope__year"], "n": row["projects"]}
        | {"money_budget": Decimal(row["budget"]), "money_spent": Decimal(row["spent"])}
        for row in money
    ]
    published = _scoped(Disclosure.objects.filter(status=PUBLISHED), community).count()
    if published:
        cells.append({**blank, "kind": FigureKind.PUBLISHED, "key": "", "n": published})
    return cells


def _statistics_of(cells) -> Statistics:
    stage_counts, verdict_counts, money = {}, {}, []
    evaluations = asked = published = 0
    for cell in cells:
        kind, key, n = cell["kind"], cell["key"], cell["n"] or 0
        if kind == FigureKind.STAGE:
            stage_counts[key] = n
        elif kind == FigureKind.VERDICT:
            verdict_counts[key] = n
            evaluations += cell["evaluations"] or 0
            asked += cell["residents"] or 0
        elif kind == FigureKind.MONEY:
            money.append(
                {
                    "year": cell["year"],
                    "project_type": key,
                    "budget": Decimal(cell["money_budget"]),
                    "spent": Decimal(cell["money_spent"]),
                    "projects": n,
                }
            )
        elif kind == FigureKind.PUBLISHED:
            published = n
    money.sort(key=lambda c: (c["year"], c["project_type"]))
    return Statistics(
        money=money,
        stages=[{"stage": s, "n": stage_counts.get(s, 0)} for s in Stage.PUBLIC],
        verdicts=[{"verdict": v, "n": verdict_counts.get(v, 0)} for v in Verdict.values],
        proposals=sum(stage_counts.values()),
        funded=sum(c["projects"] for c in money),
        budget=sum((c["budget"] for c in money), ZERO),
        spent=sum((c["spent"] for c in money), ZERO),
        evaluated=sum(verdict_counts.values()),
        evaluations=evaluations,
        residents_asked=asked,
        published=published,
    )


# --- A person's own data (registered with ``council.personal_data``) -------------------------


def personal_data_of(user) -> dict:
    """What the disclosure app holds about ``user``: the objections they lodged (with staff's
    answers) and their evaluations of finished projects."""
    from .models import Evaluation as EvaluationRow

    objections = Objection.objects.filter(author=user).select_related("disclosure").order_by("pk")
    evaluations = (
        EvaluationRow.objects.filter(resident=user)
        .select_related("window__proposal")
        .order_by("pk")
    )
    return {
        "objections": [
            {
                "disclosure_id": o.disclosure_id,
                "disclosure": o.disclosure.title,
                "proposal_id": o.disclosure.proposal_id,
                "text": o.text,
                "created_at": iso(o.created_at),
                "answer": o.answer or None,
                "answered_at": iso(o.answered_at),
            }
            for o in objections
        ],
        "evaluations": [
            {
                "proposal_id": e.window.proposal_id,
                "proposal": e.window.proposal.title,
                "rating": e.rating,
                "comment": e.comment,
                "entered_on_your_behalf": entered_by_other(e.entered_by_id, user),
                "updated_at": iso(e.updated_at),
            }
            for e in evaluations
        ],
    }


# --- How the evidence log names the disclosure app's objects (``evidence_object_names``) -----


def _project_url(proposal: Proposal) -> str:
    return reverse("project", args=[proposal.community.slug, proposal.pk])


def _disclosure_name(disclosure: Disclosure) -> ObjectName:
    if not disclosure.is_published:
        return ObjectName(_("a disclosure not yet published"))
    words = DISCLOSURE_WORDS[disclosure.kind] % {"title": disclosure.proposal.title}
    if disclosure.version > 1:
        words = _("%(name)s, version %(version)s") % {
            "name": words,
            "version": disclosure.version,
        }
    return ObjectName(words, reverse("disclosure", args=[disclosure.pk]))


# One disclosure by its kind and its project's title: 「《更换小区路灯》决议结果公开」.
DISCLOSURE_WORDS = {
    Kind.DECISION: gettext_lazy("decision disclosure of “%(title)s”"),
    Kind.IMPLEMENTATION: gettext_lazy("implementation disclosure of “%(title)s”"),
    Kind.RESULT: gettext_lazy("result and evaluation disclosure of “%(title)s”"),
}


def evidence_names_of_disclosures(ids) -> dict[str, ObjectName]:
    rows = (
        Disclosure.objects.filter(pk__in=object_pks(ids))
        .select_related("proposal")
        .only("kind", "version", "status", "proposal__title")
    )
    return objects_named(ids, rows, _disclosure_name, _("a disclosure since deleted"))


def evidence_names_of_objections(ids) -> dict[str, ObjectName]:
    """An objection by the project it is about, never by its words nor its author."""
    rows = (
        Objection.objects.filter(pk__in=object_pks(ids))
        .select_related("disclosure__proposal")
        .only("disclosure__status", "disclosure__proposal__title")
    )

    def name(objection):
        disclosure = objection.disclosure
        if not disclosure.is_published:
            return ObjectName(_("an objection to a disclosure not yet published"))
        return ObjectName(
            _("an objection to “%(title)s”") % {"title": disclosure.proposal.title},
            reverse("disclosure", args=[disclosure.pk]) + f"#objection-{objection.pk}",
        )

    return objects_named(ids, rows, name, _("an objection since deleted"))


def _of_project(model, words, gone):
    """A namer for rows that belong to one project (``proposal``), linked to its page."""

    def evidence_names(ids) -> dict[str, ObjectName]:
        rows = (
            model.objects.filter(pk__in=object_pks(ids))
            .select_related("proposal__community")
            .only("proposal__title", "proposal__stage", "proposal__community__slug")
        )

        def name(row):
            if not row.proposal.is_public:
                return ObjectName(str(gone))
            return ObjectName(
                str(words) % {"title": row.proposal.title}, _project_url(row.proposal)
            )

        return objects_named(ids, rows, name, str(gone))

    return evidence_names


evidence_names_of_progress_updates = _of_project(
    ProgressUpdate,
    gettext_lazy("progress of “%(title)s”"),
    gettext_lazy("a progress update"),
)
evidence_names_of_completions = _of_project(
    Completion,
    gettext_lazy("completion and final accounts of “%(title)s”"),
    gettext_lazy("a completion record"),
)
evidence_names_of_evaluation_windows = _of_project(
    EvaluationWindow,
    gettext_lazy("residents' evaluation of “%(title)s”"),
    gettext_lazy("a residents' evaluation"),
)


def evidence_names_of_providers(ids) -> dict[str, ObjectName]:
    """A provider on the district's list by its name, linked to its page."""
    rows = Provider.objects.filter(pk__in=object_pks(ids)).only("name")
    return objects_named(
        ids,
        rows,
        lambda provider: ObjectName(provider.name, reverse("provider", args=[provider.pk])),
        _("a provider since removed"),
    )


# --- Search over proposals and disclosures ----------------------------------------------------


def _disclosures_found(ids, terms) -> dict:
    """The results for these published disclosures, in one query (a draft is left out,
    whatever the index says)."""
    rows = (
        Disclosure.objects.filter(pk__in=ids, status=PUBLISHED)
        .select_related("community")
        .only(
            "pk", "title", "note", "content", "kind", "version", "published_at",
            "community__slug", "community__name",
        )
    )  # fmt: skip
    return {
        d.pk: Found(
            kind=DISCLOSURE,
            url=reverse("disclosure", args=[d.pk]),
            title=highlighted(d.title, terms),
            snippet=snippet(disclosure_text(d), terms),
            community=d.community,
            label=d.get_kind_display(),
            css=f"kind-{d.kind}",
            date=d.published_at,
        )
        for d in rows
    }


def site_search(q: str, community=None):
    """Public proposals and published disclosures matching ``q`` (of ``community`` if
    given), best first, as ``proposals.selectors.Found`` results: a ``SearchHits`` to
    paginate. A page costs four queries whatever the matches: the count, the page's hits,
    its proposals and its disclosures."""
    terms = query_terms(q)

    def resolve(hits) -> list:
        proposals = [h.object_id for h in hits if h.kind == PROPOSAL]
        disclosures = [h.object_id for h in hits if h.kind == DISCLOSURE]
        found = {
            PROPOSAL: proposals_found(proposals, terms) if proposals else {},
            DISCLOSURE: _disclosures_found(disclosures, terms) if disclosures else {},
        }
        return [
            found[h.kind][h.object_id]
            for h in hits
            if h.kind in found and h.object_id in found[h.kind]
        ]

    # Every kind the index holds (proposals and disclosures): no filter on the kind, which
    # SQLite's FTS5 would otherwise have to check on every match.
    return SearchHits(
        terms,
        kinds=None,
        community_id=community.pk if community is not None else None,
        resolve=resolve,
    )


def evidence_document_seq(sha256: str) -> int | None:
    """The evidence event (``seq``) that published a disclosure whose PDF or content has this
    SHA-256, for the log's lookup hint (``evidence_documents``)."""
    return (
        Disclosure.objects.filter(Q(pdf_sha256=sha256) | Q(content_sha256=sha256))
        .filter(published_event__seq__isnull=False)
        .order_by("published_event__seq")
        .values_list("published_event__seq", flat=True)
        .first()
    )
