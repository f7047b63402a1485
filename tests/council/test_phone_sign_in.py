"""A resident signs in with their mobile number as well as their username; a number belongs to
one resident of a district, and guessing by phone is stopped by the same lock as by username."""

import re
import threading
import time

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test import Client
from django.urls import reverse

from council import services
from council.models import EvidenceEvent, PrivateData, RoleKind, User
from council.signin import account_key
from tests.conftest import PASSWORD, signs_in
from tests.factories import UserFactory
from tests.hashers import CountingHasher

pytestmark = pytest.mark.django_db

A_RESIDENT_PHONE = "13911112222"  # world.a_resident's, on file


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def signed_in_as(response) -> str | None:
    user = response.wsgi_request.user
    return user.username if response.status_code == 302 and user.is_authenticated else None


# --- Signing in by phone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "a_resident",
        "13911112222",
        "+86 139 1111 2222",
        "139-1111-2222",
        "8613911112222",
        "+8613911112222",
        "0086 139 1111 2222",
        "１３９１１１１２２２２",  # full-width digits, as a Chinese keyboard types them
        "+８６ １３９ １１１１ ２２２２",
        "  139 1111 2222  ",
    ],
)
def test_a_resident_signs_in_with_their_username_or_their_phone_written_any_usual_way(world, typed):
    assert signed_in_as(sign_in(Client(), typed, PASSWORD)) == "a_resident"


def test_a_wrong_password_by_phone_does_not_sign_in(world):
    response = sign_in(Client(), "+86 139 1111 2222", "not-the-password")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_a_number_nobody_has_signs_nobody_in(world):
    assert not signs_in("13800000000", PASSWORD)


def test_the_sign_in_form_asks_for_username_or_mobile_phone(client, world):
    page = client.get(reverse("login")).content.decode()
    assert "用户名或手机号" in page
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Username or mobile phone" in english


def test_a_closed_account_or_an_ended_residency_no_longer_signs_in_by_phone(world):
    member_residency = world.a_member
    services.role_end(actor=world.a_staff, role=member_residency)
    assert not signs_in("13933334444", PASSWORD)
    assert signs_in("a_member", PASSWORD)  # the account itself is still there


def test_a_number_on_file_in_two_districts_signs_in_neither_and_the_usernames_still_work(world):
    world.resident(world.c, None, "c_resident", confirm=False, phone=A_RESIDENT_PHONE)
    assert not signs_in(A_RESIDENT_PHONE, PASSWORD)
    assert signs_in("a_resident", PASSWORD) and signs_in("c_resident", PASSWORD)


# --- The lock counts guesses by phone under the account -----------------------------------------


def test_wrong_passwords_by_phone_and_by_username_lock_the_same_account(world):
    client = Client()
    for typed in ("a_resident", "13911112222", "+86 139 1111 2222", "139-1111-2222"):
        sign_in(client, typed, "not-the-password")
    assert cache.get(account_key("a_resident")) == 4
    fifth = sign_in(client, "１３９１１１１２２２２", "not-the-password")
    assert fifth.status_code == 429
    for typed in ("a_resident", "8613911112222"):  # the right password, either way: refused
        response = sign_in(Client(), typed, PASSWORD)
        assert response.status_code == 429, typed
        assert "15 分钟" in response.content.decode()


def test_five_wrong_passwords_by_phone_lock_the_username_too(world):
    client = Client()
    for _ in range(5):
        sign_in(client, "+86 139 1111 2222", "not-the-password")
    assert sign_in(Client(), "a_resident", PASSWORD).status_code == 429


def test_unlocking_the_resident_lets_them_sign_in_by_phone_again(world):
    client = Client()
    for _ in range(5):
        sign_in(client, A_RESIDENT_PHONE, "not-the-password")
    services.sign_in_unlock(actor=world.a_worker1, user=world.a_resident.user)
    assert signs_in("+86 139 1111 2222", PASSWORD)


def test_a_right_password_by_phone_clears_the_accounts_count(world):
    client = Client()
    for _ in range(4):
        sign_in(client, "a_resident", "not-the-password")
    assert signed_in_as(sign_in(client, "139 1111 2222", PASSWORD)) == "a_resident"
    assert not cache.get(account_key("a_resident"))


def test_each_attempt_checks_one_password_whether_by_username_phone_or_nothing(world, settings):
    """A wrong password is checked once, by phone or not, existing account or not, so the time
    an answer takes says nothing (the ModelBackend after ours never checks it again)."""
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingHasher"]
    user = world.a_resident.user
    user.set_password(PASSWORD)
    user.save()
    for typed in ("a_resident", "+86 139 1111 2222", "13800000000", "nobody"):
        CountingHasher.start_counting()
        sign_in(Client(), typed, "not-the-password")
        assert CountingHasher.checks == 1, typed


# --- One number, one resident per district ------------------------------------------------------


def signup_data(world, **changes):
    return {
        "display_name": "李小红",
        "email": "",
        "password1": "Zhe-shi-mima-2026",
        "password2": "Zhe-shi-mima-2026",
        "community": world.b.pk,  # another community of a_resident's district
        "grid": "",
        "phone": "+86 139 1111 2222",  # a_resident's
        "address": "西岭社区翠竹巷8号",
        "household_status": "non_registered",
        "consent": "on",
        **changes,
    }


def test_signing_up_with_a_number_taken_in_the_district_is_refused_on_the_field(client, world):
    users = User.objects.count()
    response = client.post(reverse("signup"), signup_data(world))
    assert response.status_code == 200
    errors = response.context["form"].errors["phone"]
    assert errors == [
        "该手机号已在本区登记。如果是您的号码，请用它和您的密码直接登录；"
        "如果不是，请联系您的网格员或社区工作人员。"
    ]
    assert User.objects.count() == users, "nothing half-saved: no account without its residency"
    signed_up = EvidenceEvent.objects.filter(action="resident.signed_up")
    assert not signed_up.filter(actor__display_name="李小红").exists()


def test_signing_up_with_a_new_number_stores_it_as_eleven_digits(client, world):
    response = client.post(reverse("signup"), signup_data(world, phone="+86 136-1234-5678"))
    assert response.status_code == 302
    assert PrivateData.objects.get(residency__user__display_name="李小红").phone == "13612345678"


def test_the_same_number_in_another_district_is_accepted(client, world):
    response = client.post(reverse("signup"), signup_data(world, community=world.c.pk))
    assert response.status_code == 302


def test_a_string_that_is_no_mainland_mobile_number_is_refused_in_chinese(client, world):
    for typed in ("12345", "010-6552 8888", "+1 415 555 0100", "13911112222x"):
        response = client.post(reverse("signup"), signup_data(world, phone=typed))
        assert response.context["form"].errors["phone"] == [
            "请输入 11 位中国大陆手机号码，例如 13800138000。"
        ], typed


def edit(client, residency, **changes):
    data = {
        "phone": residency.private_data.phone,
        "id_number": "",
        "address": residency.private_data.address,
        "household_status": "registered",
        **changes,
    }
    return client.post(reverse("resident", args=[residency.community.slug, residency.pk]), data)


def test_a_grid_worker_cannot_give_a_resident_another_residents_number(client, world):
    client.force_login(world.a_worker2)  # a_member's grid worker
    response = edit(client, world.a_member, phone="139 1111 2222", address="东湖社区新地址1号")
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        "该手机号已在本区登记在另一位居民名下。请与居民核对号码，本次没有保存任何修改。"
    ]
    data = PrivateData.objects.get(residency=world.a_member)
    assert (data.phone, data.address) == ("13933334444", world.a_member.private_data.address)
    assert not EvidenceEvent.objects.filter(action="private_data.changed").exists()


def test_a_grid_worker_changes_a_number_written_any_way_and_it_signs_in(client, world):
    client.force_login(world.a_worker1)
    assert edit(client, world.a_resident, phone="+86 137-0000-1111").status_code == 302
    assert PrivateData.objects.get(residency=world.a_resident).phone == "13700001111"
    assert signs_in("13700001111", PASSWORD) and not signs_in(A_RESIDENT_PHONE, PASSWORD)


def test_registering_an_offline_resident_with_a_taken_number_saves_nothing(client, world):
    client.force_login(world.a_worker1)
    users = User.objects.count()
    response = client.post(
        reverse("resident_register", args=[world.a.slug]),
        {
            "display_name": "王阿姨",
            "grid": world.a_grid1.pk,
            "phone": "13955556666",  # b_resident's, in community b of the same district
            "id_number": "",
            "address": "东湖社区桂园街3号",
            "household_status": "registered",
        },
    )
    assert response.status_code == 200
    assert "该手机号已在本区登记" in response.context["form"].errors["phone"][0]
    assert User.objects.count() == users


def test_the_database_refuses_a_second_resident_with_the_number_in_the_district(world):
    taken = PrivateData.objects.get(residency=world.a_resident)
    other = PrivateData.objects.get(residency=world.b_resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        PrivateData.objects.filter(pk=other.pk).update(phone=taken.phone)


def test_numbers_shared_before_the_rule_keep_the_first_and_the_other_signs_in_once_corrected(
    client, world
):
    """The data migration: where residents of one district shared a number, the first on file
    signs in with it; the other keeps it on file until their grid worker corrects it."""
    from importlib import import_module

    migration = import_module("council.migrations.0016_private_data_phone_unique_in_district")
    PrivateData.objects.update(phone_district=None)
    PrivateData.objects.filter(residency=world.a_member).update(phone=A_RESIDENT_PHONE)
    migration.phone_districts_fill(apps, None)
    first, second = (
        PrivateData.objects.get(residency=world.a_resident),
        PrivateData.objects.get(residency=world.a_member),
    )
    assert first.phone_district_id == world.district.pk and second.phone_district_id is None
    assert PrivateData.objects.get(residency=world.b_resident).phone_district_id is not None
    assert signs_in(A_RESIDENT_PHONE, PASSWORD)  # a_resident's

    client.force_login(world.a_worker2)
    assert edit(client, world.a_member, phone="13933334444").status_code == 302
    second.refresh_from_db()
    assert second.phone_district_id == world.district.pk
    member = Client()
    assert signed_in_as(sign_in(member, "13933334444", PASSWORD)) == "a_member"


def test_a_resident_who_moved_out_frees_their_number(world):
    services.role_end(actor=world.a_staff, role=world.a_member)
    residency = world.resident(world.b, world.b_grid1, "newcomer", phone="13933334444")
    assert residency.private_data.phone_district_id == world.district.pk
    assert world.a_member.user.roles.filter(kind=RoleKind.RESIDENT).exists()


# --- The grid worker finds a resident by phone and gives them a new password --------------------


def find(client, community, phone):
    return client.post(reverse("resident_find", args=[community.slug]), {"phone": phone})


def main_part(html: str) -> str:
    """The page's own part, without the tokens that differ on every request."""
    main = re.search(r"<main.*</main>", html, re.DOTALL).group(0)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)


def test_the_grid_worker_finds_a_resident_of_their_grid_by_phone_written_any_way(client, world):
    client.force_login(world.a_worker1)
    listing = client.get(reverse("residents", args=[world.a.slug])).content.decode()
    assert reverse("resident_find", args=[world.a.slug]) in listing
    response = find(client, world.a, "+86 139-1111-2222")
    assert response.status_code == 200
    assert response.context["found"].residency == world.a_resident
    page = response.content.decode()
    assert "居民a_resident" in page and "a_resident" in page
    assert reverse("resident_password_reset", args=[world.a.slug, world.a_resident.pk]) in page
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache


@pytest.mark.parametrize(
    "phone",
    [
        "13933334444",  # a_member: the same community, another grid worker's grid
        "13955556666",  # b_resident: another community
        "13800000000",  # nobody's
    ],
)
def test_any_number_outside_their_grid_answers_not_found_like_a_missing_one(world, phone):
    answers = []
    for typed in (phone, "13800000000"):
        client = Client()
        client.force_login(world.a_worker1)
        response = find(client, world.a, typed)
        assert response.status_code == 200
        assert "found" not in response.context and response.context["not_found"]
        page = main_part(response.content.decode())
        assert phone not in page and "居民a_member" not in page, "the number is not shown back"
        answers.append(page)
    assert answers[0] == answers[1]


def test_staff_find_any_resident_of_their_community_but_not_of_another(client, world):
    client.force_login(world.a_staff)
    assert find(client, world.a, "13933334444").context["found"].residency == world.a_member
    assert find(client, world.a, "13955556666").context["not_found"]


@pytest.mark.parametrize("who", ["b_worker", "b_staff", "a_expert", "a_resident", "admin"])
def test_the_lookup_page_is_404_to_anyone_else(client, world, who):
    client.force_login(world.user(who))
    assert client.get(reverse("resident_find", args=[world.a.slug])).status_code == 404
    assert find(client, world.a, A_RESIDENT_PHONE).status_code == 404


def test_the_lookup_page_is_404_to_anonymous(client, world):
    assert find(client, world.a, A_RESIDENT_PHONE).status_code == 404


def test_a_lookup_that_is_not_a_mobile_number_says_so_in_chinese(client, world):
    client.force_login(world.a_worker1)
    response = find(client, world.a, "139111")
    assert response.context["form"].errors["phone"] == [
        "请输入 11 位中国大陆手机号码，例如 13800138000。"
    ]


def test_found_by_phone_the_grid_worker_resets_the_password_and_the_resident_signs_in_by_phone(
    client, world
):
    client.force_login(world.a_worker1)
    found = find(client, world.a, "139 1111 2222").context["found"]
    url = reverse("resident_password_reset", args=[world.a.slug, found.residency_id])
    response = client.post(url, {"confirm": "1"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = response.context["password"]
    page = response.content.decode()
    assert password in page and A_RESIDENT_PHONE not in page
    event = EvidenceEvent.objects.get(action="password.reset_by_staff")
    assert event.actor == world.a_worker1
    assert (event.object_id, event.payload) == (str(world.a_resident.user_id), {})
    assert password not in str(event.payload) and A_RESIDENT_PHONE not in str(event.payload)
    assert signs_in("+86 139 1111 2222", password) and not signs_in(A_RESIDENT_PHONE, PASSWORD)


def test_a_locked_resident_found_by_phone_is_unlocked_there(client, world):
    for _ in range(5):
        sign_in(Client(), A_RESIDENT_PHONE, "not-the-password")
    client.force_login(world.a_worker1)
    page = find(client, world.a, A_RESIDENT_PHONE).content.decode()
    unlock = reverse("resident_unlock", args=[world.a.slug, world.a_resident.pk])
    assert unlock in page
    client.post(unlock)
    assert EvidenceEvent.objects.filter(action="account.unlocked").count() == 1
    assert signs_in(A_RESIDENT_PHONE, PASSWORD)


def test_an_officials_account_found_by_phone_offers_no_reset(client, world):
    services.role_assign(
        actor=None, user=world.a_resident.user, kind=RoleKind.STAFF, community=world.b
    )
    client.force_login(world.a_worker1)
    response = find(client, world.a, A_RESIDENT_PHONE)
    assert not response.context["can_reset_password"]
    url = reverse("resident_password_reset", args=[world.a.slug, world.a_resident.pk])
    assert url not in response.content.decode()


def test_a_username_that_looks_like_a_phone_number_is_still_that_persons_username(world):
    UserFactory(username="13911112222")  # an account made by hand, before phone sign-in
    assert signed_in_as(sign_in(Client(), "13911112222", PASSWORD)) == "13911112222"
    assert signed_in_as(sign_in(Client(), "+86 139 1111 2222", PASSWORD)) == "a_resident"


def test_closing_ones_account_frees_ones_number(world):
    services.account_close(actor=world.a_member.user, user=world.a_member.user)
    residency = world.resident(world.a, world.a_grid2, "newcomer", phone="139-3333-4444")
    assert residency.private_data.phone == "13933334444"
    assert signs_in("13933334444", PASSWORD)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sign_ups_with_one_number_at_once_leave_one_and_tell_the_other(world):
    """The second sign-up checks before the first commits, so only the database's constraint
    can stop it: it is refused with the same message, and its account is not left behind."""
    first_saved, first_may_commit = threading.Event(), threading.Event()
    outcomes = {}

    def sign_up(name, *, hold):
        close_old_connections()
        try:
            with transaction.atomic():
                services.resident_sign_up(
                    username=name,
                    password=PASSWORD,
                    display_name=name,
                    email="",
                    community=world.b,
                    grid=None,
                    phone="13612345678",
                    id_number="",
                    address="西岭社区翠竹巷8号",
                    household_status="registered",
                    consent=True,
                )
                if hold:
                    first_saved.set()
                    first_may_commit.wait(timeout=10)
            outcomes[name] = "saved"
        except ValidationError as error:
            outcomes[name] = error.message_dict["phone"][0]
        finally:
            connection.close()

    first = threading.Thread(target=sign_up, args=("first",), kwargs={"hold": True})
    first.start()
    assert first_saved.wait(timeout=10)
    second = threading.Thread(target=sign_up, args=("second",), kwargs={"hold": False})
    second.start()
    time.sleep(0.5)  # the second has checked, found nothing committed, and waits on the index
    first_may_commit.set()
    first.join()
    second.join()
    assert outcomes["first"] == "saved"
    assert outcomes["second"].startswith("该手机号已在本区登记")  # the thread speaks Chinese
    assert not User.objects.filter(username="second").exists()
