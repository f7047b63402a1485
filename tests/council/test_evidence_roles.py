"""The role the public log names for each act: one rule (``council.evidence.acting_role``) for
every service — the role the person holds where the act is done, in the act's order of
preference; else "superuser" for the superuser; else nobody in particular."""

import pytest

from council import services, threads
from council.evidence import acting_role
from council.models import EvidenceEvent, RoleKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STAFF, WORKER, RESIDENT = RoleKind.STAFF, RoleKind.GRID_WORKER, RoleKind.RESIDENT
MEMBER, EXPERT, ADMIN = RoleKind.COUNCIL_MEMBER, RoleKind.EXPERT, RoleKind.DISTRICT_ADMIN


def recorded(action: str) -> str:
    """The role the log names for the last ``action``."""
    return EvidenceEvent.objects.filter(action=action).latest("id").actor_role


def test_a_role_counts_only_in_the_community_it_is_held_in(world):
    assert acting_role(world.a_staff, world.a, STAFF, WORKER) == STAFF
    assert acting_role(world.a_worker1, world.a, STAFF, WORKER) == WORKER
    assert acting_role(world.a_member.user, world.a, MEMBER, RESIDENT) == MEMBER
    assert acting_role(world.a_member.user, world.a, RESIDENT, MEMBER) == RESIDENT
    assert acting_role(world.a_staff, world.b, STAFF, WORKER) == ""
    assert acting_role(world.b_resident.user, world.a, RESIDENT) == ""


def test_a_grid_worker_acts_as_one_only_in_their_own_grid_when_the_act_concerns_a_resident(world):
    assert acting_role(world.a_worker1, world.a, WORKER, concerning=world.a_resident) == WORKER
    assert acting_role(world.a_worker2, world.a, WORKER, concerning=world.a_resident) == ""


def test_a_district_admin_counts_over_their_district_and_only_when_the_act_prefers_it(world):
    assert acting_role(world.admin, world.a, STAFF, ADMIN) == ADMIN
    assert acting_role(world.other_admin, world.a, STAFF, ADMIN) == ""
    assert acting_role(world.admin, None, STAFF, ADMIN) == ADMIN, "an act at the district level"
    assert acting_role(world.admin, world.a, STAFF, RESIDENT) == "", "reporting a message, say"


def test_the_superuser_the_system_and_a_visitor(world):
    superuser = UserFactory(username="root", is_superuser=True)
    assert acting_role(superuser, world.a, STAFF) == "superuser"
    assert acting_role(None, world.a, STAFF) == ""
    assert acting_role(world.a_resident.user, world.a) == "", "no role preferred"


def test_council_services_name_staff_grid_workers_and_residents_as_before(world):
    signed_up = world.resident(world.a, world.a_grid1, "new_one", confirm=False)
    assert recorded("resident.signed_up") == RESIDENT, "before anyone confirms the residency"
    services.resident_confirm(actor=world.a_worker1, residency=signed_up)
    assert recorded("resident.confirmed") == WORKER
    services.private_data_update(
        actor=world.a_worker1, private_data=signed_up.private_data, address="东湖路 9 号"
    )
    assert recorded("private_data.changed") == WORKER
    services.resident_register_offline(
        actor=world.a_staff, community=world.a, grid=world.a_grid2, display_name="王阿姨",
        phone="13800001111", id_number="", address="东湖路 1 号", household_status="registered",
    )  # fmt: skip
    assert recorded("resident.registered_on_behalf") == STAFF
    services.password_reset_by_staff(actor=world.a_worker1, user=world.a_resident.user)
    assert recorded("password.reset_by_staff") == WORKER
    services.password_reset_by_staff(actor=world.a_staff, user=world.a_resident.user)
    assert recorded("password.reset_by_staff") == STAFF


def test_roles_are_granted_and_ended_as_staff_or_district_admin(world):
    expert = services.role_assign(
        actor=world.a_staff, user=world.b_resident.user, kind=EXPERT, community=world.a
    )
    assert recorded("role.assigned") == STAFF
    services.role_end(actor=world.admin, role=expert)
    assert recorded("role.ended") == ADMIN
    services.role_assign(actor=world.admin, user=UserFactory(), kind=ADMIN, district=world.district)
    assert recorded("role.assigned") == ADMIN, "a role at the district level"
    services.role_assign(actor=None, user=UserFactory(), kind=EXPERT, community=world.a)
    assert recorded("role.assigned") == "", "set up from the command line"


def test_a_thread_names_the_role_one_speaks_in(world):
    thread = threads.thread_create(community=world.a, title="路灯", page_url="/x/")
    for person, role in [
        (world.a_staff, STAFF),
        (world.a_member.user, MEMBER),
        (world.a_resident.user, RESIDENT),
    ]:
        message = threads.message_post(actor=person, thread=thread, body="我来说两句")
        assert recorded("thread.message_posted") == role
        assert message.author_role == role
    threads.message_report(actor=world.admin, message_id=message.pk, reason="广告")
    assert recorded("thread.message_reported") == "", "a district admin reports as anyone"


def test_the_superuser_is_named_as_the_superuser_in_a_thread_too(world):
    """As in every other app: a thread once recorded them as nobody in particular."""
    thread = threads.thread_create(community=world.a, title="路灯", page_url="/x/")
    superuser = UserFactory(username="root", is_superuser=True)
    threads.message_post(actor=superuser, thread=thread, body="系统维护通知")
    assert recorded("thread.message_posted") == "superuser"
