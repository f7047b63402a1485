"""Who may do what: every permission of the app, as named predicates (adhocracy4's way).

Views, templates (``{% has_perm %}``), consumers, services and the admin all ask these same
predicates, through ``user.has_perm("council.…", obj)`` or by calling them directly.

A role counts only where it is held: staff of community A are nobody in community B, and a
grid worker's rights over private data stop at the edge of their own grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import rules
from django.db.models import Q

from . import clock
from .models import Community, District, Grid, PrivateData, Role, RoleKind, RoleStatus


@dataclass(frozen=True)
class HeldRole:
    kind: str
    community_id: int | None
    grid_id: int | None
    district_id: int | None
    community_slug: str | None = None


def held_roles(user) -> tuple[HeldRole, ...]:
    """The user's active roles, loaded once per user object (one query per request, which
    also finds the sign-ups awaiting confirmation: ``pending_residencies``)."""
    if user is None or not user.is_authenticated:
        return ()
    cached = getattr(user, "_weishi_roles", None)
    if cached is None:
        rows = list(
            Role.objects.filter(
                user=user, status__in=[RoleStatus.ACTIVE, RoleStatus.PENDING]
            ).values_list(
                "status", "kind", "community_id", "grid_id", "district_id", "community__slug"
            )
        )
        cached = tuple(HeldRole(*row[1:]) for row in rows if row[0] == RoleStatus.ACTIVE)
        user._weishi_roles = cached
        user._weishi_pending = frozenset(
            row[2] for row in rows if row[0] == RoleStatus.PENDING and row[1] == RoleKind.RESIDENT
        )
    return cached


def forget_roles(user) -> None:
    """Drop the cached roles after a change to them (on the real user behind a lazy one)."""
    real = getattr(user, "_wrapped", user)
    getattr(real, "__dict__", {}).pop("_weishi_roles", None)
    getattr(real, "__dict__", {}).pop("_weishi_pending", None)


def pending_residencies(user) -> frozenset[int]:
    """The communities where the user's sign-up as a resident awaits confirmation (read with
    ``held_roles``, in its one query)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if getattr(user, "_weishi_pending", None) is None:
        forget_roles(user)
        held_roles(user)
    return user._weishi_pending


def community_of(obj) -> Community | None:
    """The community an object belongs to, for any object the predicates are asked about."""
    if isinstance(obj, Community):
        return obj
    if isinstance(obj, PrivateData):
        return obj.residency.community
    community = getattr(obj, "community", None)
    return community if isinstance(community, Community) else None


def _has(user, kind: str, community: Community | None) -> bool:
    if community is None:
        return False
    return any(r.kind == kind and r.community_id == community.pk for r in held_roles(user))


def _grid_of(obj) -> int | None:
    if isinstance(obj, Grid):
        return obj.pk
    if isinstance(obj, PrivateData):
        return obj.residency.grid_id
    if isinstance(obj, Role):
        return obj.grid_id
    return None


@rules.predicate
def is_resident_of(user, obj) -> bool:
    return _has(user, RoleKind.RESIDENT, community_of(obj))


@rules.predicate
def is_awaiting_confirmation_in(user, obj) -> bool:
    """The user signed up as a resident of the object's community and is not confirmed yet."""
    community = community_of(obj)
    return community is not None and community.pk in pending_residencies(user)


@rules.predicate
def is_council_member_of(user, obj) -> bool:
    return _has(user, RoleKind.COUNCIL_MEMBER, community_of(obj))


@rules.predicate
def is_expert_of(user, obj) -> bool:
    return _has(user, RoleKind.EXPERT, community_of(obj))


@rules.predicate
def is_staff_of(user, obj) -> bool:
    return _has(user, RoleKind.STAFF, community_of(obj))


@rules.predicate
def is_grid_worker_of_community(user, obj) -> bool:
    return _has(user, RoleKind.GRID_WORKER, community_of(obj))


@rules.predicate
def is_grid_worker_of_grid(user, obj) -> bool:
    """The object lies in a grid this user looks after (a grid of no one matches nobody)."""
    grid_id = _grid_of(obj)
    if grid_id is None:
        return False
    return any(r.kind == RoleKind.GRID_WORKER and r.grid_id == grid_id for r in held_roles(user))


@rules.predicate
def is_district_admin_of(user, obj) -> bool:
    community = community_of(obj)
    if community is not None:
        district_id = community.sub_district.district_id
    elif isinstance(obj, District):
        district_id = obj.pk
    else:
        return False
    return any(
        r.kind == RoleKind.DISTRICT_ADMIN and r.district_id == district_id for r in held_roles(user)
    )


@rules.predicate
def is_any_district_admin(user) -> bool:
    return any(r.kind == RoleKind.DISTRICT_ADMIN for r in held_roles(user))


@rules.predicate
def is_any_staff(user) -> bool:
    return any(r.kind == RoleKind.STAFF for r in held_roles(user))


@rules.predicate
def is_pending_residency(user, role) -> bool:
    return (
        isinstance(role, Role)
        and role.kind == RoleKind.RESIDENT
        and role.status == RoleStatus.PENDING
    )


# What a resident may hold and still count as "a resident" for a password reset by staff:
# anyone holding an official role resets their own way (by email, or the district admin).
RESIDENT_KINDS = frozenset({RoleKind.RESIDENT, RoleKind.COUNCIL_MEMBER})


@rules.predicate
def is_residency_of_plain_resident(user, role) -> bool:
    """A current (not ended) residency of someone who holds no official role anywhere and is
    not an account of the Django admin: a grid worker cannot take over a staff account."""
    if not isinstance(role, Role) or role.kind != RoleKind.RESIDENT:
        return False
    if role.status == RoleStatus.ENDED:
        return False
    person = role.user
    if person.is_staff or person.is_superuser or person.closed_at is not None:
        return False
    return (
        not Role.objects.filter(user_id=role.user_id)
        .exclude(status=RoleStatus.ENDED)
        .exclude(kind__in=RESIDENT_KINDS)
        .exists()
    )


# Roles that read residents' private data: never held or granted by a district admin
# (DESIGN.md: "read everything except residents' private data").
PRIVATE_DATA_KINDS = frozenset({RoleKind.STAFF, RoleKind.GRID_WORKER})


def holds_role_kinds(user, kinds, *, pending_too: bool = False) -> bool:
    """Whether ``user`` holds a role of one of ``kinds`` anywhere (active, or also pending)."""
    if user is None or not getattr(user, "pk", None):
        return False
    statuses = [RoleStatus.ACTIVE, RoleStatus.PENDING] if pending_too else [RoleStatus.ACTIVE]
    return Role.objects.filter(user_id=user.pk, kind__in=kinds, status__in=statuses).exists()


@rules.predicate
def is_pending_appointment(user, role) -> bool:
    """A role awaiting confirmation that is not a resident's sign-up (a new grid worker or
    member of staff)."""
    return (
        isinstance(role, Role)
        and role.kind != RoleKind.RESIDENT
        and role.status == RoleStatus.PENDING
        and role.community_id is not None
    )


@rules.predicate
def granted_it(user, role) -> bool:
    return user.is_authenticated and getattr(role, "granted_by_id", None) == user.pk


@rules.predicate
def holds_it(user, role) -> bool:
    return user.is_authenticated and getattr(role, "user_id", None) == user.pk


is_superuser = rules.is_superuser

# --- Permissions ---------------------------------------------------------------------------
# Residents' private data: the grid worker of the resident's grid reads and edits; the
# community's staff read (never edit); nobody else, district admins included.
rules.add_perm("council.view_privatedata", is_grid_worker_of_grid | is_staff_of)
rules.add_perm("council.change_privatedata", is_grid_worker_of_grid)

# Sign-ups: the community's staff, or the grid worker of the grid the resident chose.
# Never one's own sign-up: staff or a grid worker who signed up and were appointed before anyone
# confirmed their residency wait for a colleague like everyone else.
rules.add_perm(
    "council.confirm_resident",
    is_pending_residency & ~holds_it & (is_staff_of | is_grid_worker_of_grid),
)
rules.add_perm("council.register_resident", is_staff_of | is_grid_worker_of_community)
# A sign-up awaiting confirmation: pages offer none of a resident's actions (proposing,
# co-signing, posting, objecting, evaluating) and say they open once confirmed.
rules.add_perm("council.await_confirmation", ~is_resident_of & is_awaiting_confirmation_in)
rules.add_perm("council.list_residents", is_staff_of | is_grid_worker_of_community)
# Residents without email: their grid worker (own grid only) or the community's staff give
# them a new password, logged (DESIGN.md, "Personal data").
rules.add_perm(
    "council.reset_password",
    (is_grid_worker_of_grid | is_staff_of) & is_residency_of_plain_resident,
)

# The community's staff at work: counting as its staff at all, and the lists only they see.
rules.add_perm("council.staff_community", is_staff_of)
rules.add_perm("council.list_all_residents", is_staff_of)
rules.add_perm("council.register_in_any_grid", is_staff_of)
rules.add_perm("council.view_reports", is_staff_of)

# Setup, done in the admin: the district admin over their district; staff edit their own
# council's rules of procedure.
rules.add_perm("council.use_admin", is_superuser | is_any_district_admin | is_any_staff)
rules.add_perm("council.change_community", is_superuser | is_district_admin_of)
rules.add_perm("council.change_council", is_superuser | is_district_admin_of | is_staff_of)
rules.add_perm("council.manage_roles", is_superuser | is_district_admin_of | is_staff_of)
# Separation of duties (``council.services.role_assign``): a role that reads residents' private
# data is granted by the community's staff (or the superuser), never by a district admin; a new
# grid worker, or member of staff granted by staff, is active only once staff other than who
# granted it (or the superuser, for a community with one member of staff) confirm it; nobody
# grants or confirms a role of their own.
rules.add_perm(
    "council.grant_private_data_role", ~is_any_district_admin & (is_superuser | is_staff_of)
)
rules.add_perm(
    "council.confirm_role",
    is_pending_appointment
    & ~granted_it
    & ~holds_it
    & (is_staff_of | (is_superuser & ~is_any_district_admin)),
)
# Sign-in locked after too many wrong passwords (``council.signin``): the grid worker of the
# resident's grid or the community's staff lift the lock, from the resident's page — for the
# same people whose password they may reset, else a grid worker could lock an official's
# account by guessing, unlock it and guess on.
rules.add_perm(
    "council.unlock_sign_in",
    (is_grid_worker_of_grid | is_staff_of) & is_residency_of_plain_resident,
)
rules.add_perm("council.view_setup", is_superuser | is_district_admin_of | is_staff_of)

# --- Proposals ------------------------------------------------------------------------------
# The predicates read attributes (``proposer_id``, ``is_public``, ``invited_expert_ids``), so
# this module knows nothing of the proposals app (not even which stage is public): dependencies
# point one way.


@rules.predicate
def is_proposer(user, obj) -> bool:
    return user.is_authenticated and getattr(obj, "proposer_id", None) == user.pk


@rules.predicate
def entered_it(user, obj) -> bool:
    return user.is_authenticated and getattr(obj, "entered_by_id", None) == user.pk


@rules.predicate
def proposal_is_public(user, obj) -> bool:
    return getattr(obj, "is_public", False)


@rules.predicate
def is_invited_expert(user, obj) -> bool:
    return user.is_authenticated and user.pk in getattr(obj, "invited_expert_ids", ())


rules.add_perm("proposals.create", is_resident_of)
rules.add_perm("proposals.enter_on_behalf", is_staff_of)
rules.add_perm("proposals.view", proposal_is_public | is_proposer | entered_it | is_staff_of)
rules.add_perm("proposals.edit_draft", is_proposer | (entered_it & is_staff_of))
rules.add_perm("proposals.submit", is_proposer | (entered_it & is_staff_of))
rules.add_perm("proposals.cosign", is_resident_of & ~is_proposer)
# Crossing the threshold: by the co-sign that crosses it, or by staff carrying co-signs over
# from a merged proposal.
rules.add_perm("proposals.reach_threshold", (is_resident_of & ~is_proposer) | is_staff_of)
rules.add_perm("proposals.follow", proposal_is_public & rules.is_authenticated)
# Staff take a proposal through review, consultation and the council's vote: one name per step.
rules.add_perm("proposals.take_up", is_staff_of)
rules.add_perm("proposals.record_admissibility", is_staff_of)
rules.add_perm("proposals.admit", is_staff_of)
rules.add_perm("proposals.declare_inadmissible", is_staff_of)
rules.add_perm("proposals.merge", is_staff_of)
rules.add_perm("proposals.invite_expert", is_staff_of)
rules.add_perm("proposals.record_feasibility", is_staff_of)
rules.add_perm("proposals.open_voting", is_staff_of)
# Staff carry the outcome of the council's vote and of implementation into the proposal's life.
rules.add_perm("proposals.record_decision", is_staff_of)
rules.add_perm("proposals.start_implementation", is_staff_of)
rules.add_perm("proposals.complete", is_staff_of)
rules.add_perm("proposals.close_evaluation", is_staff_of)
rules.add_perm("proposals.withdraw", is_proposer)
rules.add_perm("proposals.revise", is_proposer)
rules.add_perm("proposals.post_opinion", is_expert_of & is_invited_expert)
# Photos and documents: the proposer (or the staff who entered it), and staff.
rules.add_perm("proposals.add_file", is_proposer | is_staff_of)

# --- Threads ----------------------------------------------------------------------------------


@rules.predicate
def is_thread_guest(user, thread) -> bool:
    if not user.is_authenticated:
        return False
    ids = getattr(thread, "_guest_ids", None)
    if ids is None:
        ids = thread._guest_ids = frozenset(thread.guests.values_list("pk", flat=True))
    return user.pk in ids


@rules.predicate
def is_banned_from_posting(user, thread) -> bool:
    from .models import PostingBan

    return (
        user.is_authenticated
        and PostingBan.objects.filter(community_id=thread.community_id, user=user)
        .filter(Q(until__isnull=True) | Q(until__gt=clock.now()))
        .exists()
    )


@rules.predicate
def thread_is_public(user, thread) -> bool:
    return thread.is_public


@rules.predicate
def thread_is_open(user, thread) -> bool:
    return thread.is_open


rules.add_perm(
    "council.read_thread", thread_is_public | is_resident_of | is_staff_of | is_thread_guest
)
rules.add_perm(
    "council.post_in_thread",
    thread_is_open
    & (is_resident_of | is_staff_of | (is_thread_guest & is_expert_of))
    & ~is_banned_from_posting,
)
rules.add_perm("council.post_official", thread_is_open & is_staff_of)
rules.add_perm(
    "council.report_message", rules.is_authenticated & (thread_is_public | is_resident_of)
)
# Moderation: the community's staff hide messages and bar people from posting.
rules.add_perm("council.hide_message", is_staff_of)
rules.add_perm("council.ban_from_posting", is_staff_of)
rules.add_perm("council.dismiss_report", is_staff_of)

# --- Voting -----------------------------------------------------------------------------------
# Ballots, rounds and meetings expose ``voter_ids`` (seated, non-recused members on the list
# copied at opening) so this module needs nothing of the voting app.


@rules.predicate
def is_on_voter_list(user, obj) -> bool:
    return user.is_authenticated and user.pk in getattr(obj, "voter_ids", ())


# The clerk (the community's staff): ballots, yearly rounds, and meetings, one name per action.
rules.add_perm("voting.see_clerk_tools", is_staff_of)
rules.add_perm("voting.open_ballot", is_staff_of)
rules.add_perm("voting.record_paper_vote", is_staff_of)
rules.add_perm("voting.record_hand_count", is_staff_of)
rules.add_perm("voting.close_early", is_staff_of)
rules.add_perm("voting.open_round", is_staff_of)
rules.add_perm("voting.import_round", is_staff_of)
rules.add_perm("voting.record_round_ballot", is_staff_of)
rules.add_perm("voting.schedule_meeting", is_staff_of)
rules.add_perm("voting.set_agenda", is_staff_of)
rules.add_perm("voting.run_meeting", is_staff_of)
rules.add_perm("voting.record_attendance", is_staff_of)
rules.add_perm("voting.keep_minutes", is_staff_of)
# Members of the council: vote, declare a conflict of interest, sign in to meetings.
rules.add_perm("voting.vote", is_council_member_of & is_on_voter_list)
rules.add_perm("voting.declare_recusal", is_council_member_of & ~is_proposer)
rules.add_perm("voting.sign_in", is_council_member_of)

# --- Disclosure -------------------------------------------------------------------------------
# The community's staff: disclosures, objections, progress, completion and evaluations.
rules.add_perm("disclosure.view_staff_queue", is_staff_of)
# The district admin reads everything but residents' private data: the queue too, without acting.
rules.add_perm("disclosure.read_staff_queue", is_staff_of | is_district_admin_of)
rules.add_perm("disclosure.view_drafts", is_staff_of)
rules.add_perm("disclosure.view_district_dashboard", is_district_admin_of)
rules.add_perm("disclosure.publish", is_staff_of)
rules.add_perm("disclosure.correct", is_staff_of)
rules.add_perm("disclosure.answer_objection", is_staff_of)
rules.add_perm("disclosure.post_progress", is_staff_of)
rules.add_perm("disclosure.import_progress", is_staff_of)
rules.add_perm("disclosure.record_completion", is_staff_of)
rules.add_perm("disclosure.enter_paper_evaluation", is_staff_of)
rules.add_perm("disclosure.close_evaluation_early", is_staff_of)
# Residents: object to a disclosure, evaluate a finished project.
rules.add_perm("disclosure.object", is_resident_of)
rules.add_perm("disclosure.evaluate", is_resident_of)
