"""Separation of duties: nobody grants themselves a role, a district admin never holds or grants
a role that reads residents' private data, and a new grid worker needs a second person of the
community — in the services, the admin and the database alike."""

import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.urls import reverse

from council import services
from council.errors import NotAllowed
from council.models import EvidenceEvent, Role, RoleKind, RoleStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add_role_in_admin(client, **fields):
    """Submit the admin's "add role" form as a person would."""
    data = {"seat_category": "", "term_ends": "", **fields}
    return client.post("/admin/council/role/add/", {k: v for k, v in data.items() if v is not None})


def add_grid_worker_in_admin(client, world, user_pk, grid=None):
    """The admin's "add role" form: ``user_pk`` a grid worker of ``grid`` (community a's first
    by default)."""
    grid = grid or world.a_grid1
    return add_role_in_admin(
        client, user=user_pk, kind=RoleKind.GRID_WORKER, community=world.a.pk, grid=grid.pk
    )


def grid_worker_assign(world, *, actor, user, grid=None):
    """``actor`` makes ``user`` a grid worker of ``grid`` (community a's first by default)
    through the service."""
    return services.role_assign(
        actor=actor,
        user=user,
        kind=RoleKind.GRID_WORKER,
        community=world.a,
        grid=grid or world.a_grid1,
    )


def grid_worker_create(world, user, **fields):
    """A grid worker's role of community a's first grid, written to the table directly (past
    the service and the admin)."""
    return Role.objects.create(
        user=user, kind=RoleKind.GRID_WORKER, community=world.a, grid=world.a_grid1, **fields
    )


def refusals():
    return list(EvidenceEvent.objects.filter(action="role.refused").order_by("seq", "id"))


def second_staff(world):
    """Another member of community a's staff (the world has one)."""
    user = UserFactory(username="a_staff2")
    services.role_assign(actor=None, user=user, kind=RoleKind.STAFF, community=world.a)
    return user


def can_read_private_data(user, residency):
    return user.has_perm("council.view_privatedata", residency.private_data)


# --- The reproduction: a district admin gives itself a grid worker's role ----------------------


def confirm_in_admin_by_a_second_person(client, role, colleague):
    """The admin's "confirm" action on ``role``: refused to whoever is signed in on ``client``
    (who granted it), done by ``colleague``."""
    confirm = {"action": "confirm_roles", "_selected_action": [role.pk]}
    client.post("/admin/council/role/", confirm)
    assert Role.objects.get(pk=role.pk).status == RoleStatus.PENDING
    client.force_login(colleague)
    client.post("/admin/council/role/", confirm)
    role.refresh_from_db()
    assert role.status == RoleStatus.ACTIVE and role.confirmed_by == colleague


def test_a_district_admin_adding_itself_a_grid_worker_role_in_the_admin_is_refused(client, world):
    client.force_login(world.admin)
    response = add_grid_worker_in_admin(client, world, world.admin.pk)
    assert response.status_code == 200
    assert "任何人都不能给自己分配角色" in response.content.decode()  # on the form, in Chinese
    assert not Role.objects.filter(user=world.admin, kind=RoleKind.GRID_WORKER).exists()
    assert not can_read_private_data(world.admin, world.a_resident)
    [event] = refusals()
    assert event.actor == world.admin and event.actor_role == RoleKind.DISTRICT_ADMIN
    assert (event.object_type, event.object_id) == ("council.user", str(world.admin.pk))
    assert event.payload == {"kind": RoleKind.GRID_WORKER, "reason": "own_role"}


def test_a_district_admin_cannot_give_a_grid_worker_role_to_anyone_in_the_admin(client, world):
    client.force_login(world.admin)
    response = add_grid_worker_in_admin(client, world, world.a_resident.user.pk)
    assert response.status_code == 200
    assert not Role.objects.filter(user=world.a_resident.user, kind=RoleKind.GRID_WORKER).exists()
    assert [e.payload["reason"] for e in refusals()] == ["granter_is_district_admin"]


def test_a_district_admin_adding_itself_a_staff_role_in_the_service_is_refused(world):
    with pytest.raises(NotAllowed, match="Nobody may grant a role to themselves"):
        services.role_assign(
            actor=world.admin, user=world.admin, kind=RoleKind.STAFF, community=world.a
        )
    assert not world.admin.has_perm("council.view_privatedata", world.a_resident.private_data)
    assert [e.payload["reason"] for e in refusals()] == ["own_role"]


@pytest.mark.parametrize("kind", [RoleKind.STAFF, RoleKind.GRID_WORKER])
def test_a_district_admin_grants_no_role_that_reads_private_data(world, kind):
    with pytest.raises(NotAllowed, match="district admin may not grant"):
        services.role_assign(
            actor=world.admin,
            user=world.a_resident.user,
            kind=kind,
            community=world.a,
            grid=world.a_grid1,
        )
    assert not Role.objects.filter(user=world.a_resident.user, kind=kind).exists()


def test_a_district_admin_still_grants_roles_that_read_nothing_private(world):
    role = services.role_assign(
        actor=world.admin, user=world.a_resident.user, kind=RoleKind.EXPERT, community=world.a
    )
    assert role.status == RoleStatus.ACTIVE and role.granted_by == world.admin


@pytest.mark.parametrize("actor", [None, "a_staff"])
def test_nobody_makes_a_district_admin_staff_or_a_grid_worker(world, actor):
    with pytest.raises(NotAllowed, match="is a district admin"):
        grid_worker_assign(world, actor=world.user(actor) if actor else None, user=world.admin)
    assert refusals()[-1].payload["reason"] == "holder_is_district_admin"


def test_staff_or_a_grid_worker_cannot_become_a_district_admin(world):
    for holder in (world.a_staff, world.a_worker1):
        with pytest.raises(NotAllowed, match="cannot become a district admin"):
            services.role_assign(
                actor=world.other_admin,
                user=holder,
                kind=RoleKind.DISTRICT_ADMIN,
                district=world.other_district,
            )
    assert not Role.objects.filter(kind=RoleKind.DISTRICT_ADMIN, user=world.a_staff).exists()


def test_staff_grant_themselves_nothing(world):
    with pytest.raises(NotAllowed, match="themselves"):
        grid_worker_assign(world, actor=world.a_staff, user=world.a_staff)


# --- A new grid worker: a second person of the community confirms ------------------------------


def test_a_new_grid_worker_reads_nothing_until_a_second_member_of_staff_confirms(world):
    colleague = second_staff(world)
    worker = UserFactory(username="new_worker")
    role = grid_worker_assign(world, actor=world.a_staff, user=worker)
    assert role.status == RoleStatus.PENDING and role.granted_by == world.a_staff
    assert not can_read_private_data(worker, world.a_resident)

    with pytest.raises(NotAllowed, match="Someone other than who granted"):
        services.role_confirm(actor=world.a_staff, role=role)
    for outsider in (world.b_staff, world.admin, world.a_worker1):
        with pytest.raises(NotAllowed):
            services.role_confirm(actor=outsider, role=role)
    assert Role.objects.get(pk=role.pk).status == RoleStatus.PENDING
    assert [e.payload["reason"] for e in refusals()][0] == "own_grant"

    services.role_confirm(actor=colleague, role=role)
    role.refresh_from_db()
    assert role.status == RoleStatus.ACTIVE
    assert (role.granted_by, role.confirmed_by) == (world.a_staff, colleague)
    worker = type(worker).objects.get(pk=worker.pk)  # roles are cached per user object
    assert can_read_private_data(worker, world.a_resident)
    event = EvidenceEvent.objects.get(action="role.confirmed", object_id=str(role.pk))
    assert event.actor == colleague and event.payload == {"kind": RoleKind.GRID_WORKER}


def test_a_grid_worker_cannot_confirm_their_own_role(world):
    colleague = second_staff(world)
    role = grid_worker_assign(world, actor=world.a_staff, user=colleague, grid=world.a_grid2)
    with pytest.raises(NotAllowed, match="of their own"):
        services.role_confirm(actor=colleague, role=role)


def test_staff_confirm_a_new_grid_worker_in_the_admin_and_the_granter_cannot(client, world):
    colleague = second_staff(world)
    client.force_login(world.a_staff)
    response = add_grid_worker_in_admin(client, world, world.a_resident.user.pk, grid=world.a_grid2)
    assert response.status_code == 302
    role = Role.objects.get(user=world.a_resident.user, kind=RoleKind.GRID_WORKER)
    assert role.status == RoleStatus.PENDING and role.granted_by == world.a_staff
    added = EvidenceEvent.objects.get(action="role.assigned", object_id=str(role.pk))
    assert added.actor == world.a_staff and added.payload["status"] == "pending"

    confirm_in_admin_by_a_second_person(client, role, colleague)


def test_the_admin_does_not_let_a_pending_role_be_switched_on_by_editing_it(client, world):
    colleague = second_staff(world)
    role = grid_worker_assign(world, actor=world.a_staff, user=world.a_resident.user)
    client.force_login(colleague)
    client.post(
        f"/admin/council/role/{role.pk}/change/",
        {"status": "active", "kind": RoleKind.STAFF, "seat_category": "", "term_ends": ""},
    )
    role.refresh_from_db()
    assert (role.status, role.kind) == (RoleStatus.PENDING, RoleKind.GRID_WORKER)


def test_ending_a_role_in_the_admin_goes_through_the_service(client, world):
    client.force_login(world.a_staff)
    role = Role.objects.get(user=world.a_expert, kind=RoleKind.EXPERT)
    client.post("/admin/council/role/", {"action": "end_roles", "_selected_action": [role.pk]})
    role.refresh_from_db()
    assert role.status == RoleStatus.ENDED
    ended = EvidenceEvent.objects.get(action="role.ended", object_id=str(role.pk))
    assert ended.actor == world.a_staff


def test_the_residents_page_of_a_pending_grid_worker_answers_404(client, world):
    colleague = second_staff(world)
    worker = UserFactory(username="new_worker")
    grid_worker_assign(world, actor=colleague, user=worker)
    client.force_login(worker)
    assert client.get(reverse("residents", args=[world.a.slug])).status_code == 404
    url = reverse("resident", args=[world.a.slug, world.a_resident.pk])
    assert client.get(url).status_code == 404


# --- The database refuses what bypasses the service --------------------------------------------


def refused_by_the_database(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_the_database_refuses_a_district_admin_with_a_grid_worker_role(world):
    refused_by_the_database(
        lambda: grid_worker_create(
            world,
            world.admin,
            status=RoleStatus.ACTIVE,
            granted_by=world.a_staff,
            confirmed_by=world.b_staff,
        )
    )
    refused_by_the_database(
        lambda: Role.objects.create(
            user=world.admin, kind=RoleKind.STAFF, status=RoleStatus.ACTIVE, community=world.b
        )
    )


def test_the_database_refuses_making_staff_a_district_admin(world):
    refused_by_the_database(
        lambda: Role.objects.create(
            user=world.a_staff,
            kind=RoleKind.DISTRICT_ADMIN,
            status=RoleStatus.ACTIVE,
            district=world.district,
        )
    )
    # …also by switching on a pending or ended role, or by changing a role's kind.
    pending = Role.objects.create(
        user=world.a_staff,
        kind=RoleKind.DISTRICT_ADMIN,
        status=RoleStatus.PENDING,
        district=world.other_district,
    )
    refused_by_the_database(
        lambda: Role.objects.filter(pk=pending.pk).update(status=RoleStatus.ACTIVE)
    )
    expert = Role.objects.get(user=world.a_expert, kind=RoleKind.EXPERT)
    Role.objects.create(
        user=world.a_expert,
        kind=RoleKind.DISTRICT_ADMIN,
        status=RoleStatus.ACTIVE,
        district=world.district,
    )
    refused_by_the_database(lambda: Role.objects.filter(pk=expert.pk).update(kind=RoleKind.STAFF))


def test_the_database_refuses_a_role_granted_or_confirmed_by_its_holder(world):
    resident = world.a_resident.user
    refused_by_the_database(
        lambda: Role.objects.create(
            user=resident, kind=RoleKind.EXPERT, community=world.a, granted_by=resident
        )
    )
    refused_by_the_database(
        lambda: Role.objects.create(
            user=resident, kind=RoleKind.EXPERT, community=world.a, confirmed_by=resident
        )
    )


def test_the_database_refuses_an_active_grid_worker_without_a_second_person(world):
    resident = world.a_resident.user
    for confirmed_by in (None, world.a_staff):
        refused_by_the_database(
            lambda confirmed_by=confirmed_by: grid_worker_create(
                world,
                resident,
                status=RoleStatus.ACTIVE,
                granted_by=world.a_staff,
                confirmed_by=confirmed_by,
            )
        )
    pending = grid_worker_create(
        world, resident, status=RoleStatus.PENDING, granted_by=world.a_staff
    )
    refused_by_the_database(
        lambda: Role.objects.filter(pk=pending.pk).update(status=RoleStatus.ACTIVE)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_granting_one_person_admin_and_staff_at_once_leaves_one_of_the_two(world):
    """Two transactions at once, each alone within the rules: the row lock of the trigger makes
    the second see the first's role (without it both would commit)."""
    person = world.a_resident.user
    barrier = threading.Barrier(2)
    outcomes = []

    def grant(kind, where):
        close_old_connections()
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                Role.objects.create(user=person, kind=kind, status=RoleStatus.ACTIVE, **where)
            outcomes.append(kind)
        except IntegrityError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=grant, args=(RoleKind.DISTRICT_ADMIN, {"district": world.district})
        ),
        threading.Thread(target=grant, args=(RoleKind.STAFF, {"community": world.b})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("refused") == 1
