"""Signing up, being confirmed, signing in and resetting a password."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council.models import EvidenceEvent, PrivateData, Role, RoleStatus, SubDistrict, User
from tests.conftest import signs_in
from tests.factories import CommunityFactory, GridFactory, SubDistrictFactory

pytestmark = pytest.mark.django_db


def signup_data(world, **changes):
    return {
        "display_name": "李小红",
        "email": "xiaohong@example.org",
        "password1": "Zhe-shi-mima-2026",
        "password2": "Zhe-shi-mima-2026",
        "community": world.a.pk,
        "grid": world.a_grid1.pk,
        "phone": "13612345678",
        "id_number": "11010519491231002x",
        "address": "东湖社区翠竹巷8号",
        "household_status": "non_registered",
        "consent": "on",
        **changes,
    }


def new_user():
    return User.objects.get(display_name="李小红")


def test_a_resident_signs_up_and_waits_for_confirmation(client, world):
    response = client.post(reverse("signup"), signup_data(world))
    assert response.status_code == 302
    user = new_user()
    residency = Role.objects.get(user=user)
    assert residency.status == RoleStatus.PENDING and residency.community == world.a
    data = PrivateData.objects.get(residency=residency)
    assert data.id_number == "11010519491231002X"
    assert data.consented_at is not None
    assert not user.has_perm("council.list_residents", world.a)
    page = client.get(response.url)
    assert "李小红" in page.content.decode()  # signed in at once
    assert user.username in page.content.decode()  # the username the system gave


def test_a_confirmed_resident_is_a_resident_of_that_community_only(client, world):
    client.post(reverse("signup"), signup_data(world))
    residency = Role.objects.get(user__display_name="李小红")
    from council.services import resident_confirm

    resident_confirm(actor=world.a_worker1, residency=residency)
    user = new_user()
    from council.rules import is_resident_of

    assert is_resident_of(user, world.a)
    assert not is_resident_of(user, world.b)


def test_sign_up_without_consent_is_refused_and_saves_nothing(client, world):
    data = signup_data(world)
    del data["consent"]
    response = client.post(reverse("signup"), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "consent" in response.context["form"].errors
    assert not User.objects.filter(display_name="李小红").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "1234"),
        ("id_number", "110105194912310021"),
        ("id_number", "11010519491231"),
        ("display_name", ""),
        ("display_name", "名" * 41),
        ("address", ""),
        ("community", "99999"),
        ("household_status", "martian"),
    ],
)
def test_bad_sign_up_input_is_refused_on_its_field(client, world, field, value):
    response = client.post(reverse("signup"), signup_data(world, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(display_name="李小红").exists()


def test_a_grid_of_another_community_is_refused(client, world):
    response = client.post(reverse("signup"), signup_data(world, grid=world.b_grid1.pk))
    assert "grid" in response.context["form"].errors


def test_errors_are_in_chinese_by_default(client, world):
    response = client.post(reverse("signup"), signup_data(world, id_number="110105194912310021"))
    assert "校验" in response.content.decode()


def test_errors_are_in_english_on_request(client, world):
    response = client.post(
        reverse("signup"),
        signup_data(world, id_number="110105194912310021"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "check character is wrong" in response.content.decode()


def test_sign_up_leaves_an_evidence_event_without_private_data(client, world):
    client.post(reverse("signup"), signup_data(world))
    residency = Role.objects.get(user__display_name="李小红")
    event = EvidenceEvent.objects.get(action="resident.signed_up", object_id=str(residency.pk))
    assert "13612345678" not in str(event.payload)


def test_sign_in_and_sign_out(client, world):
    response = client.post(
        reverse("login"), {"username": "a_staff", "password": "a-long-enough-password-42"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "a_staff"
    client.post(reverse("logout"))
    assert not client.get("/").context["user"].is_authenticated


def test_a_wrong_password_is_refused_with_a_message(client, world):
    response = client.post(reverse("login"), {"username": "a_staff", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_password_reset_by_email_lets_the_resident_choose_a_new_password(client, world):
    response = client.post(reverse("password_reset"), {"email": "a_resident@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []  # the minute scheduler sends it
    call_command("minutely", stdout=io.StringIO())
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Xin-de-mima-2026", "new_password2": "Xin-de-mima-2026"},
    )
    assert done.status_code == 302
    assert signs_in("a_resident", "Xin-de-mima-2026")


# --- Choosing one's community and grid among a city's --------------------------------------


def grid_options(html: str) -> list[str]:
    """The option labels of the page's (or the fragment's) grid select."""
    select = re.search(r'<select name="grid".*?</select>', html, re.S)
    assert select, html
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(0))


def test_the_grid_select_lists_only_the_chosen_communitys_grids(client, world):
    GridFactory(community=world.b, name="西区网格")
    first = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert grid_options(first) == ["(not sure / none)"]  # no community chosen yet

    chosen = client.get(reverse("signup"), {"community": world.b.pk}, HTTP_ACCEPT_LANGUAGE="en")
    html = chosen.content.decode()
    assert grid_options(html) == ["(not sure / none)", *sorted(g.name for g in world.b.grids.all())]
    assert f'<option value="{world.b.pk}" selected>' in html
    assert world.a_grid1.name not in grid_options(html)


def test_htmx_gets_the_grid_select_of_the_community_chosen(client, world):
    page = client.get(reverse("signup")).content.decode()
    community_select = re.search(r'<select name="community"[^>]*>', page).group(0)
    assert f'hx-get="{reverse("signup")}"' in community_select
    assert 'hx-target="#id_grid"' in community_select

    fragment = client.get(
        reverse("signup"), {"community": world.a.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.startswith('<select name="grid"') and 'id="id_grid"' in fragment
    assert grid_options(fragment)[1:] == sorted(g.name for g in world.a.grids.all())


def test_without_javascript_a_button_lists_the_grids_and_keeps_what_was_typed(client, world):
    page = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        '<noscript><p class="field"><button type="submit" class="secondary" name="list_grids"'
        in (page)
    )
    data = signup_data(world, list_grids="1")
    del data["grid"]
    response = client.post(reverse("signup"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert not User.objects.filter(display_name="李小红").exists()  # nothing signed up yet
    assert not response.context["form"].errors and 'class="error"' not in html
    assert grid_options(html)[1:] == sorted(g.name for g in world.a.grids.all())
    assert re.search(r'<select name="grid"[^>]*autofocus', html)  # the next step
    assert 'value="李小红"' in html and 'value="13612345678"' in html
    assert "Zhe-shi-mima-2026" not in html  # passwords are never sent back


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("zh-hans", "该网格不属于您所选的社区。"),
        ("en", "That grid is not in the community you chose."),
    ],
)
def test_a_grid_of_another_community_is_refused_with_the_reason(client, world, language, message):
    response = client.post(
        reverse("signup"), signup_data(world, grid=world.b_grid1.pk), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    assert response.context["form"].errors["grid"] == [message]
    assert message in response.content.decode()
    assert not User.objects.filter(display_name="李小红").exists()


def test_communities_are_grouped_by_district_and_sub_district_in_flat_queries(client, world):
    def sign_up_page():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("signup"), {"community": world.a.pk}).content.decode()
        return html, len(queries.captured_queries)

    _html, before = sign_up_page()
    street = SubDistrictFactory(district=world.district, name="桃源街道")
    CommunityFactory.create_batch(12, sub_district=street)
    CommunityFactory.create_batch(5)  # in districts of their own
    html, after = sign_up_page()
    assert after == before
    select = re.search(r'<select name="community".*?</select>', html, re.S).group(0)
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    labels = [label for label, _options in groups]
    streets = SubDistrict.objects.filter(communities__isnull=False).distinct().count()
    assert len(labels) == len(set(labels)) == streets  # each sub-district once
    own = f"{world.district.name} · {world.a.sub_district.name}"
    assert world.a.name in dict(groups)[own]
    assert dict(groups)[f"{world.district.name} · 桃源街道"].count("<option") == 12
