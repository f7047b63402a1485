"""People and places: users, communities, grids, roles, councils and the evidence log.

Public and private are kept apart: ``User`` holds what may be shown (a display name), while
``PrivateData`` holds what never leaves the staff side (phone, ID number, address, household
status) and is read only through the predicates in ``council.rules``.
"""

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .hooks import get_hooks
from .validators import validate_id_number, validate_one_line

# What is shown in place of a person who closed their account (PIPL): their public acts stay,
# their name does not.
CLOSED_ACCOUNT_NAME = _("Former resident (account closed)")


class User(AbstractUser):
    """A person who signs in. Only ``public_name`` (their display name) is ever shown in
    public; once the account is closed, it reads "Former resident (account closed)"."""

    display_name = models.CharField(
        _("display name"), max_length=40, validators=[validate_one_line]
    )
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    email_notifications = models.CharField(
        _("email notifications"),
        max_length=10,
        choices=[
            ("immediate", _("one email per notification")),
            ("daily", _("a daily digest")),
            ("off", _("no email")),
        ],
        default="daily",
    )
    closed_at = models.DateTimeField(
        _("account closed"),
        null=True,
        blank=True,
        help_text=_("Set when the person closes their account; their public acts stay."),
    )
    # Set when staff or a grid worker gave the person a password on paper: someone else has
    # read it, so the person chooses their own before doing anything else.
    password_must_change = models.BooleanField(
        _("must choose a new password at the next sign-in"), default=False
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        """The name shown wherever this person's acts appear, in the reader's language."""
        if self.closed_at is not None:
            return str(CLOSED_ACCOUNT_NAME)
        return self.display_name or self.username

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class District(models.Model):
    """区: the district whose admins set up communities, caps, councils and envelopes."""

    name = models.CharField(_("name"), max_length=60, unique=True, validators=[validate_one_line])
    slug = models.SlugField(_("slug"), unique=True)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")

    def __str__(self) -> str:
        return self.name


class SubDistrict(models.Model):
    """街道: a sub-district of a district."""

    district = models.ForeignKey(
        District, models.PROTECT, related_name="sub_districts", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])

    class Meta:
        verbose_name = _("sub-district")
        verbose_name_plural = _("sub-districts")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="subdistrict_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ProjectType(models.TextChoices):
    """The three kinds of micro-project, each with its own per-project cap."""

    ENGINEERING = "engineering", _("Engineering (工程类)")
    SERVICE = "service", _("Service (服务类)")
    GOODS = "goods", _("Goods (货物类)")


def _positive_money(name: str) -> Q:
    return Q(**{f"{name}__gt": Decimal("0")})


class Community(models.Model):
    """社区: where residents live, propose and evaluate; the unit every role is held in."""

    sub_district = models.ForeignKey(
        SubDistrict, models.PROTECT, related_name="communities", verbose_name=_("sub-district")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])
    slug = models.SlugField(_("slug"), unique=True)
    cosign_threshold = models.PositiveSmallIntegerField(
        _("co-sign threshold"),
        default=5,
        validators=[MinValueValidator(1)],
        help_text=_("Co-signs (附议) that move a submitted proposal to review."),
    )
    collection_opens = models.DateField(_("collection window opens"))
    collection_closes = models.DateField(_("collection window closes"))
    cap_engineering = models.DecimalField(
        _("cap for engineering projects (yuan)"), max_digits=12, decimal_places=2
    )
    cap_service = models.DecimalField(
        _("cap for service projects (yuan)"), max_digits=12, decimal_places=2
    )
    cap_goods = models.DecimalField(
        _("cap for goods projects (yuan)"), max_digits=12, decimal_places=2
    )

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["sub_district_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sub_district", "name"], name="community_unique_name"),
            models.CheckConstraint(
                condition=Q(cosign_threshold__gte=1), name="community_threshold_positive"
            ),
            models.CheckConstraint(
                condition=Q(collection_closes__gte=models.F("collection_opens")),
                name="community_window_ordered",
            ),
            models.CheckConstraint(
                condition=_positive_money("cap_engineering")
                & _positive_money("cap_service")
                & _positive_money("cap_goods"),
                name="community_caps_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def cap_for(self, project_type: str) -> Decimal:
        """The per-project cap for one of ``ProjectType``'s values."""
        return {
            ProjectType.ENGINEERING: self.cap_engineering,
            ProjectType.SERVICE: self.cap_service,
            ProjectType.GOODS: self.cap_goods,
        }[ProjectType(project_type)]

    def collection_is_open(self, on) -> bool:
        return self.collection_opens <= on <= self.collection_closes


class Grid(models.Model):
    """网格: a part of a community; a grid worker handles private data in theirs only."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="grids", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=60, validators=[validate_one_line])

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["community_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.community.name} · {self.name}"


class RoleKind(models.TextChoices):
    RESIDENT = "resident", _("resident")
    COUNCIL_MEMBER = "council_member", _("council member")
    EXPERT = "expert", _("expert")
    STAFF = "staff", _("community staff")
    GRID_WORKER = "grid_worker", _("grid worker")
    DISTRICT_ADMIN = "district_admin", _("district admin")


class RoleStatus(models.TextChoices):
    PENDING = "pending", _("awaiting confirmation")
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")


class SeatCategory(models.TextChoices):
    """Who a council seat represents. Public, unlike a person's own household status."""

    ORGANISATION = "organisation", _("community organisation")
    NOTABLE = "notable", _("notable resident")
    REGISTERED = "registered", _("representative of registered residents")
    NON_REGISTERED = "non_registered", _("representative of non-registered residents")


class Role(models.Model):
    """One role held by one person in one community (or, for a district admin, one district).

    A role in community A gives nothing in community B: every predicate in ``council.rules``
    matches the community (or grid, or district) of the object against the role's own. Only an
    active role counts; a pending one (a sign-up, a new grid worker) grants nothing.

    Separation of duties (``council.services.role_assign``), held by the database too: nobody
    is granted or confirms a role of their own; an active grid worker was confirmed by someone
    other than who granted it, and so was an active member of staff unless set up with no
    granter (from the command line, or by the superuser, who is then its confirmer); and a
    person with an active district-admin role holds no active role that reads residents'
    private data (staff, grid worker) — a cross-row rule kept by triggers (migration ``0010``;
    on SQLite a migration that rebuilds the table creates them again, as ``0013`` does), the
    rest by the check constraints below.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="roles", verbose_name=_("user")
    )
    kind = models.CharField(_("role"), max_length=20, choices=RoleKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RoleStatus.choices, default=RoleStatus.ACTIVE
    )
    community = models.ForeignKey(
        Community,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="roles",
        verbose_name=_("community"),
    )
    district = models.ForeignKey(
        District,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="admin_roles",
        verbose_name=_("district"),
    )
    grid = models.ForeignKey(
        Grid,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="roles",
        verbose_name=_("grid"),
        help_text=_("A resident's grid, or the grid a grid worker looks after."),
    )
    seat_category = models.CharField(
        _("seat category"), max_length=20, choices=SeatCategory.choices, blank=True
    )
    term_ends = models.DateField(
        _("term ends"),
        null=True,
        blank=True,
        help_text=_("A council seat's term: the member votes in no ballot opened after it."),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered on the person's behalf by"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
        help_text=_(
            "Empty for a sign-up, for setup from the command line and for a staff role the "
            "superuser set up (recorded as its confirmer)."
        ),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.CheckConstraint(
                name="role_scope_matches_kind",
                condition=(
                    Q(kind=RoleKind.DISTRICT_ADMIN, district__isnull=False, community__isnull=True)
                    | (
                        ~Q(kind=RoleKind.DISTRICT_ADMIN)
                        & Q(district__isnull=True, community__isnull=False)
                    )
                ),
            ),
            models.CheckConstraint(
                name="role_grid_worker_has_grid",
                condition=~Q(kind=RoleKind.GRID_WORKER) | Q(grid__isnull=False),
            ),
            models.CheckConstraint(
                name="role_member_has_seat",
                condition=~Q(kind=RoleKind.COUNCIL_MEMBER) | ~Q(seat_category=""),
            ),
            models.CheckConstraint(
                name="role_not_granted_to_oneself",
                condition=Q(granted_by__isnull=True) | ~Q(granted_by=F("user")),
            ),
            models.CheckConstraint(
                name="role_not_confirmed_by_oneself",
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("user")),
            ),
            models.CheckConstraint(
                name="role_grid_worker_confirmed_by_a_second_person",
                condition=~Q(kind=RoleKind.GRID_WORKER, status=RoleStatus.ACTIVE)
                | (
                    Q(confirmed_by__isnull=False)
                    & (Q(granted_by__isnull=True) | ~Q(confirmed_by=F("granted_by")))
                ),
            ),
            models.CheckConstraint(
                name="role_staff_confirmed_by_a_second_person",
                condition=~Q(kind=RoleKind.STAFF, status=RoleStatus.ACTIVE)
                | Q(granted_by__isnull=True)
                | (Q(confirmed_by__isnull=False) & ~Q(confirmed_by=F("granted_by"))),
            ),
            models.UniqueConstraint(
                fields=["user", "community", "kind"],
                condition=~Q(status=RoleStatus.ENDED),
                name="role_unique_current_in_community",
            ),
            models.UniqueConstraint(
                fields=["user", "district"],
                condition=Q(kind=RoleKind.DISTRICT_ADMIN) & ~Q(status=RoleStatus.ENDED),
                name="role_unique_current_district_admin",
            ),
        ]

    def __str__(self) -> str:
        where = self.community or self.district
        return f"{self.user} · {self.get_kind_display()} · {where}"


class HouseholdStatus(models.TextChoices):
    REGISTERED = "registered", _("registered resident (户籍)")
    NON_REGISTERED = "non_registered", _("non-registered resident (非户籍)")


phone_validator = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number, such as 13800138000.")
)


class PrivateData(models.Model):
    """A resident's private data in one community. Never shown in public, never exported.

    Readable by the community's staff and by the grid worker of the resident's grid; editable by
    that grid worker only (``council.rules``). ID numbers are shown masked even to them.
    """

    residency = models.OneToOneField(
        Role,
        models.CASCADE,
        related_name="private_data",
        verbose_name=_("residency"),
        limit_choices_to={"kind": RoleKind.RESIDENT},
    )
    phone = models.CharField(_("mobile phone"), max_length=11, validators=[phone_validator])
    id_number = models.CharField(
        _("ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    address = models.CharField(_("address"), max_length=200, validators=[validate_one_line])
    household_status = models.CharField(
        _("household status"), max_length=20, choices=HouseholdStatus.choices
    )
    consented_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("private data")
        verbose_name_plural = _("private data")

    def __str__(self) -> str:
        return str(_("private data of %(name)s") % {"name": self.residency.user})

    @property
    def masked_id_number(self) -> str:
        """4403**********1234: the only form in which an ID number is ever displayed."""
        if not self.id_number:
            return ""
        return self.id_number[:4] + "*" * (len(self.id_number) - 8) + self.id_number[-4:]


class ThresholdRule(models.TextChoices):
    MAJORITY_OF_MEMBERS = (
        "majority_of_members",
        _("more than half of all seated non-recused members"),
    )
    MAJORITY_OF_CAST = "majority_of_cast", _("more than half of the votes cast")
    TWO_THIRDS_OF_CAST = "two_thirds_of_cast", _("at least two-thirds of the votes cast")


class Secrecy(models.TextChoices):
    ROLL_CALL = "roll_call", pgettext_lazy("ballot secrecy", "roll-call")
    SECRET = "secret", pgettext_lazy("ballot secrecy", "secret")


class Council(models.Model):
    """居民议事会 and its rules of procedure (议事规则). A ballot copies these when it opens."""

    community = models.OneToOneField(
        Community, models.CASCADE, related_name="council", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80, validators=[validate_one_line])
    quorum_numerator = models.PositiveSmallIntegerField(_("quorum numerator"), default=2)
    quorum_denominator = models.PositiveSmallIntegerField(_("quorum denominator"), default=3)
    threshold = models.CharField(
        _("threshold"),
        max_length=30,
        choices=ThresholdRule.choices,
        default=ThresholdRule.MAJORITY_OF_MEMBERS,
    )
    secrecy = models.CharField(
        _("secrecy"), max_length=10, choices=Secrecy.choices, default=Secrecy.ROLL_CALL
    )
    board_shows_running_count = models.BooleanField(
        _("meeting board may show the running count of a roll-call ballot"), default=False
    )
    publicity_days = models.PositiveSmallIntegerField(
        _("publicity period (days)"), default=5, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        constraints = [
            models.CheckConstraint(
                name="council_quorum_is_a_fraction",
                condition=Q(quorum_numerator__gte=1)
                & Q(quorum_denominator__gte=1)
                & Q(quorum_numerator__lte=models.F("quorum_denominator")),
            ),
            models.CheckConstraint(
                name="council_publicity_positive", condition=Q(publicity_days__gte=1)
            ),
        ]

    def __str__(self) -> str:
        return self.name


def action_labels() -> dict:
    """What each evidence action means, for the public view: every app's
    ``evidence_action_labels`` hook (``council.hooks``), merged."""
    labels = {}
    for hook in get_hooks("evidence_action_labels"):
        labels.update(hook())
    return labels


def actors_by_role_only() -> dict[str, Callable[[dict], bool]]:
    """Actions whose actor the public view shows by role only when ``hidden(payload)`` holds,
    e.g. a member voting in a secret ballot: who took part is not published, only how many.
    The row keeps the actor for the server's own audit. Every app's
    ``evidence_actors_by_role_only`` hook, merged."""
    hidden = {}
    for hook in get_hooks("evidence_actors_by_role_only"):
        hidden.update(hook())
    return hidden


class EvidenceEvent(models.Model):
    """One link of the hash-chained, append-only evidence log (信息证据化).

    Written only by ``council.evidence.evidence_append``; ``hash`` is the SHA-256 of the
    event's canonical form, which includes ``prev_hash``. Unique ``seq`` and ``prev_hash``
    mean two writers can never attach to the same link: the chain cannot fork.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("actor's role"), max_length=20, blank=True)
    action = models.CharField(_("action"), max_length=60)
    object_type = models.CharField(_("object type"), max_length=60)
    object_id = models.CharField(_("object id"), max_length=40)
    community = models.ForeignKey(
        Community,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    payload = models.JSONField(_("payload"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64, unique=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("evidence event")
        verbose_name_plural = _("evidence events")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    # Officials act in public under their name; residents are shown by role only (DESIGN.md).
    NAMED_ROLES = frozenset(
        {
            RoleKind.STAFF,
            RoleKind.GRID_WORKER,
            RoleKind.DISTRICT_ADMIN,
            RoleKind.COUNCIL_MEMBER,
            RoleKind.EXPERT,
            "superuser",
        }
    )

    @property
    def action_label(self) -> str:
        """The action in the reader's language (see ``action_labels``)."""
        return str(action_labels().get(self.action, self.action))

    @property
    def public_actor(self) -> str:
        """Who acted, as the public view may show it."""
        if self.actor_id is None:
            # A member's act in a secret ballot keeps its role but no actor (``voting``).
            if self.actor_role in RoleKind.values:
                return str(RoleKind(self.actor_role).label)
            return str(_("the system"))
        hidden = actors_by_role_only().get(self.action)
        if self.actor_role in self.NAMED_ROLES and not (hidden and hidden(self.payload)):
            return str(self.actor)
        if self.actor_role in RoleKind.values:
            return str(RoleKind(self.actor_role).label)
        return str(RoleKind.RESIDENT.label)


class EvidenceHead(models.Model):
    """The single row that points at the chain's last event. Appends lock it to commit."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("evidence log head")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="evidence_head_singleton")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"


class Notification(models.Model):
    """One in-app notification, written in the recipient's language when it is created."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications"
    )
    text = models.CharField(_("text"), max_length=300)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text


class PasswordResetRequest(models.Model):
    """A request for a password-reset email, as it was typed, waiting for the minute
    scheduler to look the address up and send the email (``council.mail``): the request
    itself writes only this row, whether or not an account has the address. Deleted once
    handled, or a day after it was made."""

    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10)  # the email's: the request's language
    domain = models.CharField(max_length=255)  # the link's host: the request's
    use_https = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"password reset request #{self.pk}"


# --- Deliberation threads (generic: a thread knows nothing of what it is about) -------------


class Thread(models.Model):
    """A real-time deliberation thread of a community. Public ones are readable by anyone."""

    community = models.ForeignKey(
        Community, models.CASCADE, related_name="threads", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=120, validators=[validate_one_line])
    is_public = models.BooleanField(_("public"), default=True)
    is_open = models.BooleanField(_("open to new messages"), default=True)
    page_url = models.CharField(
        _("page"),
        max_length=200,
        blank=True,
        help_text=_("Where the thread is shown (set by what it is about)."),
    )
    guests = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="guest_threads",
        verbose_name=_("invited guests"),
        help_text=_("People from outside the community who may post, such as invited experts."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")

    def __str__(self) -> str:
        return self.title


class MessageKind(models.TextChoices):
    COMMENT = "comment", _("comment")
    OFFICIAL = "official", _("official answer")
    MEETING_NOTE = "meeting_note", _("meeting note")
    EXPERT_OPINION = "expert_opinion", _("expert opinion")


class Message(models.Model):
    """One message of a thread. Deleting leaves a tombstone; hiding keeps a public reason."""

    thread = models.ForeignKey(Thread, models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    author_role = models.CharField(_("author's role"), max_length=20, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=MessageKind.choices, default=MessageKind.COMMENT
    )
    body = models.TextField(_("text"))
    body_html = models.TextField(editable=False)
    quote = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("quotes")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField(
        _("reason for hiding"), max_length=300, blank=True, validators=[validate_one_line]
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["pk"]
        indexes = [models.Index(fields=["thread", "id"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(hidden_at__isnull=True) | ~Q(hidden_reason=""),
                name="message_hidden_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} in {self.thread_id}"


class MessageEdit(models.Model):
    """The text a message had before an edit (or before deletion): kept, never shown in public."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="edits")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"edit of #{self.message_id}"


class MessageReport(models.Model):
    """A resident reports a message to staff."""

    message = models.ForeignKey(Message, models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_one_line])
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "reporter"], name="report_once")]

    def __str__(self) -> str:
        return f"report of #{self.message_id}"


class PostingBan(models.Model):
    """Moderation: a person may not post in a community's threads (until lifted)."""

    community = models.ForeignKey(Community, models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_one_line])
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "user"], name="posting_ban_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} may not post in {self.community}"


class ThreadPresence(models.Model):
    """One open connection to a thread, so every server process can tell who is viewing."""

    thread = models.ForeignKey(Thread, models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["thread", "seen_at"])]

    def __str__(self) -> str:
        return self.channel_name
