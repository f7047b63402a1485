"""The Django admin is scoped too: staff and district admins see and change only their own."""

import pytest

from council.models import Council, EvidenceEvent, Role, RoleKind

pytestmark = pytest.mark.django_db


def post_council_rules(client, council, **changes):
    """Submit the council's admin form as a person would, with some rules changed."""
    data = {
        "name": council.name,
        "quorum_numerator": council.quorum_numerator,
        "quorum_denominator": council.quorum_denominator,
        "threshold": council.threshold,
        "secrecy": council.secrecy,
        "publicity_days": council.publicity_days,
        **changes,
    }
    return client.post(f"/admin/council/council/{council.pk}/change/", data)


def test_residents_and_experts_cannot_enter_the_admin(client, world):
    for user in (world.a_resident.user, world.a_expert):
        client.force_login(user)
        assert client.get("/admin/").status_code == 302


def test_staff_see_only_their_own_councils_rules(client, world):
    client.force_login(world.a_staff)
    page = client.get("/admin/council/council/")
    assert page.status_code == 200
    names = {c.name for c in page.context["cl"].result_list}
    assert names == {world.a.council.name}


def test_staff_edit_their_councils_rules(client, world):
    client.force_login(world.a_staff)
    council = world.a.council
    response = post_council_rules(
        client,
        council,
        quorum_numerator=3,
        quorum_denominator=4,
        threshold="majority_of_cast",
        secrecy="secret",
        publicity_days=7,
    )
    assert response.status_code == 302, response.context["adminform"].errors
    event = EvidenceEvent.objects.get(action="council.changed")
    assert event.actor == world.a_staff and event.actor_role == "staff"
    assert event.payload == {
        "fields": [
            "publicity_days",
            "quorum_denominator",
            "quorum_numerator",
            "secrecy",
            "threshold",
        ]
    }
    council.refresh_from_db()
    assert (council.quorum_numerator, council.quorum_denominator, council.secrecy) == (
        3,
        4,
        "secret",
    )


def test_staff_of_a_cannot_open_or_change_bs_council(client, world):
    client.force_login(world.a_staff)
    council_b = world.b.council
    url = f"/admin/council/council/{council_b.pk}/change/"
    assert client.get(url).status_code == 302  # the admin's "does not exist" redirect
    post_council_rules(client, council_b, name="改名", publicity_days=1)
    council_b.refresh_from_db()
    assert council_b.name != "改名" and council_b.publicity_days == 5


def test_staff_role_form_offers_only_their_community(client, world):
    client.force_login(world.a_staff)
    page = client.get("/admin/council/role/add/")
    assert page.status_code == 200
    choices = page.context["adminform"].form.fields["community"].queryset
    assert list(choices) == [world.a]
    grids = page.context["adminform"].form.fields["grid"].queryset
    assert set(grids) == {world.a_grid1, world.a_grid2}


def test_staff_cannot_add_a_role_in_another_community_by_a_forged_post(client, world):
    client.force_login(world.a_staff)
    before = Role.objects.count()
    client.post(
        "/admin/council/role/add/",
        {
            "user": world.a_resident.user.pk,
            "kind": RoleKind.EXPERT,
            "status": "active",
            "community": world.b.pk,
            "seat_category": "",
        },
    )
    assert Role.objects.count() == before


def listed_communities(client):
    page = client.get("/admin/council/community/")
    return {c.pk for c in page.context["cl"].result_list}


def test_staff_do_not_see_communities_or_evidence_of_others(client, world):
    client.force_login(world.a_staff)
    assert listed_communities(client) == {world.a.pk}
    assert client.get(f"/admin/council/community/{world.b.pk}/change/").status_code == 302


def test_district_admin_sees_the_communities_of_their_district_only(client, world):
    client.force_login(world.admin)
    assert listed_communities(client) == {world.a.pk, world.b.pk}
    client.force_login(world.other_admin)
    assert listed_communities(client) == {world.c.pk}
    assert client.get(f"/admin/council/community/{world.a.pk}/change/").status_code == 302


def test_district_admin_changes_caps_in_their_district(client, world):
    client.force_login(world.admin)
    community = world.a
    url = f"/admin/council/community/{community.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "sub_district": community.sub_district_id,
            "cap_goods": "300000.00",
            "grids-TOTAL_FORMS": 0,
            "grids-INITIAL_FORMS": 0,
            "collection_opens": community.collection_opens.isoformat(),
            "collection_closes": community.collection_closes.isoformat(),
        }
    )
    data.pop("id", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].errors
    community.refresh_from_db()
    assert str(community.cap_goods) == "300000.00"
    event = EvidenceEvent.objects.get(action="community.changed")
    assert event.payload == {"fields": ["cap_goods"]} and event.actor_role == "district_admin"


def test_no_one_but_the_superuser_reads_users_in_the_admin(client, world):
    client.force_login(world.admin)
    assert client.get("/admin/council/user/").status_code == 403


def test_private_data_is_not_in_the_admin(client, world):
    client.force_login(world.admin)
    assert client.get("/admin/council/privatedata/").status_code == 404


def test_council_rules_reject_an_impossible_quorum(client, world):
    client.force_login(world.a_staff)
    council = world.a.council
    response = post_council_rules(client, council, quorum_numerator=5, quorum_denominator=3)
    assert response.status_code == 200
    assert Council.objects.get(pk=council.pk).quorum_numerator == 2


def post_community_with_grids(client, community, grids: list[tuple[int | None, str]]):
    """Submit the community's admin page unchanged but for its grids: ``(id, name)`` for each
    row, ``None`` for a new one."""
    url = f"/admin/council/community/{community.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "id"}
    data.update(
        {
            "sub_district": community.sub_district_id,
            "collection_opens": community.collection_opens.isoformat(),
            "collection_closes": community.collection_closes.isoformat(),
            "grids-TOTAL_FORMS": len(grids),
            "grids-INITIAL_FORMS": sum(pk is not None for pk, _name in grids),
        }
    )
    for i, (pk, name) in enumerate(grids):
        data |= {f"grids-{i}-id": pk or "", f"grids-{i}-community": community.pk}
        data[f"grids-{i}-name"] = name
    return client.post(url, data)


def test_grids_added_or_renamed_on_the_communitys_page_are_in_the_evidence_log(client, world):
    client.force_login(world.admin)
    response = post_community_with_grids(
        client,
        world.a,
        [
            (world.a_grid1.pk, "幸福路网格"),
            (world.a_grid2.pk, world.a_grid2.name),
            (None, "新网格"),
        ],
    )
    assert response.status_code == 302, response.context["adminform"].errors
    assert set(world.a.grids.values_list("name", flat=True)) == {
        "幸福路网格",
        world.a_grid2.name,
        "新网格",
    }
    changed = EvidenceEvent.objects.get(action="grid.changed")
    assert changed.object_id == str(world.a_grid1.pk) and changed.payload == {"fields": ["name"]}
    created = EvidenceEvent.objects.get(action="grid.created")
    assert created.object_id == str(world.a.grids.get(name="新网格").pk)
    for event in (changed, created):
        assert event.actor == world.admin and event.actor_role == "district_admin"
        assert event.community == world.a


def test_staff_see_their_communitys_grids_but_change_them_nowhere(client, world):
    client.force_login(world.a_staff)
    page = client.get(f"/admin/council/community/{world.a.pk}/change/")
    assert world.a_grid1.name in page.content.decode()
    post_community_with_grids(client, world.a, [(world.a_grid1.pk, "改名")])
    world.a_grid1.refresh_from_db()
    assert world.a_grid1.name != "改名"
    assert not EvidenceEvent.objects.filter(action__startswith="grid.").exists()
