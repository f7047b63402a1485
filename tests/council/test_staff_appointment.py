"""A new member of staff needs a second person, as a new grid worker does: one member of staff
cannot appoint anyone alone, not even by way of a second account of their own."""

import pytest
from django.db import IntegrityError, transaction

from council import services
from council.errors import NotAllowed
from council.models import EvidenceEvent, Role, RoleKind, RoleStatus, User
from tests.council.test_separation_of_duties import confirm_in_admin_by_a_second_person
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)  # roles are cached per user object


def second_staff(world):
    """Another member of community a's staff, set up from the command line (no granter)."""
    user = UserFactory(username="a_staff2")
    services.role_assign(actor=None, user=user, kind=RoleKind.STAFF, community=world.a)
    return user


def staff_grant(world, actor, user):
    return services.role_assign(actor=actor, user=user, kind=RoleKind.STAFF, community=world.a)


def is_staff(user, community):
    return fresh(user).has_perm("council.staff_community", community)


# --- The reproduction: staff make a second account of theirs staff, then a grid worker ---------


def test_one_member_of_staff_cannot_appoint_a_grid_worker_with_a_second_account(world):
    second_account = world.resident(world.a, world.a_grid1, "a_staff_too").user
    role = staff_grant(world, world.a_staff, second_account)
    assert role.status == RoleStatus.PENDING and role.granted_by == world.a_staff
    assert not is_staff(second_account, world.a)

    worker = services.role_assign(
        actor=world.a_staff,
        user=world.b_resident.user,
        kind=RoleKind.GRID_WORKER,
        community=world.a,
        grid=world.a_grid1,
    )
    with pytest.raises(NotAllowed):
        services.role_confirm(actor=fresh(second_account), role=worker)
    with pytest.raises(NotAllowed, match="Someone other than who granted"):
        services.role_confirm(actor=world.a_staff, role=role)
    with pytest.raises(NotAllowed, match="of their own"):
        services.role_confirm(actor=fresh(second_account), role=role)
    assert Role.objects.get(pk=worker.pk).status == RoleStatus.PENDING
    assert Role.objects.get(pk=role.pk).status == RoleStatus.PENDING


def test_a_second_member_of_staff_confirms_a_new_colleague(world):
    colleague = second_staff(world)
    newcomer = UserFactory(username="new_staff")
    role = staff_grant(world, world.a_staff, newcomer)
    added = EvidenceEvent.objects.get(action="role.assigned", object_id=str(role.pk))
    assert added.payload["status"] == RoleStatus.PENDING

    services.role_confirm(actor=colleague, role=role)
    role.refresh_from_db()
    assert role.status == RoleStatus.ACTIVE
    assert (role.granted_by, role.confirmed_by) == (world.a_staff, colleague)
    assert is_staff(newcomer, world.a) and not is_staff(newcomer, world.b)


def test_staff_of_another_community_cannot_confirm_a_new_colleague(world):
    role = staff_grant(world, world.a_staff, UserFactory(username="new_staff"))
    for outsider in (world.b_staff, world.admin, world.a_worker1):
        with pytest.raises(NotAllowed):
            services.role_confirm(actor=outsider, role=role)
    assert Role.objects.get(pk=role.pk).status == RoleStatus.PENDING


# --- The superuser and setup from the command line bootstrap a community's staff -------------


def test_the_first_staff_are_set_up_from_the_command_line_at_once(world):
    role = services.role_assign(
        actor=None, user=UserFactory(), kind=RoleKind.STAFF, community=world.c
    )
    assert role.status == RoleStatus.ACTIVE and role.granted_by is None


def test_a_staff_role_the_superuser_grants_is_active_at_once_and_says_who(world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    newcomer = UserFactory(username="new_staff")
    role = staff_grant(world, root, newcomer)
    assert role.status == RoleStatus.ACTIVE
    assert (role.granted_by, role.confirmed_by) == (None, root)  # set up, vouched by root
    assert is_staff(newcomer, world.a)
    event = EvidenceEvent.objects.get(action="role.assigned", object_id=str(role.pk))
    assert event.actor == root and event.actor_role == "superuser"


def test_the_superuser_confirms_a_colleague_of_a_lone_member_of_staff(world):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    role = staff_grant(world, world.a_staff, UserFactory(username="new_staff"))  # a has one
    services.role_confirm(actor=root, role=role)
    role.refresh_from_db()
    assert role.status == RoleStatus.ACTIVE and role.confirmed_by == root


# --- In the admin -------------------------------------------------------------------------------


def test_staff_add_a_colleague_in_the_admin_and_another_confirms_it(client, world):
    colleague = second_staff(world)
    newcomer = UserFactory(username="new_staff")
    client.force_login(world.a_staff)
    data = {"user": newcomer.pk, "kind": RoleKind.STAFF, "community": world.a.pk}
    response = client.post("/admin/council/role/add/", {**data, "seat_category": ""})
    assert response.status_code == 302
    role = Role.objects.get(user=newcomer, kind=RoleKind.STAFF)
    assert role.status == RoleStatus.PENDING and role.granted_by == world.a_staff
    confirm_in_admin_by_a_second_person(client, role, colleague)


# --- The database refuses what bypasses the service ------------------------------------------


def refused_by_the_database(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_the_database_refuses_an_active_staff_role_without_a_second_person(world):
    newcomer = UserFactory(username="new_staff")
    here = {"user": newcomer, "kind": RoleKind.STAFF, "community": world.a}
    for confirmed_by in (None, world.a_staff):
        refused_by_the_database(
            lambda confirmed_by=confirmed_by: Role.objects.create(
                status=RoleStatus.ACTIVE,
                granted_by=world.a_staff,
                confirmed_by=confirmed_by,
                **here,
            )
        )
    pending = Role.objects.create(status=RoleStatus.PENDING, granted_by=world.a_staff, **here)
    refused_by_the_database(
        lambda: Role.objects.filter(pk=pending.pk).update(status=RoleStatus.ACTIVE)
    )
    Role.objects.filter(pk=pending.pk).update(
        status=RoleStatus.ACTIVE, confirmed_by=world.b_staff
    )  # a second person: allowed (which one may is the service's business)
