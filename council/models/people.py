"""People and their roles: users, the role each holds in a community (or district) and a
resident's private data.

Public and private are kept apart: ``User`` holds what may be shown (a display name), while
``PrivateData`` holds what never leaves the staff side (phone, ID number, address, household
status) and is read only through the predicates in ``council.rules``.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..validators import validate_id_number, validate_one_line
from .places import Community, District, Grid

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
    # 长辈版: larger type, bigger buttons, stronger contrast, one column, fewer words. Kept
    # here so it follows the person to every browser they sign in on.
    large_text = models.BooleanField(_("large text"), default=False)
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
        indexes = [
            models.Index(fields=["user", "status"]),
            # Head-counts per community and kind (the programme page, the residents list):
            # counted from the index alone, not from each role's row.
            models.Index(fields=["community", "kind", "status"]),
        ]
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

    The phone number also signs its resident in (``council.signin.SignInBackend``): it belongs
    to one resident of a district at most (``phone_district``).
    """

    residency = models.OneToOneField(
        Role,
        models.CASCADE,
        related_name="private_data",
        verbose_name=_("residency"),
        limit_choices_to={"kind": RoleKind.RESIDENT},
    )
    phone = models.CharField(_("mobile phone"), max_length=11, validators=[phone_validator])
    # The district where ``phone`` signs its resident in: one resident per number and district
    # (the constraint below). Set by the services from the residency's community; empty for a
    # residency that ended, and for a number another resident of the district had on file first
    # when numbers became unique, until one of the two is corrected.
    phone_district = models.ForeignKey(
        District,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district where the phone signs in"),
        editable=False,
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "phone_district"], name="privatedata_phone_unique_in_district"
            )
        ]

    def __str__(self) -> str:
        return str(_("private data of %(name)s") % {"name": self.residency.user})

    @property
    def masked_id_number(self) -> str:
        """4403**********1234: the only form in which an ID number is ever displayed."""
        if not self.id_number:
            return ""
        return self.id_number[:4] + "*" * (len(self.id_number) - 8) + self.id_number[-4:]
