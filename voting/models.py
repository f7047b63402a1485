"""The council's resolutions (决议): yearly envelopes, meetings, ballots, votes and rounds.

A ballot copies the council's rules of procedure and the list of eligible members when it
opens and is judged by that copy (DESIGN.md, "Rules of procedure"). Every write goes through
``voting.services``; the constraints below hold even if a writer forgets.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from council.models import Community, SeatCategory, Secrecy, ThresholdRule
from council.validators import validate_one_line
from proposals.models import Proposal

from .receipts import receipt_new


class Envelope(models.Model):
    """A community's money for a year (年度资金), set by the district admin."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="envelopes", verbose_name=_("community")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(
        _("amount (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("yearly envelope")
        verbose_name_plural = _("yearly envelopes")
        ordering = ["-year"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="envelope_once_a_year"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="envelope_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.year}"


class Reservation(models.Model):
    """Money of an envelope held for an approved project: its counted cost on approval,
    settled to the final accounts at completion."""

    envelope = models.ForeignKey(Envelope, models.PROTECT, related_name="reservations")
    proposal = models.OneToOneField(Proposal, models.PROTECT, related_name="reservation")
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2)
    settled = models.BooleanField(_("settled to the final accounts"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="reservation_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.amount}"


class Recusal(models.Model):
    """A member's declared conflict of interest on a proposal (回避). A proposer is recused
    without declaring; this row is for everyone else."""

    proposal = models.ForeignKey(Proposal, models.CASCADE, related_name="recusals")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_one_line])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("recusal")
        verbose_name_plural = _("recusals")
        constraints = [models.UniqueConstraint(fields=["proposal", "member"], name="recusal_once")]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.proposal_id}"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    IN_SESSION = "in_session", _("in session")
    ENDED = "ended", _("ended")


# A member may sign in from an hour before the meeting starts.
SIGN_IN_EARLY = dt.timedelta(hours=1)


class Meeting(models.Model):
    """A council meeting (议事会会议): agenda, attendance, minutes and a live board."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="meetings", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=120, validators=[validate_one_line])
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=120, validators=[validate_one_line])
    status = models.CharField(
        _("status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    current_item = models.ForeignKey(
        "AgendaItem",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("item under discussion"),
    )
    minutes = models.TextField(_("minutes"), blank=True, max_length=20_000)
    minutes_html = models.TextField(editable=False, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="items")
    proposal = models.ForeignKey(Proposal, models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "proposal"], name="agenda_item_once"),
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_position_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.proposal_id}"


class Attendance(models.Model):
    """A member present at a meeting — signed in on their phone, or marked by the clerk — or,
    with ``excused``, a member the clerk marked excused (请假): not present, absent with leave.
    No row: absent."""

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="attendance")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    excused = models.BooleanField(_("excused"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} at {self.meeting_id}"


class BallotStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("ballot", "open")
    CLOSED = "closed", pgettext_lazy("ballot", "closed")


class Outcome(models.TextChoices):
    APPROVED = "approved", pgettext_lazy("ballot outcome", "approved")
    REJECTED = "rejected", pgettext_lazy("ballot outcome", "rejected")
    INVALID = "invalid", pgettext_lazy("ballot outcome", "not valid (no quorum)")


class VotesFormat(models.TextChoices):
    """What ``votes_sha256`` is the SHA-256 of (``voting.receipts``)."""

    RECEIPTS = "receipts", _("the published list of receipts' commitments")
    # Ballots and rounds closed before receipts: sorted member ids with their choices. Their
    # digest is sealed in the evidence log and the published disclosures, so it stays.
    MEMBERS = "members", _("member ids and choices (before receipts)")


class RulesCopy(models.Model):
    """The rules of procedure as they stood when a ballot or round opened."""

    quorum_numerator = models.PositiveSmallIntegerField(_("quorum numerator"))
    quorum_denominator = models.PositiveSmallIntegerField(_("quorum denominator"))
    threshold = models.CharField(_("threshold"), max_length=30, choices=ThresholdRule.choices)
    secrecy = models.CharField(_("secrecy"), max_length=10, choices=Secrecy.choices)
    board_shows_running_count = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def quorum(self) -> Fraction:
        return Fraction(self.quorum_numerator, self.quorum_denominator)

    @property
    def is_secret(self) -> bool:
        return self.secrecy == Secrecy.SECRET


class Ballot(RulesCopy):
    """A council ballot on one proposal (表决). Open until ``closes_at`` or closed early by the
    clerk; closing freezes the counts and the SHA-256 of the votes."""

    community = models.ForeignKey(Community, models.CASCADE, related_name="ballots")
    proposal = models.ForeignKey(Proposal, models.PROTECT, related_name="ballots")
    envelope = models.ForeignKey(Envelope, models.PROTECT, related_name="ballots")
    meeting = models.ForeignKey(
        Meeting, models.SET_NULL, null=True, blank=True, related_name="ballots"
    )
    status = models.CharField(max_length=10, choices=BallotStatus.choices, default="open")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened"))
    closes_at = models.DateTimeField(_("closes"))
    base = models.PositiveSmallIntegerField(_("eligible members"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(
        _("reason for closing early"), max_length=300, blank=True, validators=[validate_one_line]
    )
    yes = models.PositiveSmallIntegerField(null=True, blank=True)
    no = models.PositiveSmallIntegerField(null=True, blank=True)
    abstain = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    votes_sha256 = models.CharField(max_length=64, blank=True)
    votes_format = models.CharField(
        max_length=10, choices=VotesFormat.choices, default=VotesFormat.RECEIPTS
    )

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["status", "closes_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"], condition=Q(status="open"), name="one_open_ballot_a_proposal"
            ),
            models.CheckConstraint(
                name="ballot_closed_has_result",
                condition=Q(status="open", outcome="")
                | Q(status="closed", closed_at__isnull=False, yes__isnull=False) & ~Q(outcome=""),
            ),
            models.CheckConstraint(
                name="ballot_rules_copy_sane",
                condition=Q(quorum_numerator__gte=1)
                & Q(quorum_numerator__lte=models.F("quorum_denominator")),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.proposal_id}"

    @property
    def is_open(self) -> bool:
        return self.status == BallotStatus.OPEN

    @cached_property
    def voter_ids(self) -> frozenset[int]:
        """The members who may vote (on the list copied at opening, not recused), read once;
        ``council.rules``'s ``voting.vote`` asks it. ``voting.selectors.ballot_votes`` sets it
        from the list it reads anyway, so a page does not read it twice."""
        return frozenset(self.eligible.filter(recused=False).values_list("member_id", flat=True))

    @property
    def publishes_receipts(self) -> bool:
        """Closed, with the list of receipts' commitments published (not a ballot closed
        before receipts)."""
        return self.status == BallotStatus.CLOSED and self.votes_format == VotesFormat.RECEIPTS


class Eligibility(models.Model):
    """A member on a ballot's list, copied when it opened. A recused member is listed but is
    not in the base and may not vote."""

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="eligible")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    seat_category = models.CharField(max_length=20, choices=SeatCategory.choices)
    recused = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ballot", "member"], name="eligible_once")]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.ballot_id}"


class Choice(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    ABSTAIN = "abstain", _("Abstain")


class Vote(models.Model):
    """A member's current vote on a ballot: one row per member, enforced by the database.
    A change overwrites the choice and the receipt; each change is an evidence event.

    ``receipt`` (``voting.receipts``) is shown to the member alone; what is published once the
    ballot closes is its commitment with the choice, never the member."""

    ballot = models.ForeignKey(Ballot, models.CASCADE, related_name="votes")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    choice = models.CharField(_("vote"), max_length=10, choices=Choice.choices)
    receipt = models.CharField(max_length=32, default=receipt_new, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    changes = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["ballot", "member"], name="one_vote_a_member")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on {self.ballot_id}"


class HandCount(models.Model):
    """Totals of a show of hands at a meeting for a secret ballot, recorded by the clerk for
    the members who have not voted online (no names: the ballot is secret)."""

    ballot = models.OneToOneField(Ballot, models.CASCADE, related_name="hand_count")
    yes = models.PositiveSmallIntegerField(default=0)
    no = models.PositiveSmallIntegerField(default=0)
    abstain = models.PositiveSmallIntegerField(default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.yes}/{self.no}/{self.abstain}"


class FundingRule(models.TextChoices):
    GREEDY = "greedy", _("by approvals, while money remains (greedy)")
    MES = "mes", _("Method of Equal Shares")


class Round(RulesCopy):
    """A yearly round (年度集中表决): a slate of proposals put to one approval ballot; members
    approve any subset; the money is what was left of the envelope when it opened."""

    community = models.ForeignKey(Community, models.CASCADE, related_name="rounds")
    envelope = models.ForeignKey(Envelope, models.PROTECT, related_name="rounds")
    title = models.CharField(_("title"), max_length=120, validators=[validate_one_line])
    rule = models.CharField(
        _("funding rule"), max_length=10, choices=FundingRule.choices, default="greedy"
    )
    add1 = models.BooleanField(
        _("complete Equal Shares by raising each share (Add1)"), default=True
    )
    status = models.CharField(max_length=10, choices=BallotStatus.choices, default="open")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(_("opened"))
    closes_at = models.DateTimeField(_("closes"))
    money = models.DecimalField(_("money available"), max_digits=12, decimal_places=2)
    base = models.PositiveSmallIntegerField(_("eligible members"))
    reminded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    close_reason = models.CharField(max_length=300, blank=True, validators=[validate_one_line])
    participation = models.PositiveSmallIntegerField(null=True, blank=True)
    valid = models.BooleanField(null=True)
    spent = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    votes_sha256 = models.CharField(max_length=64, blank=True)
    votes_format = models.CharField(
        max_length=10, choices=VotesFormat.choices, default=VotesFormat.RECEIPTS
    )

    class Meta:
        verbose_name = _("yearly round")
        verbose_name_plural = _("yearly rounds")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(money__gte=0), name="round_money_not_negative")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == BallotStatus.OPEN

    @property
    def publishes_receipts(self) -> bool:
        return self.status == BallotStatus.CLOSED and self.votes_format == VotesFormat.RECEIPTS


class RoundProject(models.Model):
    """A proposal on a round's slate, with its cost as counted at opening and, once the round
    closes, its approvals and whether it was funded."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="projects")
    proposal = models.ForeignKey(Proposal, models.PROTECT, related_name="+")
    cost = models.DecimalField(max_digits=12, decimal_places=2)
    position = models.PositiveSmallIntegerField()
    approvals = models.PositiveSmallIntegerField(null=True, blank=True)
    funded = models.BooleanField(null=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "proposal"], name="round_project_once")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}: {self.proposal_id}"


class RoundMember(models.Model):
    """A member on a round's list, copied at opening; ``recused_from`` are proposal ids."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="members")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    seat_category = models.CharField(max_length=20, choices=SeatCategory.choices)
    recused_from = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "member"], name="round_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.round_id}"


class RoundBallot(models.Model):
    """A member's approval ballot in a round: the projects they approve (possibly none).
    One per member, enforced by the database; changeable until the round closes, each time
    with a fresh ``receipt`` (as a ``Vote``'s)."""

    round = models.ForeignKey(Round, models.CASCADE, related_name="ballots")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    approved = models.JSONField(default=list)
    receipt = models.CharField(max_length=32, default=receipt_new, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "member"], name="one_round_ballot_a_member")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.round_id}"
