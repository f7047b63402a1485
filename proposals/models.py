"""Proposals (提议) and what consultation (商议) records about them.

A proposal's ``stage`` is written only by ``proposals.lifecycle.proposal_move``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from council.models import Community, ProjectType
from council.validators import validate_one_line


class Stage(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("gathering co-signs")
    UNDER_REVIEW = "under_review", _("under review")
    CONSULTATION = "consultation", _("in consultation")
    VOTING = "voting", _("in voting")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    EVALUATED = "evaluated", _("evaluated")
    INADMISSIBLE = "inadmissible", _("inadmissible")
    MERGED = "merged", _("merged")
    WITHDRAWN = "withdrawn", _("withdrawn")


# Named sets of stages, each a tuple in the order of the lifecycle, so that no code spells out
# a list of its own. Set after the class: names in an enum's body would become stages (and
# choices), attributes added afterwards do not.
# Every stage but a draft: seen by anyone, listed, counted.
Stage.PUBLIC = tuple(s for s in Stage if s != Stage.DRAFT)
# Gathering co-signs, under review or in consultation: it may be withdrawn, or merged into.
Stage.OPEN = (Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.CONSULTATION)
# Not yet put to the vote nor ended: photos and documents may still be added.
Stage.DRAFT_OR_OPEN = (Stage.DRAFT, *Stage.OPEN)
# Before consultation: the council has nothing of it yet.
Stage.BEFORE_CONSULTATION = (Stage.DRAFT, Stage.SUBMITTED, Stage.UNDER_REVIEW)
# Before the council: on a meeting's agenda, and its members may declare a recusal.
Stage.DELIBERATION = (Stage.CONSULTATION, Stage.VOTING)
# Where a decision leaves it (the council's ballot, or staff's admissibility review): the
# decision disclosure is due.
Stage.VERDICTS = (Stage.APPROVED, Stage.REJECTED, Stage.INADMISSIBLE)
# Decided, and implemented if approved: its disclosures belong on its page.
Stage.DECIDED = (
    Stage.APPROVED, Stage.REJECTED, Stage.IN_PROGRESS, Stage.COMPLETED, Stage.EVALUATED,
    Stage.INADMISSIBLE,
)  # fmt: skip


class SubKind(models.TextChoices):
    CONVENIENCE = "convenience", _("convenience for residents (便民利民)")
    ACTIVITIES = "activities", _("community activities (群众活动)")
    PUBLIC_SPIRIT = "public_spirit", _("public spirit (公益风尚)")
    FACILITIES = "facilities", _("public facilities (公共设施)")
    OTHER = "other", _("other services (其他服务)")


TITLE_MAX, SUMMARY_MAX, BODY_MAX, TEXT_MAX = 80, 300, 10_000, 200


class ProposalQuerySet(models.QuerySet):
    def public(self) -> ProposalQuerySet:
        """The proposals anyone may see: those in a stage of ``Stage.PUBLIC``."""
        return self.filter(stage__in=Stage.PUBLIC)


def _choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of ``value`` among ``choices`` (one translation lookup); the value itself
    if it is none of them."""
    try:
        return choices(value).label
    except ValueError:
        return value


class Proposal(models.Model):
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="proposals", verbose_name=_("community")
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="proposals",
        verbose_name=_("proposer"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered on the proposer's behalf by"),
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX, validators=[validate_one_line])
    summary = models.CharField(_("summary"), max_length=SUMMARY_MAX)
    body = models.TextField(_("description"), validators=[MaxLengthValidator(BODY_MAX)])
    body_html = models.TextField(editable=False)
    project_type = models.CharField(_("project type"), max_length=20, choices=ProjectType.choices)
    sub_kind = models.CharField(_("sub-kind"), max_length=20, choices=SubKind.choices)
    location = models.CharField(
        _("location in the community"), max_length=TEXT_MAX, validators=[validate_one_line]
    )
    beneficiaries = models.CharField(
        _("who benefits"), max_length=TEXT_MAX, validators=[validate_one_line]
    )
    estimated_cost = models.DecimalField(
        _("estimated cost (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    thread = models.OneToOneField(
        "council.Thread",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="proposal",
        verbose_name=_("consultation thread"),
    )
    inadmissible_reason = models.TextField(_("reason it is inadmissible"), blank=True)
    inadmissible_reason_html = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    stage_changed_at = models.DateTimeField(_("stage changed"), null=True, blank=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [
            models.Index(fields=["community", "stage", "-created_at"]),
            models.Index(fields=["community", "-created_at"]),
            models.Index(fields=["community", "-submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_cost__gt=0), name="proposal_cost_positive"
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.MERGED) | Q(merged_into__isnull=False),
                name="proposal_merged_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(stage=Stage.INADMISSIBLE) | ~Q(inadmissible_reason=""),
                name="proposal_inadmissible_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        """Whether anyone may see it (``council.rules`` reads this): every stage but a draft."""
        return self.stage in Stage.PUBLIC

    # Its codes' names for pages. Django's get_FOO_display() makes every choice's lazy label
    # hashable to find one: a translation lookup per choice, hundreds on a list of twenty.
    @property
    def stage_label(self) -> str:
        return _choice_label(Stage, self.stage)

    @property
    def project_type_label(self) -> str:
        return _choice_label(ProjectType, self.project_type)

    @property
    def sub_kind_label(self) -> str:
        return _choice_label(SubKind, self.sub_kind)

    # These two read the related rows through ``.all()``: from a prefetch when a selector made
    # one (``selectors.proposal_page``), else in one query.
    @cached_property
    def invited_expert_ids(self) -> frozenset[int]:
        """The experts invited to its consultation (``council.rules`` reads this)."""
        return frozenset(i.expert_id for i in self.expert_invitations.all())

    @cached_property
    def latest_feasibility(self) -> FeasibilityReview | None:
        """The newest feasibility review, or None."""
        return max(self.feasibility_reviews.all(), key=lambda r: (r.created_at, r.pk), default=None)

    @property
    def counted_cost(self) -> Decimal:
        """The proposer's estimate until consultation; staff's feasibility estimate after."""
        review = self.latest_feasibility
        return review.cost_estimate if review is not None else self.estimated_cost


class CoSign(models.Model):
    """附议: one resident's support for a proposal gathering co-signs."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="cosigns")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="cosigns")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("co-sign")
        verbose_name_plural = _("co-signs")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "user"], name="cosign_once_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.proposal}"


class Revision(models.Model):
    """Every version of a proposal's text, kept so any two can be compared."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=TITLE_MAX)
    summary = models.CharField(max_length=SUMMARY_MAX)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    note = models.CharField(
        _("what changed"), max_length=TEXT_MAX, blank=True, validators=[validate_one_line]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["proposal", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="revision_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} r{self.number}"


class AdmissibilityReview(models.Model):
    """Staff's admissibility checklist (可行性初审): every box must hold to admit."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="admissibility_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    in_scope = models.BooleanField(_("within the programme's scope"))
    within_cap = models.BooleanField(_("within the project type's cost cap"))
    not_property_duty = models.BooleanField(_("not the property manager's duty"))
    not_government_duplicate = models.BooleanField(_("not a duplicate of a government project"))
    in_community = models.BooleanField(_("in this community"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    CHECKS = (
        "in_scope",
        "within_cap",
        "not_property_duty",
        "not_government_duplicate",
        "in_community",
    )

    class Meta:
        verbose_name = _("admissibility review")
        verbose_name_plural = _("admissibility reviews")

    def __str__(self) -> str:
        return f"{self.proposal_id} admissibility"

    @property
    def passed(self) -> bool:
        return all(getattr(self, check) for check in self.CHECKS)

    @property
    def checklist(self) -> list[tuple[str, bool]]:
        """Each item of the checklist (its label) with whether it holds, in order."""
        return [
            (self._meta.get_field(check).verbose_name, getattr(self, check))
            for check in self.CHECKS
        ]


class FeasibilityReview(models.Model):
    """Staff's feasibility review with the cost estimate that counts from consultation on."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="feasibility_reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    feasible = models.BooleanField(_("feasible"))
    cost_estimate = models.DecimalField(
        _("cost estimate (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    plan = models.TextField(_("implementation plan"), validators=[MaxLengthValidator(BODY_MAX)])
    plan_html = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("feasibility review")
        verbose_name_plural = _("feasibility reviews")
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_estimate__gt=0), name="feasibility_cost_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} feasibility"


class ExpertInvitation(models.Model):
    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="expert_invitations")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("expert invitation")
        verbose_name_plural = _("expert invitations")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "expert"], name="invitation_once")
        ]

    def __str__(self) -> str:
        return f"{self.expert} @ {self.proposal_id}"


class Recommendation(models.TextChoices):
    SUPPORT = "support", _("support")
    SUPPORT_WITH_CHANGES = "support_with_changes", _("support with changes")
    OPPOSE = "oppose", _("oppose")


class ExpertOpinion(models.Model):
    """A formal expert opinion (专家意见), counted in the decision disclosure."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="expert_opinions")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recommendation = models.CharField(
        _("recommendation"), max_length=30, choices=Recommendation.choices
    )
    remarks = models.TextField(_("remarks"), validators=[MaxLengthValidator(BODY_MAX)])
    remarks_html = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("expert opinion")
        verbose_name_plural = _("expert opinions")

    def __str__(self) -> str:
        return f"{self.expert} on {self.proposal_id}"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("photo")
    DOCUMENT = "document", _("document")


class Attachment(models.Model):
    """A photo (re-encoded, EXIF stripped, with a thumbnail) or a PDF document."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="proposals/%Y/%m/")
    thumbnail = models.ImageField(upload_to="proposals/thumbs/%Y/%m/", blank=True)
    name = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class Follow(models.Model):
    """A resident follows a proposal (or, with no proposal, a whole community)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="follows")
    community = models.ForeignKey(Community, models.CASCADE, related_name="+")
    proposal = models.ForeignKey(
        Proposal, models.CASCADE, null=True, blank=True, related_name="follows"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "proposal"],
                condition=Q(proposal__isnull=False),
                name="follow_proposal_once",
            ),
            models.UniqueConstraint(
                fields=["user", "community"],
                condition=Q(proposal__isnull=True),
                name="follow_community_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.proposal or self.community}"
