"""Every write of the council app. Each service checks permission, writes, appends evidence.

Evidence payloads name the fields that changed, never the private values themselves.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from . import clock
from .errors import InvalidMove, NotAllowed
from .evidence import evidence_append
from .models import (
    Community,
    Grid,
    Notification,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    ThreadPresence,
)
from .personal_data import personal_data_erase
from .rules import forget_roles, held_roles, is_district_admin_of, is_grid_worker_of_grid
from .validators import require_one_line

User = get_user_model()

PRIVATE_FIELDS = ("phone", "id_number", "address", "household_status")


def _acting_role(actor, community: Community, *preferred: str) -> str:
    """The role in which ``actor`` acts in ``community``, for the evidence log."""
    kinds = {r.kind for r in held_roles(actor) if r.community_id == community.pk}
    if RoleKind.DISTRICT_ADMIN in preferred and is_district_admin_of(actor, community):
        kinds.add(RoleKind.DISTRICT_ADMIN)
    for kind in preferred:
        if kind in kinds:
            return kind
    return "superuser" if getattr(actor, "is_superuser", False) else ""


def _check_grid(community: Community, grid: Grid | None) -> None:
    if grid is not None and grid.community_id != community.pk:
        raise InvalidMove(_("That grid is not in %(community)s.") % {"community": community})


def _private_data_create(**fields) -> PrivateData:
    """Validate with the model's own validators (phone, ID checksum) before storing."""
    fields["id_number"] = (fields.get("id_number") or "").upper()
    data = PrivateData(**fields)
    data.full_clean()
    data.save()
    return data


@transaction.atomic
def resident_sign_up(
    *,
    username: str,
    password: str,
    display_name: str,
    email: str,
    community: Community,
    grid: Grid | None,
    phone: str,
    id_number: str,
    address: str,
    household_status: str,
    consent: bool,
    language: str = "zh-hans",
) -> Role:
    """Create an account and a residency awaiting confirmation by staff or the grid worker.

    Refuses without consent to the stated purposes (PIPL). The person can sign in at once but
    acts as a resident only after confirmation.
    """
    if not consent:
        raise InvalidMove(_("Please agree to how your personal data will be used."))
    require_one_line(display_name=display_name, address=address)
    _check_grid(community, grid)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=email,
        display_name=display_name,
        language=language,
    )
    residency = Role.objects.create(
        user=user,
        kind=RoleKind.RESIDENT,
        status=RoleStatus.PENDING,
        community=community,
        grid=grid,
    )
    _private_data_create(
        residency=residency,
        phone=phone,
        id_number=id_number,
        address=address,
        household_status=household_status,
        consented_at=clock.now(),
    )
    evidence_append(
        actor=user,
        actor_role=RoleKind.RESIDENT,
        action="resident.signed_up",
        obj=residency,
        community=community,
    )
    return residency


@transaction.atomic
def resident_confirm(*, actor, residency: Role, grid: Grid | None = None) -> Role:
    """Confirm a pending residency: the person now acts as a resident of the community.

    Only the community's staff or the grid worker of the resident's grid may; a residency
    already confirmed (another clerk was quicker) is refused, not confirmed twice.
    """
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join.
    residency = (
        Role.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=residency.pk)
    )
    if not actor.has_perm("council.confirm_resident", residency):
        if residency.status != RoleStatus.PENDING and actor.has_perm(
            "council.list_residents", residency.community
        ):
            raise InvalidMove(_("This sign-up has already been confirmed."))
        raise NotAllowed(_("You may not confirm this sign-up."))
    if grid is not None:
        _check_grid(residency.community, grid)
        residency.grid = grid
    residency.status = RoleStatus.ACTIVE
    residency.confirmed_by = actor
    residency.confirmed_at = clock.now()
    residency.save(update_fields=["status", "grid", "confirmed_by", "confirmed_at"])
    forget_roles(residency.user)
    evidence_append(
        actor=actor,
        actor_role=_acting_role(actor, residency.community, RoleKind.STAFF, RoleKind.GRID_WORKER),
        action="resident.confirmed",
        obj=residency,
        community=residency.community,
    )
    return residency


@transaction.atomic
def resident_register_offline(
    *,
    actor,
    community: Community,
    grid: Grid | None,
    display_name: str,
    phone: str,
    id_number: str,
    address: str,
    household_status: str,
) -> Role:
    """Register a resident who is not online, as entered on their behalf (代录).

    The account has no usable password until a reset; the residency is active at once, since
    the person registering is the one who would confirm it.
    """
    if not actor.has_perm("council.register_resident", community):
        raise NotAllowed(_("You may not register residents in this community."))
    require_one_line(display_name=display_name, address=address)
    _check_grid(community, grid)
    is_staff = any(
        r.kind == RoleKind.STAFF and r.community_id == community.pk for r in held_roles(actor)
    )
    if not is_staff and grid is None:
        raise InvalidMove(_("Choose the resident's grid."))
    if not is_staff and not actor.has_perm(
        "council.change_privatedata", Role(kind=RoleKind.RESIDENT, grid=grid)
    ):
        raise NotAllowed(_("You may register residents of your own grid only."))
    user = User.objects.create_user(
        username=f"r-{secrets.token_hex(5)}", password=None, display_name=display_name
    )
    now = clock.now()
    residency = Role.objects.create(
        user=user,
        kind=RoleKind.RESIDENT,
        status=RoleStatus.ACTIVE,
        community=community,
        grid=grid,
        entered_by=actor,
        confirmed_by=actor,
        confirmed_at=now,
    )
    _private_data_create(
        residency=residency,
        phone=phone,
        id_number=id_number,
        address=address,
        household_status=household_status,
    )
    evidence_append(
        actor=actor,
        actor_role=_acting_role(actor, community, RoleKind.STAFF, RoleKind.GRID_WORKER),
        action="resident.registered_on_behalf",
        obj=residency,
        community=community,
    )
    return residency


@transaction.atomic
def private_data_update(*, actor, private_data: PrivateData, **changes) -> PrivateData:
    """Change a resident's private data. Only the grid worker of the resident's grid may.

    The evidence event lists which fields changed, never their old or new values.
    """
    private_data = (
        PrivateData.objects.select_for_update(of=("self",))
        .select_related("residency__community")
        .get(pk=private_data.pk)
    )
    if not actor.has_perm("council.change_privatedata", private_data):
        raise NotAllowed(_("You may not change this resident's data."))
    unknown = set(changes) - set(PRIVATE_FIELDS)
    if unknown:
        raise ValueError(f"not private-data fields: {sorted(unknown)}")
    changed = sorted(f for f, v in changes.items() if getattr(private_data, f) != v)
    if not changed:
        return private_data
    for field in changed:
        setattr(private_data, field, changes[field])
    private_data.full_clean()
    private_data.save()
    community = private_data.residency.community
    evidence_append(
        actor=actor,
        actor_role=_acting_role(actor, community, RoleKind.GRID_WORKER),
        action="private_data.changed",
        obj=private_data.residency,
        payload={"fields": changed},
        community=community,
    )
    return private_data


@transaction.atomic
def role_assign(
    *,
    actor,
    user,
    kind: str,
    community: Community | None = None,
    district=None,
    grid: Grid | None = None,
    seat_category: str = "",
) -> Role:
    """Give ``user`` a role. Setup work: the district admin (or staff, within their community)."""
    scope = community if community is not None else district
    if actor is not None and not actor.has_perm("council.manage_roles", scope):
        raise NotAllowed(_("You may not assign roles here."))
    if community is not None:
        _check_grid(community, grid)
    role = Role(
        user=user,
        kind=kind,
        community=community,
        district=district,
        grid=grid,
        seat_category=seat_category,
        status=RoleStatus.ACTIVE,
        confirmed_by=actor,
        confirmed_at=clock.now(),
    )
    role.full_clean()
    role.save()
    forget_roles(user)
    if actor is None:  # setup from the command line (seed_demo, a shell)
        acting = ""
    elif community is not None:
        acting = _acting_role(actor, community, RoleKind.STAFF, RoleKind.DISTRICT_ADMIN)
    else:
        acting = RoleKind.DISTRICT_ADMIN
    evidence_append(
        actor=actor,
        actor_role=acting,
        action="role.assigned",
        obj=role,
        payload={"kind": kind, "seat_category": seat_category},
        community=community,
    )
    return role


@transaction.atomic
def setup_record_save(*, actor, obj, changed: list[str], created: bool) -> None:
    """Save a setup record edited in the admin (community, grid, council rules, role).

    The permission check is the admin's (``council.admin``, by the same rules); this adds the
    evidence event naming the fields that changed, so setup leaves a trace like every step.
    """
    obj.save()
    if isinstance(obj, Role):
        forget_roles(obj.user)
    community = obj if isinstance(obj, Community) else getattr(obj, "community", None)
    if community is not None:
        acting = _acting_role(actor, community, RoleKind.DISTRICT_ADMIN, RoleKind.STAFF)
    else:
        acting = "superuser" if actor.is_superuser else RoleKind.DISTRICT_ADMIN
    evidence_append(
        actor=actor,
        actor_role=acting,
        action=f"{obj._meta.model_name}.{'created' if created else 'changed'}",
        obj=obj,
        payload={"fields": sorted(changed)},
        community=community,
    )


@transaction.atomic
def notification_preference_set(*, user, choice: str):
    """Set how ``user`` hears of their notifications by email: one mail per notification
    ("immediate"), a daily digest ("daily") or none ("off").

    A personal setting, not a step of any process: no evidence event. Raises
    ``ValidationError`` for a choice that is not offered, ``NotAllowed`` without a signed-in user.
    """
    if user is None or not user.is_authenticated:
        raise NotAllowed(_("Sign in to choose how you are notified."))
    offered = {value for value, _label in User._meta.get_field("email_notifications").choices}
    if choice not in offered:
        raise ValidationError(
            {"email_notifications": _("Choose one of the offered options.")}, code="invalid"
        )
    if user.email_notifications != choice:
        user.email_notifications = choice
        user.save(update_fields=["email_notifications"])
    return user


# --- A person's own account (PIPL) -------------------------------------------------------------


@transaction.atomic
def account_close(*, actor, user):
    """Close ``user``'s account, at their own request (the view has checked their password).

    Guarantees, in one transaction: their private data is deleted; their email, first and
    last name and display name are cleared and the username replaced by ``closed-<id>``, so
    nothing of the old identity is readable; the password is unusable and the account
    inactive (no sign-in, no email, no notifications); every role is ended; their
    notifications, thread presence and whatever other apps registered as erasable
    (``council.personal_data``) are deleted. Their public acts stay and are shown as
    "Former resident (account closed)" (``User.public_name``). The evidence log gets
    ``account.closed``, naming only the account's id. Raises ``NotAllowed`` for anyone but
    the person themselves, ``InvalidMove`` for an account already closed.
    """
    if actor is None or not actor.is_authenticated or actor.pk != user.pk:
        raise NotAllowed(_("Only you can close your account."))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.closed_at is not None:
        raise InvalidMove(_("This account is already closed."))
    PrivateData.objects.filter(residency__user=user).delete()
    roles_ended = (
        Role.objects.filter(user=user)
        .exclude(status=RoleStatus.ENDED)
        .update(status=RoleStatus.ENDED)
    )
    Notification.objects.filter(recipient=user).delete()
    threads_seen = set(ThreadPresence.objects.filter(user=user).values_list("thread_id", flat=True))
    ThreadPresence.objects.filter(user=user).delete()
    personal_data_erase(user)
    user.username = f"closed-{user.pk}"
    user.email = user.first_name = user.last_name = user.display_name = ""
    user.email_notifications = "off"
    user.set_unusable_password()
    user.is_active = False
    user.closed_at = clock.now()
    user.save()
    forget_roles(actor)
    forget_roles(user)
    if threads_seen:
        from .threads import _presence_changed

        for thread_id in sorted(threads_seen):
            _presence_changed(thread_id)  # viewers' "who is here" lines drop the name
    evidence_append(
        actor=user,
        action="account.closed",
        obj=("council.user", user.pk),
        payload={"roles_ended": roles_ended},
    )
    return user


READABLE_CHARS = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


@transaction.atomic
def password_reset_by_staff(*, actor, user) -> str:
    """Give ``user`` a new random password and return it, for a resident without email.

    Only the grid worker of one of their residencies' grid, or staff of that community, may
    (``council.reset_password``), and only for a resident who holds no official role (staff,
    grid worker, expert, district admin). The password (ten characters, none easily misread)
    is returned once, to be handed over on paper; it is stored only hashed and is never in
    the evidence event ``password.reset_by_staff``, which names the actor and the user's id.
    Every session of the user is signed out (the password changed), and at their next
    sign-in they must choose a password of their own before anything else.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    residencies = (
        Role.objects.filter(user=user, kind=RoleKind.RESIDENT)
        .exclude(status=RoleStatus.ENDED)
        .select_related("community", "community__sub_district")
        .order_by("pk")
    )
    residency = next((r for r in residencies if actor.has_perm("council.reset_password", r)), None)
    if residency is None or user.closed_at is not None:
        raise NotAllowed(_("You may not reset this person's password."))
    password = get_random_string(10, READABLE_CHARS)
    user.set_password(password)
    user.password_must_change = True  # the worker has read it: the resident replaces it
    user.save(update_fields=["password", "password_must_change"])
    community = residency.community
    evidence_append(
        actor=actor,
        actor_role=RoleKind.GRID_WORKER
        if is_grid_worker_of_grid(actor, residency)
        else _acting_role(actor, community, RoleKind.STAFF),
        action="password.reset_by_staff",
        obj=("council.user", user.pk),
        payload={"user_id": user.pk},
        community=community,
    )
    return password


def password_change(*, user, form) -> None:
    """Save the new password a person chose for themselves (Django's ``PasswordChangeForm``,
    already valid) and lift the obligation a reset by staff put on them."""
    form.save()
    if user.password_must_change:
        user.password_must_change = False
        user.save(update_fields=["password_must_change"])
