"""Every write of the council app. Each service checks permission, writes, appends evidence.

Evidence payloads name the fields that changed, never the private values themselves.
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from . import clock
from .errors import InvalidMove, NotAllowed
from .evidence import acting_role, evidence_record
from .models import (
    Community,
    Grid,
    Notification,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    SubDistrict,
    ThreadPresence,
)
from .personal_data import personal_data_erase
from .rules import (
    PRIVATE_DATA_KINDS,
    forget_roles,
    granted_it,
    held_roles,
    holds_it,
    holds_role_kinds,
)
from .signin import sign_in_unlock_account
from .validators import phone_normalize, require_one_line

User = get_user_model()

PRIVATE_FIELDS = ("phone", "id_number", "address", "household_status")


def _check_grid(community: Community, grid: Grid | None) -> None:
    if grid is not None and grid.community_id != community.pk:
        raise InvalidMove(_("That grid is not in %(community)s.") % {"community": community})


def _private_fields(phone: str, id_number: str, address: str, household_status: str) -> dict:
    """A resident's private data as entered (sign-up or registration on their behalf), the
    phone as stored (``13911112222`` from ``+86 139 1111 2222``; anything else as typed, for
    the model's validator to refuse)."""
    return {
        "phone": phone_normalize(phone) or phone,
        "id_number": id_number,
        "address": address,
        "household_status": household_status,
    }


def phone_taken_message(*, own: bool) -> str:
    """Why a phone number is refused: another resident of the district has it on file. ``own``:
    said to the person signing up, about their own number; else to staff or a grid worker."""
    if own:
        return _(
            "This mobile number is already registered in this district. If it is yours, sign "
            "in with it and your password; if not, please ask your grid worker or community "
            "staff."
        )
    return _(
        "This mobile number is already on file for another resident of this district. Please "
        "check the number with the resident; nothing was saved."
    )


def _phone_district(data: PrivateData) -> int:
    return SubDistrict.objects.values_list("district_id", flat=True).get(
        pk=data.residency.community.sub_district_id
    )


def _phone_taken(data: PrivateData, district_id: int) -> bool:
    """Whether another resident of the district signs in with ``data``'s phone number."""
    others = PrivateData.objects.filter(phone_district_id=district_id, phone=data.phone)
    return others.exclude(pk=data.pk).exists()


def _phone_save(data: PrivateData, *, claim: bool, own: bool = False) -> None:
    """Validate ``data`` (the model's validators: phone, ID checksum) and save it. With
    ``claim``, its phone signs its resident in within the residency's district from now on:
    a number another resident of the district has is refused with ``ValidationError`` on
    ``phone`` (``phone_taken_message``), before anything is written — and, should another
    save take it at the same instant, by the database's unique constraint, with the same
    message. The caller's transaction then writes nothing."""
    taken = ValidationError({"phone": phone_taken_message(own=own)}, code="phone_taken")
    if claim:
        district_id = _phone_district(data)
        if _phone_taken(data, district_id):
            raise taken
        data.phone_district_id = district_id
    data.full_clean()
    try:
        with transaction.atomic():
            data.save()
    except IntegrityError as error:
        if claim and _phone_taken(data, data.phone_district_id):
            raise taken from error
        raise


def _residency_create(
    *, user, community: Community, grid: Grid | None, private: dict, own: bool, **role_fields
) -> Role:
    """A resident's residency in ``community`` and its private data (phone, ID number,
    address, household status, consent time), validated by the model's own validators (phone,
    ID checksum) before anything is stored. The phone is refused if another resident of the
    district has it (``_phone_save``; ``own``: the person signs up themselves)."""
    residency = Role.objects.create(
        user=user, kind=RoleKind.RESIDENT, community=community, grid=grid, **role_fields
    )
    data = PrivateData(
        residency=residency, **{**private, "id_number": (private["id_number"] or "").upper()}
    )
    _phone_save(data, claim=True, own=own)
    return residency


SIGN_IN_NAME_FIRST = "23456789"  # eight digits, none leading with 0 or 1 (not a phone number)


def _sign_in_name() -> str:
    """A new sign-in name the system gives: eight digits, easy to read out and to type."""
    return secrets.choice(SIGN_IN_NAME_FIRST) + "".join(
        secrets.choice("0123456789") for _ in range(7)
    )


def _user_create(*, username: str | None, **fields):
    """Create the account; without ``username``, under a new sign-in name (retried until free:
    a name another sign-up takes at the same instant fails on the unique index, not here)."""
    if username is not None:
        return User.objects.create_user(username=username, **fields)
    for _attempt in range(20):
        name = _sign_in_name()
        if User.objects.filter(username=name).exists():
            continue
        try:
            with transaction.atomic():
                return User.objects.create_user(username=name, **fields)
        except IntegrityError:
            continue
    raise RuntimeError("no free sign-in name after 20 tries")


@transaction.atomic
def resident_sign_up(
    *,
    username: str | None = None,
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
    acts as a resident only after confirmation. Without ``username`` (the sign-up page) the
    system gives a new sign-in name (``user.username``), so signing up never reveals whether
    a name is taken; the demo and tests pass their own.
    """
    if not consent:
        raise InvalidMove(_("Please agree to how your personal data will be used."))
    require_one_line(display_name=display_name, address=address)
    _check_grid(community, grid)
    user = _user_create(
        username=username,
        password=password,
        email=email,
        display_name=display_name,
        language=language,
    )
    private = _private_fields(phone, id_number, address, household_status)
    residency = _residency_create(
        user=user,
        community=community,
        grid=grid,
        private={**private, "consented_at": clock.now()},
        own=True,
        status=RoleStatus.PENDING,
    )
    evidence_record(
        actor=user,
        role=RoleKind.RESIDENT,  # signing up, before anyone confirms the residency
        action="resident.signed_up",
        obj=residency,
        community=community,
    )
    return residency


@transaction.atomic
def resident_confirm(*, actor, residency: Role, grid: Grid | None = None) -> Role:
    """Confirm a pending residency: the person now acts as a resident of the community.

    Only the community's staff or the grid worker of the resident's grid may, and never for
    their own residency (``council.confirm_resident``): that is refused with ``InvalidMove``
    and a message, as is a residency already confirmed (another clerk was quicker), which is
    not confirmed twice.
    """
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join.
    residency = (
        Role.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=residency.pk)
    )
    if not actor.has_perm("council.confirm_resident", residency):
        if actor.has_perm("council.list_residents", residency.community):
            if residency.status != RoleStatus.PENDING:
                raise InvalidMove(_("This sign-up has already been confirmed."))
            if holds_it(actor, residency):
                raise InvalidMove(
                    _(
                        "Nobody may confirm their own sign-up: someone else on the community's "
                        "staff, or the grid worker of your grid, confirms yours."
                    )
                )
        raise NotAllowed(_("You may not confirm this sign-up."))
    if grid is not None:
        _check_grid(residency.community, grid)
        residency.grid = grid
    residency.status = RoleStatus.ACTIVE
    residency.confirmed_by = actor
    residency.confirmed_at = clock.now()
    residency.save(update_fields=["status", "grid", "confirmed_by", "confirmed_at"])
    forget_roles(residency.user)
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF, RoleKind.GRID_WORKER),
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
    residency = _residency_create(
        user=user,
        community=community,
        grid=grid,
        private=_private_fields(phone, id_number, address, household_status),
        own=False,
        status=RoleStatus.ACTIVE,
        entered_by=actor,
        granted_by=actor,
        confirmed_by=actor,
        confirmed_at=now,
    )
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF, RoleKind.GRID_WORKER),
        action="resident.registered_on_behalf",
        obj=residency,
        community=community,
    )
    return residency


@transaction.atomic
def private_data_update(*, actor, private_data: PrivateData, **changes) -> PrivateData:
    """Change a resident's private data. Only the grid worker of the resident's grid may.

    A new phone number another resident of the district has is refused (``ValidationError``
    on ``phone``) and nothing changes; a number that could not sign in (it was shared when
    numbers became unique) does once it is free. The evidence event lists which fields
    changed, never their old or new values.
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
    if "phone" in changes:
        changes["phone"] = phone_normalize(changes["phone"]) or changes["phone"]
    changed = sorted(f for f, v in changes.items() if getattr(private_data, f) != v)
    if not changed:
        return private_data
    for field in changed:
        setattr(private_data, field, changes[field])
    current = private_data.residency.status != RoleStatus.ENDED
    # A number shared when numbers became unique signs in once the other resident's changed.
    unclaimed = (
        current
        and private_data.phone_district_id is None
        and not _phone_taken(private_data, _phone_district(private_data))
    )
    _phone_save(private_data, claim=current and ("phone" in changed or unclaimed))
    community = private_data.residency.community
    evidence_record(
        actor=actor,
        roles=(RoleKind.GRID_WORKER,),
        action="private_data.changed",
        obj=private_data.residency,
        payload={"fields": changed},
        community=community,
    )
    return private_data


# --- Roles: separation of duties ---------------------------------------------------------------


def _holder_is_district_admin(user) -> str:
    return _(
        "%(name)s is a district admin, who may not hold a role that reads residents' private "
        "data (community staff, grid worker)."
    ) % {"name": user.public_name}


def _role_refusal(*, actor, user, kind, community, district) -> tuple[str, str] | None:
    """Why ``actor`` may not give ``user`` this role, as (code, message); None if they may."""
    scope = community if community is not None else district
    if actor is not None and actor.pk == user.pk:
        return "own_role", _("Nobody may grant a role to themselves.")
    if actor is not None and not actor.has_perm("council.manage_roles", scope):
        return "not_allowed", _("You may not assign roles here.")
    if kind in PRIVATE_DATA_KINDS:
        if actor is not None and not actor.has_perm("council.grant_private_data_role", community):
            return "granter_is_district_admin", _(
                "A district admin may not grant a role that reads residents' private data "
                "(community staff, grid worker)."
            )
        if holds_role_kinds(user, {RoleKind.DISTRICT_ADMIN}, pending_too=True):
            return "holder_is_district_admin", _holder_is_district_admin(user)
    if kind == RoleKind.DISTRICT_ADMIN and holds_role_kinds(
        user, PRIVATE_DATA_KINDS, pending_too=True
    ):
        return "holder_reads_private_data", _(
            "%(name)s holds a role that reads residents' private data (community staff or grid "
            "worker), so cannot become a district admin."
        ) % {"name": user.public_name}
    return None


# Who grants, confirms or ends roles: the community's staff, or the district admin.
ROLE_MANAGERS = (RoleKind.STAFF, RoleKind.DISTRICT_ADMIN)


def _role_refusal_record(*, actor, user, kind, community, refusal) -> None:
    """The evidence of a refused grant or confirmation: who tried, for whom, which role, why."""
    with transaction.atomic():
        evidence_record(
            actor=actor,
            roles=ROLE_MANAGERS,
            action="role.refused",
            obj=("council.user", user.pk),
            payload={"kind": kind, "reason": refusal[0]},
            community=community,
        )


def role_assign_check(
    *, actor, user, kind: str, community: Community | None = None, district=None
) -> None:
    """Refuse, before anything is written, a grant ``role_assign`` would refuse.

    Raises ``NotAllowed`` with the reason in the user's language, after recording the refused
    attempt as ``role.refused`` (committed with the caller's transaction: a form that shows the
    error keeps it). Returns None when the grant may go ahead.
    """
    refusal = _role_refusal(
        actor=actor, user=user, kind=kind, community=community, district=district
    )
    if refusal is not None:
        _role_refusal_record(
            actor=actor, user=user, kind=kind, community=community, refusal=refusal
        )
        raise NotAllowed(refusal[1])


def role_assign(
    *,
    actor,
    user,
    kind: str,
    community: Community | None = None,
    district=None,
    grid: Grid | None = None,
    seat_category: str = "",
    term_ends=None,
) -> Role:
    """Give ``user`` a role, as ``actor`` (None: setup from the command line).

    Guarantees, the database holding the same rules (``Role``'s constraints and triggers):
    nobody is granted a role by themselves; only those who manage roles in that community or
    district grant one (the district admin there, its staff, the superuser); a role that reads
    residents' private data (staff, grid worker) is never granted by a district admin nor to
    one, and a district-admin role never to someone holding such a role. A refused grant
    raises ``NotAllowed`` and leaves a ``role.refused`` event (see ``role_assign_check``).

    The role records who granted it. A grid worker's role, and a staff role granted by a
    member of staff, start pending and grant nothing until ``role_confirm`` by someone other
    than who granted them (another member of that community's staff, or the superuser): one
    member of staff cannot appoint anyone alone, not even through a second account of their
    own. A community's first staff are set up from the command line (``actor`` None: no
    granter) or by the superuser, whose staff role is active at once and recorded as set up
    (no granter) and confirmed by the superuser. Every other role is active at once.
    Evidence: ``role.assigned``.
    """
    role_assign_check(actor=actor, user=user, kind=kind, community=community, district=district)
    if community is not None:
        _check_grid(community, grid)
    with transaction.atomic():
        # Grants to one person are serialised, so two at once cannot each miss the other.
        User.objects.select_for_update().filter(pk=user.pk).first()
        refusal = _role_refusal(
            actor=actor, user=user, kind=kind, community=community, district=district
        )
        if refusal is not None:
            raise NotAllowed(refusal[1])
        by_superuser = actor is not None and actor.is_superuser
        pending = kind == RoleKind.GRID_WORKER or (
            kind == RoleKind.STAFF and actor is not None and not by_superuser
        )
        set_up = kind == RoleKind.STAFF and by_superuser
        role = Role(
            user=user,
            kind=kind,
            community=community,
            district=district,
            grid=grid,
            seat_category=seat_category,
            term_ends=term_ends,
            status=RoleStatus.PENDING if pending else RoleStatus.ACTIVE,
            granted_by=None if set_up else actor,
            confirmed_by=actor if set_up else None,
            confirmed_at=clock.now() if set_up else None,
        )
        role.full_clean()
        role.save()
        forget_roles(user)
        evidence_record(
            actor=actor,
            roles=ROLE_MANAGERS,
            action="role.assigned",
            obj=role,
            payload={"kind": kind, "seat_category": seat_category, "status": role.status},
            community=community,
        )
    return role


def role_confirm(*, actor, role: Role) -> Role:
    """Confirm a pending appointment (a new grid worker or member of staff): the role is active
    from now on.

    Only staff of the role's community, or the superuser, who neither granted nor hold the
    role may (``council.confirm_role``), and never for a district admin; the role records who
    confirmed it. A refused attempt raises ``NotAllowed`` and leaves ``role.refused``; a role
    no longer pending raises ``InvalidMove``. Evidence: ``role.confirmed``.
    """
    with transaction.atomic():
        role = (
            Role.objects.select_for_update(of=("self",))
            .select_related("community", "user")
            .get(pk=role.pk)
        )
        if role.status != RoleStatus.PENDING or role.kind == RoleKind.RESIDENT:
            raise InvalidMove(_("This role is not awaiting confirmation."))
        refusal = None
        if granted_it(actor, role):
            refusal = "own_grant", _("Someone other than who granted this role must confirm it.")
        elif holds_it(actor, role):
            refusal = "own_role", _("Nobody may confirm a role of their own.")
        elif not actor.has_perm("council.confirm_role", role):
            only_staff = _("Only staff of %(community)s may confirm this role.")
            refusal = "not_allowed", only_staff % {"community": role.community}
        elif role.kind in PRIVATE_DATA_KINDS and holds_role_kinds(
            role.user, {RoleKind.DISTRICT_ADMIN}
        ):
            refusal = "holder_is_district_admin", _holder_is_district_admin(role.user)
        if refusal is None:
            role.status = RoleStatus.ACTIVE
            role.confirmed_by = actor
            role.confirmed_at = clock.now()
            role.save(update_fields=["status", "confirmed_by", "confirmed_at"])
            forget_roles(role.user)
            evidence_record(
                actor=actor,
                roles=(RoleKind.STAFF,),
                action="role.confirmed",
                obj=role,
                payload={"kind": role.kind},
                community=role.community,
            )
            return role
        _role_refusal_record(
            actor=actor, user=role.user, kind=role.kind, community=role.community, refusal=refusal
        )
    raise NotAllowed(refusal[1])


@transaction.atomic
def role_end(*, actor, role: Role) -> Role:
    """End a role (someone leaves the staff, a grid worker changes job): it grants nothing from
    now on and is kept, ended. Only who manages roles where it is held may. Evidence:
    ``role.ended``."""
    role = (
        Role.objects.select_for_update(of=("self",))
        .select_related("community", "district")
        .get(pk=role.pk)
    )
    scope = role.community if role.community is not None else role.district
    if not actor.has_perm("council.manage_roles", scope):
        raise NotAllowed(_("You may not assign roles here."))
    if role.status == RoleStatus.ENDED:
        raise InvalidMove(_("This role has already ended."))
    role.status = RoleStatus.ENDED
    role.save(update_fields=["status"])
    # An ended residency's phone number no longer signs in, and may be someone else's now.
    PrivateData.objects.filter(residency=role).update(phone_district=None)
    forget_roles(role.user)
    evidence_record(
        actor=actor,
        roles=ROLE_MANAGERS,
        action="role.ended",
        obj=role,
        payload={"kind": role.kind},
        community=role.community,
    )
    return role


@transaction.atomic
def setup_record_save(*, actor, obj, changed: list[str], created: bool) -> None:
    """Save a setup record edited in the admin (community, grid, council rules, role).

    The permission check is the admin's (``council.admin``, by the same rules); this adds the
    evidence event naming the fields that changed, so setup leaves a trace like every step.
    """
    if isinstance(obj, Role) and created:
        raise ValueError("roles are granted through role_assign, which checks who may")
    obj.save()
    if isinstance(obj, Role):
        forget_roles(obj.user)
    community = obj if isinstance(obj, Community) else getattr(obj, "community", None)
    evidence_record(
        actor=actor,
        roles=(RoleKind.DISTRICT_ADMIN, RoleKind.STAFF),
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


@transaction.atomic
def large_text_set(*, user, on: bool):
    """Turn 长辈版 (large text: bigger type and buttons, stronger contrast, one column) on or
    off for ``user``, on every browser they sign in on.

    A personal setting, not a step of any process: no evidence event. Raises ``NotAllowed``
    without a signed-in user (a visitor's choice lives in their browser's cookie only).
    """
    if user is None or not user.is_authenticated:
        raise NotAllowed(_("Sign in to keep this choice on every device."))
    if user.large_text != on:
        user.large_text = on
        user.save(update_fields=["large_text"])
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
    evidence_record(
        actor=user,
        role="",  # a person closing their own account, in no role
        action="account.closed",
        obj=("council.user", user.pk),
        payload={"roles_ended": roles_ended},
    )
    return user


READABLE_CHARS = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def _residency_where_allowed(actor, user, perm: str) -> Role | None:
    """The first current residency of ``user`` on which ``actor`` holds ``perm`` (for the
    grid worker of its grid or its community's staff), or None."""
    residencies = (
        Role.objects.filter(user=user, kind=RoleKind.RESIDENT)
        .exclude(status=RoleStatus.ENDED)
        .select_related("user", "community", "community__sub_district")
        .order_by("pk")
    )
    return next((r for r in residencies if actor.has_perm(perm, r)), None)


def _account_record(actor, residency: Role, action: str) -> None:
    """Log ``action`` on the account of ``residency``'s resident, done by the grid worker of
    its grid or its community's staff: the event names the actor and the user's id only."""
    community = residency.community
    evidence_record(
        actor=actor,
        role=acting_role(
            actor, community, RoleKind.GRID_WORKER, RoleKind.STAFF, concerning=residency
        ),
        action=action,
        obj=("council.user", residency.user_id),
        community=community,
    )


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
    residency = _residency_where_allowed(actor, user, "council.reset_password")
    if residency is None or user.closed_at is not None:
        raise NotAllowed(_("You may not reset this person's password."))
    password = get_random_string(10, READABLE_CHARS)
    user.set_password(password)
    user.password_must_change = True  # the worker has read it: the resident replaces it
    user.save(update_fields=["password", "password_must_change"])
    _account_record(actor, residency, "password.reset_by_staff")
    return password


@transaction.atomic
def sign_in_unlock(*, actor, user) -> None:
    """Lift the lock on ``user``'s sign-in after too many wrong passwords (``council.signin``):
    they may sign in again at once (the lock on an address, if any, stays).

    Only the grid worker of one of their residencies' grid, or staff of that community, may
    (``council.unlock_sign_in``); anyone else gets ``NotAllowed``. The evidence event
    ``account.unlocked`` names the actor and the user's id, nothing else.
    """
    residency = _residency_where_allowed(actor, user, "council.unlock_sign_in")
    if residency is None:
        raise NotAllowed(_("You may not unlock this person's sign-in."))
    sign_in_unlock_account(user.username)
    _account_record(actor, residency, "account.unlocked")


def password_change(*, user, form) -> None:
    """Save the new password a person chose for themselves (Django's ``PasswordChangeForm``,
    already valid) and lift the obligation a reset by staff put on them."""
    form.save()
    if user.password_must_change:
        user.password_must_change = False
        user.save(update_fields=["password_must_change"])
