"""The three disclosures (三公开) and what they are drafted from: objections in the publicity
period, progress updates, completion with final accounts, residents' evaluations, providers.

A published disclosure never changes: every write goes through ``disclosure.services``, which
has no path that edits a published row; a correction is a new version pointing to the one it
corrects, and both stay public.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Community, District, EvidenceEvent
from council.validators import validate_one_line
from proposals.models import Proposal
from voting.models import Ballot


class ProviderKind(models.TextChoices):
    SOCIAL_ORGANISATION = "social_organisation", _("social organisation")
    CONTRACTOR = "contractor", _("contractor")


class Provider(models.Model):
    """A provider on the district's list (服务供应商名录), kept by the district admin."""

    district = models.ForeignKey(
        District, models.CASCADE, related_name="providers", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=120, validators=[validate_one_line])
    kind = models.CharField(_("kind"), max_length=24, choices=ProviderKind.choices)
    registered_on = models.DateField(_("registered on"))
    rating = models.CharField(
        _("rating"), max_length=20, blank=True, validators=[validate_one_line]
    )
    active = models.BooleanField(_("on the list"), default=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="provider_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Kind(models.TextChoices):
    DECISION = "decision", _("decision (决议结果公开)")
    IMPLEMENTATION = "implementation", _("implementation (实施过程公开)")
    RESULT = "result", _("result and evaluation (实施结果和评价公开)")


class DisclosureStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("disclosure", "draft")
    PUBLISHED = "published", pgettext_lazy("disclosure", "published")


class Disclosure(models.Model):
    """One version of one of a project's three disclosures.

    ``content`` is the canonical record (Chinese, the official language), drafted by the
    services from the ballot, the progress updates or the evaluation window; its SHA-256 and
    the evidence log's head hash at publication are printed on the PDF.
    """

    community = models.ForeignKey(Community, models.CASCADE, related_name="disclosures")
    proposal = models.ForeignKey(Proposal, models.PROTECT, related_name="disclosures")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    previous = models.OneToOneField(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
        verbose_name=_("version it follows"),
    )
    is_correction = models.BooleanField(_("corrects the previous version"), default=False)
    note = models.CharField(
        _("what this version changes"), max_length=300, blank=True, validators=[validate_one_line]
    )
    ballot = models.ForeignKey(
        Ballot, models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    status = models.CharField(
        max_length=10, choices=DisclosureStatus.choices, default=DisclosureStatus.DRAFT
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.JSONField(default=dict)
    content_sha256 = models.CharField(max_length=64, blank=True)
    evidence_head = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to="disclosures/%Y/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    # The evidence event of its publication: its place in the log (leaf index) and the
    # checkpoints that include it, shown with the page's 「验证」.
    published_event = models.OneToOneField(
        EvidenceEvent, models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    drafted_at = models.DateTimeField(_("drafted"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    publicity_ends_at = models.DateTimeField(_("publicity period ends"), null=True, blank=True)

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        ordering = ["-published_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-published_at"]),
            models.Index(fields=["proposal", "kind", "version"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "kind", "version"], name="disclosure_version_once"
            ),
            models.UniqueConstraint(
                fields=["proposal", "kind"],
                condition=Q(status="draft"),
                name="disclosure_one_draft",
            ),
            models.CheckConstraint(
                name="disclosure_published_is_sealed",
                condition=Q(status="draft")
                | Q(
                    published_at__isnull=False,
                    content_sha256__regex=r"^[0-9a-f]{64}$",
                    evidence_head__regex=r"^[0-9a-f]{64}$",
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status == DisclosureStatus.PUBLISHED


class Objection(models.Model):
    """An objection (异议) lodged by a resident during a decision's publicity period, and
    staff's public answer."""

    disclosure = models.ForeignKey(Disclosure, models.PROTECT, related_name="objections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    text = models.TextField(_("objection"), max_length=2000)
    text_html = models.TextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True, max_length=4000)
    answer_html = models.TextField(editable=False, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.disclosure_id}: {self.text[:30]}"


class ProgressUpdate(models.Model):
    """An implementation progress update: published on entry, never edited."""

    proposal = models.ForeignKey(Proposal, models.PROTECT, related_name="progress_updates")
    date = models.DateField(_("date"))
    text = models.TextField(_("what was done"), max_length=4000)
    text_html = models.TextField(editable=False)
    percent = models.PositiveSmallIntegerField(
        _("percent done"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    spent = models.DecimalField(
        _("spent so far (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    provider = models.ForeignKey(
        Provider, models.PROTECT, related_name="updates", verbose_name=_("provider")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    imported = models.BooleanField(_("imported from a CSV file"), default=False)

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=0, percent__lte=100), name="progress_percent_range"
            ),
            models.CheckConstraint(condition=Q(spent__gte=0), name="progress_spent_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.date} {self.percent}%"


class ProgressPhoto(models.Model):
    update = models.ForeignKey(ProgressUpdate, models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="progress/%Y/%m/")
    thumbnail = models.ImageField(upload_to="progress/thumbs/%Y/%m/")
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class Completion(models.Model):
    """Completion and final accounts (竣工验收与决算)."""

    proposal = models.OneToOneField(Proposal, models.PROTECT, related_name="completion")
    acceptance_note = models.TextField(_("acceptance note"), max_length=4000)
    acceptance_html = models.TextField(editable=False)
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2)
    actual = models.DecimalField(_("actual cost (yuan)"), max_digits=12, decimal_places=2)
    variance_explanation = models.TextField(_("why the cost differs"), blank=True, max_length=2000)
    provider = models.ForeignKey(Provider, models.PROTECT, related_name="completions")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("completion")
        verbose_name_plural = _("completions")
        constraints = [
            models.CheckConstraint(condition=Q(actual__gte=0), name="completion_actual_positive")
        ]

    def __str__(self) -> str:
        return str(self.proposal_id)


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied (满意)")
    BASIC = "basic", _("basically satisfied (基本满意)")
    DISSATISFIED = "dissatisfied", _("dissatisfied (不满意)")


class Verdict(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied (满意)")
    BASIC = "basic", _("basically satisfied (基本满意)")
    DISSATISFIED = "dissatisfied", _("dissatisfied (不满意)")
    NONE = "none", _("no verdict (未形成评价)")


class EvaluationWindow(models.Model):
    """The period in which residents evaluate a completed project (评价期)."""

    proposal = models.OneToOneField(Proposal, models.PROTECT, related_name="evaluation_window")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(_("closes"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=300, blank=True, validators=[validate_one_line])
    satisfied = models.PositiveIntegerField(null=True, blank=True)
    basic = models.PositiveIntegerField(null=True, blank=True)
    dissatisfied = models.PositiveIntegerField(null=True, blank=True)
    residents = models.PositiveIntegerField(null=True, blank=True)
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True)

    class Meta:
        verbose_name = _("evaluation window")
        verbose_name_plural = _("evaluation windows")

    def __str__(self) -> str:
        return str(self.proposal_id)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class Evaluation(models.Model):
    """A resident's evaluation, once each (changeable while the window is open), or a paper
    evaluation entered by staff (marked; no account needed)."""

    window = models.ForeignKey(EvaluationWindow, models.CASCADE, related_name="evaluations")
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    rating = models.CharField(_("your evaluation"), max_length=16, choices=Rating.choices)
    comment = models.TextField(_("comment (optional)"), blank=True, max_length=1000)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(
                fields=["window", "resident"],
                condition=Q(resident__isnull=False),
                name="evaluation_once_a_resident",
            ),
            models.CheckConstraint(
                condition=Q(resident__isnull=False) | Q(entered_by__isnull=False),
                name="evaluation_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window_id}: {self.rating}"


class FigureKind(models.TextChoices):
    STAGE = "stage", _("proposals in a stage")
    VERDICT = "verdict", _("evaluations with a verdict")
    MONEY = "money", _("money of a year and project type")
    PUBLISHED = "published", _("published disclosures")


class StatisticsCell(models.Model):
    """One community's figure for the statistics pages (统计): proposals per stage, closed
    evaluation windows per verdict, money per envelope year and project type, published
    disclosures. Written only by ``disclosure.services.statistics_refresh`` once an act that
    changes a figure commits; a district's statistics sum these cells instead of every row."""

    community = models.ForeignKey(Community, models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=FigureKind.choices)
    # The stage, the verdict or the project type; "" for published disclosures.
    key = models.CharField(max_length=40, blank=True)
    year = models.PositiveSmallIntegerField(default=0)  # money: the envelope's year; else 0
    count = models.PositiveIntegerField(default=0)
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    spent = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    given = models.PositiveIntegerField(default=0)  # verdict: evaluations given
    asked = models.PositiveIntegerField(default=0)  # verdict: residents asked

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind", "key", "year"], name="statistics_cell_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.kind} {self.key} {self.year}"
