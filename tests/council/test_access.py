"""Role scoping: each right holds only where the role is held, and each denial looks like 404."""

import pytest
from django.test import Client
from django.urls import reverse

from council import services
from council.errors import InvalidMove
from council.models import EvidenceEvent, PrivateData, RoleKind, RoleStatus

pytestmark = pytest.mark.django_db


def resident_url(residency):
    return reverse("resident", args=[residency.community.slug, residency.pk])


# --- Reading a resident's private data ------------------------------------------------------


def test_grid_worker_reads_private_data_of_a_resident_in_their_own_grid(client, world):
    client.force_login(world.a_worker1)
    page = client.get(resident_url(world.a_resident))
    assert page.status_code == 200
    assert "13911112222" in page.content.decode()


def test_staff_read_private_data_with_the_id_number_masked(client, world):
    client.force_login(world.a_staff)
    text = client.get(resident_url(world.a_resident)).content.decode()
    assert "13911112222" in text
    assert "1101**********002X" in text
    assert "11010519491231002X" not in text


@pytest.mark.parametrize(
    "who",
    ["a_worker2", "b_worker", "b_staff", "admin", "a_expert", "a_member", "b_resident"],
)
def test_everyone_else_gets_404_for_private_data(client, world, who):
    client.force_login(world.user(who))
    assert client.get(resident_url(world.a_resident)).status_code == 404


def test_anonymous_gets_404_for_private_data(client, world):
    assert client.get(resident_url(world.a_resident)).status_code == 404


def test_a_missing_resident_and_a_forbidden_one_answer_the_same(client, world):
    client.force_login(world.b_worker)
    forbidden = client.get(resident_url(world.a_resident))
    missing = client.get(reverse("resident", args=[world.a.slug, 999999]))
    assert forbidden.status_code == missing.status_code == 404
    assert [t.name for t in forbidden.templates] == [t.name for t in missing.templates]
    assert world.a_resident.user.display_name not in forbidden.content.decode()


def test_private_data_under_the_wrong_community_url_is_404(client, world):
    client.force_login(world.a_worker1)
    url = reverse("resident", args=[world.b.slug, world.a_resident.pk])
    assert client.get(url).status_code == 404


# --- Editing it -----------------------------------------------------------------------------


def edit(client, residency, **changes):
    data = {
        "phone": "13911112222",
        "id_number": "",
        "address": "东湖社区幸福路1号",
        "household_status": "registered",
        **changes,
    }
    return client.post(resident_url(residency), data)


def test_grid_worker_edits_private_data_in_their_grid_and_evidence_names_only_the_field(
    client, world
):
    client.force_login(world.a_worker1)
    response = edit(client, world.a_resident, phone="13700001111")
    assert response.status_code == 302
    data = PrivateData.objects.get(residency=world.a_resident)
    assert data.phone == "13700001111"
    assert data.id_number == "11010519491231002X", "an empty ID field keeps the number on file"
    event = EvidenceEvent.objects.filter(action="private_data.changed").get()
    assert event.payload == {"fields": ["address", "phone"]}
    assert "13700001111" not in str(event.payload)


@pytest.mark.parametrize("who", ["a_staff", "a_worker2", "b_worker", "admin"])
def test_others_cannot_edit_private_data_and_nothing_changes(client, world, who):
    client.force_login(getattr(world, who))
    assert edit(client, world.a_resident, phone="13700001111").status_code == 404
    assert PrivateData.objects.get(residency=world.a_resident).phone == "13911112222"
    assert not EvidenceEvent.objects.filter(action="private_data.changed").exists()


def test_bad_private_data_is_refused_on_the_form_and_nothing_is_lost(client, world):
    client.force_login(world.a_worker1)
    response = edit(client, world.a_resident, phone="12345", id_number="110105194912310021")
    assert response.status_code == 200
    text = response.content.decode()
    assert "请输入" in text or "11-digit" in text or response.context["form"].errors["phone"]
    assert set(response.context["form"].errors) == {"phone", "id_number"}
    assert PrivateData.objects.get(residency=world.a_resident).phone == "13911112222"


# --- Lists and confirmation -----------------------------------------------------------------


def test_grid_worker_lists_only_residents_of_their_grid(client, world):
    client.force_login(world.a_worker1)
    residencies = client.get(reverse("residents", args=[world.a.slug])).context["residencies"]
    assert {r.user.username for r in residencies} == {"a_resident"}


def test_staff_list_every_resident_of_their_community_only(client, world):
    client.force_login(world.a_staff)
    residencies = client.get(reverse("residents", args=[world.a.slug])).context["residencies"]
    assert {r.user.username for r in residencies} == {"a_resident", "a_member"}


@pytest.mark.parametrize("who", ["b_staff", "b_worker", "a_resident", "a_expert", "admin"])
def test_resident_list_is_404_to_anyone_without_the_right(client, world, who):
    client.force_login(world.user(who))
    assert client.get(reverse("residents", args=[world.a.slug])).status_code == 404


def test_resident_list_is_404_to_anonymous(client, world):
    assert client.get(reverse("residents", args=[world.a.slug])).status_code == 404


def test_grid_worker_of_another_grid_cannot_confirm_a_sign_up(client, world):
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(world.a_worker2)
    url = reverse("resident_confirm", args=[world.a.slug, pending.pk])
    assert client.post(url).status_code == 404
    pending.refresh_from_db()
    assert pending.status == RoleStatus.PENDING


def test_staff_of_another_community_cannot_confirm_by_editing_the_url(client, world):
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(world.b_staff)
    assert (
        client.post(reverse("resident_confirm", args=[world.b.slug, pending.pk])).status_code == 404
    )
    assert (
        client.post(reverse("resident_confirm", args=[world.a.slug, pending.pk])).status_code == 404
    )
    pending.refresh_from_db()
    assert pending.status == RoleStatus.PENDING


def test_grid_worker_confirms_a_sign_up_in_their_grid_with_htmx_and_gets_the_row(client, world):
    pending = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(world.a_worker1)
    url = reverse("resident_confirm", args=[world.a.slug, pending.pk])
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith(f'<tr id="residency-{pending.pk}"')
    assert "<html" not in text
    pending.refresh_from_db()
    assert pending.status == RoleStatus.ACTIVE
    assert pending.confirmed_by == world.a_worker1
    event = EvidenceEvent.objects.get(action="resident.confirmed", object_id=str(pending.pk))
    assert event.actor_role == "grid_worker"


def test_confirming_twice_says_so_and_changes_nothing(client, world):
    pending = world.resident(world.a, None, "newcomer", confirm=False)
    client.force_login(world.a_staff)
    url = reverse("resident_confirm", args=[world.a.slug, pending.pk])
    client.post(url, {"grid": world.a_grid2.pk})
    response = client.post(url, {"grid": world.a_grid1.pk}, follow=True)
    pending.refresh_from_db()
    assert pending.grid == world.a_grid2
    assert (
        EvidenceEvent.objects.filter(action="resident.confirmed", object_id=str(pending.pk)).count()
        == 1
    )
    assert [m.level_tag for m in response.context["messages"]][-1] == "warning"


def test_staff_cannot_put_a_resident_in_another_communitys_grid(client, world):
    pending = world.resident(world.a, None, "newcomer", confirm=False)
    client.force_login(world.a_staff)
    url = reverse("resident_confirm", args=[world.a.slug, pending.pk])
    client.post(url, {"grid": world.b_grid1.pk})
    pending.refresh_from_db()
    assert pending.status == RoleStatus.PENDING and pending.grid is None


# --- Registering a resident who is not online -----------------------------------------------


def register(client, community, **changes):
    data = {
        "display_name": "王阿姨",
        "phone": "13812345678",
        "id_number": "",
        "address": "东湖社区桂园街3号",
        "household_status": "registered",
        **changes,
    }
    return client.post(reverse("resident_register", args=[community.slug]), data)


def test_staff_register_an_offline_resident_recorded_as_on_their_behalf(client, world):
    client.force_login(world.a_staff)
    response = register(client, world.a, grid=world.a_grid1.pk)
    assert response.status_code == 302
    data = PrivateData.objects.get(phone="13812345678")
    assert data.residency.entered_by == world.a_staff
    assert data.residency.status == RoleStatus.ACTIVE
    assert not data.residency.user.has_usable_password()
    assert EvidenceEvent.objects.filter(action="resident.registered_on_behalf").count() == 1
    listing = client.get(reverse("residents", args=[world.a.slug])).content.decode()
    assert "王阿姨" in listing


def test_grid_worker_registers_only_into_their_own_grid(client, world):
    client.force_login(world.a_worker1)
    response = register(client, world.a, grid=world.a_grid2.pk)
    assert response.status_code == 200
    assert "grid" in response.context["form"].errors
    assert not PrivateData.objects.filter(phone="13812345678").exists()
    assert register(client, world.a, grid=world.a_grid1.pk).status_code == 302


@pytest.mark.parametrize("who", ["b_staff", "a_expert", "admin"])
def test_others_cannot_register_residents(client, world, who):
    client.force_login(getattr(world, who))
    assert register(client, world.a, grid=world.a_grid1.pk).status_code == 404
    assert not PrivateData.objects.filter(phone="13812345678").exists()


# --- Nobody confirms their own sign-up -------------------------------------------------------


def official_with_a_pending_sign_up(world, kind):
    """Someone who signed up in community a and, before anyone confirmed it, became one of its
    staff or the grid worker of their own grid."""
    residency = world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    grid = world.a_grid1 if kind == RoleKind.GRID_WORKER else None
    role = services.role_assign(
        actor=None, user=residency.user, kind=kind, community=world.a, grid=grid
    )
    if role.status == RoleStatus.PENDING:
        services.role_confirm(actor=world.a_staff, role=role)
    return residency


@pytest.mark.parametrize("kind", [RoleKind.STAFF, RoleKind.GRID_WORKER])
def test_staff_or_a_grid_worker_cannot_confirm_their_own_sign_up(world, kind):
    residency = official_with_a_pending_sign_up(world, kind)
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    client.force_login(residency.user)
    confirm_url = reverse("resident_confirm", args=[world.a.slug, residency.pk])
    page = client.get(reverse("residents", args=[world.a.slug]))
    assert confirm_url not in page.content.decode()  # not offered…
    assert len(page.context["pending"]) == 0

    response = client.post(confirm_url, follow=True)  # …and refused when forged, with a message
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"]]
    assert "someone else" in message
    residency.refresh_from_db()
    assert residency.status == RoleStatus.PENDING and residency.confirmed_by is None
    with pytest.raises(InvalidMove):
        services.resident_confirm(actor=residency.user, residency=residency)
    assert not residency.user.has_perm("council.confirm_resident", residency)

    services.resident_confirm(actor=world.a_staff, residency=residency)  # a second person may
    residency.refresh_from_db()
    assert residency.status == RoleStatus.ACTIVE and residency.confirmed_by == world.a_staff


def test_the_work_queue_does_not_list_ones_own_sign_up(world):
    residency = official_with_a_pending_sign_up(world, RoleKind.STAFF)
    other = world.resident(world.a, world.a_grid2, "another", confirm=False)
    client = Client()
    client.force_login(residency.user)
    queue = client.get(reverse("staff_queue", args=[world.a.slug])).context["signups"]
    assert [r.pk for r in queue] == [other.pk]


def test_the_residents_list_shows_a_page_at_a_time_with_sign_ups_to_confirm_first(
    client, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.a_staff)
    url = reverse("residents", args=[world.a.slug])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(52):
        world.resident(world.a, world.a_grid1, f"paged{n:02d}", confirm=n != 51)
    with django_assert_max_num_queries(len(few)):
        first = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    rows = first.context["residencies"]
    assert len(rows) == 50 and rows[0].status == RoleStatus.PENDING
    assert [r.user.username for r in first.context["pending"]] == ["paged51"]
    assert "Page 1 of 2" in first.content.decode()
    last = client.get(url, {"page": "99"}, HTTP_ACCEPT_LANGUAGE="en")
    total = len(rows) + len(last.context["residencies"])
    assert total == world.a.roles.filter(kind=RoleKind.RESIDENT).exclude(status="ended").count()
    assert not {r.pk for r in rows} & {r.pk for r in last.context["residencies"]}
