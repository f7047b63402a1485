"""Signing in cannot be guessed: wrong passwords lock the account and the address (django-axes
on the shared cache), the lockout is said on the form, staff or the grid worker unlock it, and
neither reset requests nor sign-up tell whether an account exists."""

import io
import os
import re
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from council import services
from council.errors import NotAllowed
from council.models import EvidenceEvent, RoleKind, User
from council.signin import account_key, client_ip
from tests.conftest import PASSWORD, signs_in
from tests.hashers import CountingHasher

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def wrong(client, username, times, **extra):
    for _ in range(times):
        sign_in(client, username, "not-the-password", **extra)


def form_errors(response):
    return list(response.context["form"].non_field_errors())


# --- The reproduction: 40 wrong passwords, then the right one ------------------------------------


def test_forty_wrong_passwords_then_the_right_one_is_refused(client, world):
    wrong(client, "a_resident", 40)
    response = sign_in(client, "a_resident", PASSWORD)
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in client.session
    text = response.content.decode()
    assert "15 分钟" in text and "网格员" in text and "社区工作人员" in text  # Chinese by default


def test_the_lockout_reads_the_same_whether_or_not_the_account_exists(world):
    answers = []
    for username in ("a_resident", "nobody-is-called-this"):
        client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_X_FORWARDED_FOR=f"203.0.113.{len(answers)}")
        wrong(client, username, 4)
        fifth = sign_in(client, username, "not-the-password")
        sixth = sign_in(client, username, PASSWORD)
        answers.append(
            (fifth.status_code, form_errors(fifth), sixth.status_code, form_errors(sixth))
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 429
    assert "paused for 15 minutes" in answers[0][1][0]


def test_the_lockout_ends_with_its_time_and_locked_attempts_do_not_extend_it(client, world):
    wrong(client, "a_resident", 5)
    wrong(client, "a_resident", 10)  # refused while locked: not counted
    key = account_key("a_resident")
    assert cache.get(key) == 5
    cache.delete(key)  # what the cache does when the 15 minutes are over
    assert sign_in(client, "a_resident", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_the_accounts_count(world):
    for _ in range(2):
        client = Client()
        wrong(client, "a_resident", 4)
        assert sign_in(client, "a_resident", PASSWORD).status_code == 302


def test_wrong_passwords_from_one_address_lock_that_address_for_every_account(world, settings):
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    client = Client()
    for n in range(settings.SIGNIN_ADDRESS_FAILURES):
        sign_in(client, f"guess-{n}", "not-the-password", **attacker)  # never 5 per account
    assert sign_in(Client(), "a_staff", PASSWORD, **attacker).status_code == 429
    assert (
        sign_in(Client(), "a_staff", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code
        == 302
    )


def test_the_admin_sign_in_is_throttled_too(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    data = {"username": "a_staff", "password": "not-the-password", "next": "/admin/"}
    for _ in range(5):
        client.post("/admin/login/", data)
    response = client.post("/admin/login/", {**data, "password": PASSWORD})
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.content.decode()
    assert sign_in(Client(), "a_staff", PASSWORD).status_code == 429  # the same lock


# --- The client's address comes from our proxy only ----------------------------------------------


def test_the_address_is_the_one_our_proxy_wrote_last_in_x_forwarded_for():
    factory = RequestFactory()
    behind_proxy = factory.get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert client_ip(behind_proxy) == "203.0.113.9"


def test_a_client_that_is_not_our_proxy_cannot_choose_its_address():
    factory = RequestFactory()
    direct = factory.get("/", REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(direct) == "198.51.100.20"
    garbage = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(garbage) == "127.0.0.1"


def test_a_username_that_looks_like_an_address_does_not_lock_that_address(world, settings):
    client = Client(HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(settings.SIGNIN_ADDRESS_FAILURES):
        sign_in(client, "203.0.113.50", "not-the-password")
    victim = sign_in(Client(), "a_staff", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert victim.status_code == 302


# --- Unlocking: the grid worker or staff, from the resident's page -------------------------------


def unlock(actor, residency):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(actor)
    url = reverse("resident_unlock", args=[residency.community.slug, residency.pk])
    return client.post(url)


def test_an_unlock_by_the_grid_worker_lets_the_resident_sign_in_again(client, world):
    residency = world.a_resident
    wrong(client, "a_resident", 5)
    assert not signs_in("a_resident", PASSWORD)

    worker = Client(HTTP_ACCEPT_LANGUAGE="en")
    worker.force_login(world.a_worker1)
    page = worker.get(reverse("resident", args=[world.a.slug, residency.pk])).content.decode()
    assert "Unlock sign-in" in page
    response = unlock(world.a_worker1, residency)
    assert response.status_code == 302
    assert signs_in("a_resident", PASSWORD)

    event = EvidenceEvent.objects.get(action="account.unlocked")
    assert event.actor == world.a_worker1 and event.actor_role == "grid_worker"
    assert (event.object_type, event.object_id) == ("council.user", str(residency.user_id))
    assert (event.object_id, event.payload) == (str(residency.user_id), {})


def test_staff_of_the_community_may_unlock_too(client, world):
    wrong(client, "a_member", 5)
    assert unlock(world.a_staff, world.a_member).status_code == 302
    assert signs_in("a_member", PASSWORD)


@pytest.mark.parametrize("who", ["b_staff", "a_worker2", "admin", "a_member"])
def test_anyone_else_gets_404_and_the_account_stays_locked(client, world, who):
    wrong(client, "a_resident", 5)
    assert unlock(world.user(who), world.a_resident).status_code == 404
    assert not signs_in("a_resident", PASSWORD)
    assert not EvidenceEvent.objects.filter(action="account.unlocked").exists()


def test_the_unlock_button_is_shown_only_while_the_account_is_locked(client, world):
    url = reverse("resident", args=[world.a.slug, world.a_resident.pk])
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(world.a_staff)
    assert "Unlock sign-in" not in staff.get(url).content.decode()
    wrong(client, "a_resident", 5)
    assert "Unlock sign-in" in staff.get(url).content.decode()


# --- Password reset requests ---------------------------------------------------------------------


def reset(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_reset_requests_are_throttled_per_email_whether_or_not_an_account_has_it(world):
    answers = {}
    for n, email in enumerate(["a_resident@example.org", "nobody@example.org"]):
        mail.outbox.clear()
        client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_X_FORWARDED_FOR=f"203.0.113.{20 + n}")
        answers[email] = [reset(client, email).status_code for _ in range(5)]
        call_command("minutely", stdout=io.StringIO())  # sends what was asked for
        if email == "a_resident@example.org":
            assert len(mail.outbox) == 3  # the fourth and fifth sent nothing
    assert answers["a_resident@example.org"] == answers["nobody@example.org"]
    assert answers["nobody@example.org"] == [302, 302, 302, 429, 429]


def test_a_throttled_reset_says_so_on_the_form(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(3):
        reset(client, "A_Resident@example.org ")
    response = reset(client, "a_resident@example.org")
    assert response.status_code == 429
    assert "Too many requests for a new password" in response.content.decode()


def test_reset_requests_are_throttled_per_address(world, settings):
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.30")
    statuses = [
        reset(client, f"someone{n}@example.org").status_code
        for n in range(settings.PASSWORD_RESETS_PER_ADDRESS + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {302}
    other = Client(HTTP_X_FORWARDED_FOR="203.0.113.31")
    assert reset(other, "someone-else@example.org").status_code == 302


# --- Sign-up reveals nothing ---------------------------------------------------------------------


def signup_data(world, **changes):
    return {
        "display_name": "李小红",
        "email": "",
        "password1": "Zhe-shi-mima-2026",
        "password2": "Zhe-shi-mima-2026",
        "community": world.a.pk,
        "grid": world.a_grid1.pk,
        "phone": "13612345678",
        "address": "东湖社区翠竹巷8号",
        "household_status": "non_registered",
        "consent": "on",
        **changes,
    }


def test_sign_up_with_a_taken_name_gets_the_same_answer_as_with_a_free_one(world):
    answers = []
    for name in ("a_staff", "nobody-has-this-name"):
        phone = f"1361234567{len(answers)}"  # a number is one resident's: two people sign up
        response = Client().post(reverse("signup"), signup_data(world, username=name, phone=phone))
        answers.append((response.status_code, response.get("Location")))
    assert answers[0] == answers[1] == (302, reverse("welcome"))
    given = User.objects.filter(display_name="李小红").values_list("username", flat=True)
    assert len(given) == 2 and all(re.fullmatch(r"[2-9]\d{7}", name) for name in given)
    assert User.objects.get(username="a_staff").display_name != "李小红"


def test_the_welcome_page_and_my_personal_data_show_the_username_to_sign_in_with(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    welcome = client.post(reverse("signup"), signup_data(world), follow=True)
    user = User.objects.get(display_name="李小红")
    text = welcome.content.decode()
    assert welcome.redirect_chain[-1][0] == reverse("welcome")
    assert user.username in text and "Write it down" in text
    assert user.username in client.get(reverse("personal_data")).content.decode()
    client.post(reverse("logout"))
    assert signs_in(user.username, "Zhe-shi-mima-2026")


# --- Across processes: the counts live in Redis --------------------------------------------------


@pytest.mark.redis
def test_wrong_passwords_counted_by_another_process_lock_the_account_here(client, world):
    wrong(client, "a_resident", 3)  # counted by this process
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from django.contrib.auth.signals import user_login_failed
        from django.test import RequestFactory

        for _ in range(2):  # what django.contrib.auth.authenticate() sends on a wrong password
            request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="198.51.100.9")
            user_login_failed.send(
                sender="another-process", credentials={"username": "a_resident"}, request=request
            )
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    response = sign_in(client, "a_resident", PASSWORD)
    assert response.status_code == 429


# --- Attempts sent at the same moment are counted before any password is checked -----------------


def burst(attempts):
    """Send every (username, password, address) sign-in at the same moment, from threads of
    their own; return the status codes and how many passwords the server checked."""
    start = threading.Barrier(len(attempts))

    def attempt(args):
        username, password, address = args
        client = Client(raise_request_exception=False)
        start.wait(timeout=30)
        try:
            return sign_in(client, username, password, HTTP_X_FORWARDED_FOR=address).status_code
        finally:
            connection.close()

    CountingHasher.start_counting()
    with ThreadPoolExecutor(len(attempts)) as pool:
        codes = list(pool.map(attempt, attempts))
    return codes, CountingHasher.checks


@pytest.fixture
def counted_passwords(settings):
    settings.PASSWORD_HASHERS = [
        "tests.hashers.CountingHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


@pytest.mark.django_db(transaction=True)
def test_twenty_wrong_passwords_sent_at_once_to_one_account_get_five_checked(
    world, settings, counted_passwords
):
    user = world.a_resident.user
    user.set_password(PASSWORD)
    user.save()
    codes, checked = burst(
        [("a_resident", f"guess-{n}", f"203.0.113.{100 + n}") for n in range(20)]
    )
    assert checked == settings.SIGNIN_ACCOUNT_FAILURES
    assert codes.count(429) >= 20 - settings.SIGNIN_ACCOUNT_FAILURES + 1
    assert sign_in(Client(), "a_resident", PASSWORD).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_sent_at_once_from_one_address_are_checked_up_to_its_limit(
    world, settings, counted_passwords
):
    settings.SIGNIN_ADDRESS_FAILURES = 5
    codes, checked = burst([(f"guess-{n}", "not-the-password", "203.0.113.77") for n in range(20)])
    assert checked == settings.SIGNIN_ADDRESS_FAILURES
    assert (
        sign_in(Client(), "a_staff", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.77").status_code
        == 429
    )


def test_signing_in_many_times_from_one_address_never_locks_it(world, settings):
    settings.SIGNIN_ADDRESS_FAILURES = 3
    office = {"HTTP_X_FORWARDED_FOR": "203.0.113.90"}
    for _ in range(6):
        assert signs_in("a_resident", PASSWORD, **office)
    sign_in(Client(), "a_staff", "not-the-password", **office)
    assert signs_in("a_staff", PASSWORD, **office)


# --- IPv6: a /64 is one address ----------------------------------------------------------------


def test_wrong_passwords_from_one_ipv6_network_lock_the_whole_slash_64(world, settings):
    for n in range(settings.SIGNIN_ADDRESS_FAILURES):  # a new address of the /64 each time
        sign_in(
            Client(), f"guess-{n}", "not-the-password", HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n:x}"
        )
    same_network = {"HTTP_X_FORWARDED_FOR": "2001:db8:1:2:ffff:ffff:ffff:1"}
    assert sign_in(Client(), "a_staff", PASSWORD, **same_network).status_code == 429
    assert signs_in("a_staff", PASSWORD, HTTP_X_FORWARDED_FOR="2001:db8:1:3::1")
    call_command("axes_reset_ip", "2001:db8:1:2::abcd", stdout=io.StringIO())  # any of the /64
    assert signs_in("a_staff", PASSWORD, **same_network)


def test_ipv4_addresses_are_still_counted_one_by_one(world, settings):
    for n in range(settings.SIGNIN_ADDRESS_FAILURES):
        sign_in(Client(), f"guess-{n}", "not-the-password", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert signs_in("a_staff", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.2")


def test_reset_requests_from_one_ipv6_network_are_counted_together(world, settings):
    statuses = [
        reset(
            Client(HTTP_X_FORWARDED_FOR=f"2001:db8:5:6::{n + 1:x}"), f"someone{n}@example.org"
        ).status_code
        for n in range(settings.PASSWORD_RESETS_PER_ADDRESS + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {302}


# --- Checking one's password once signed in counts as an attempt ---------------------------------


def signed_in_as(username, **headers):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **headers)
    client.force_login(User.objects.get(username=username))
    return client


def change_password(client, old):
    new = "a-brand-new-password-77"
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_a_stolen_session_cannot_guess_the_password_on_the_change_password_form(world):
    thief = signed_in_as("a_resident")
    for _ in range(4):
        assert change_password(thief, "not-the-password").status_code == 200
    assert change_password(thief, "not-the-password").status_code == 429  # the fifth locks
    response = change_password(thief, PASSWORD)
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.content.decode()
    assert User.objects.get(username="a_resident").check_password(PASSWORD)  # unchanged
    assert not signs_in("a_resident", PASSWORD)  # the same count as the sign-in form's


def test_a_stolen_session_cannot_guess_the_password_on_the_close_account_form(world):
    thief = signed_in_as("a_resident")
    data = {"confirm": "on"}
    for expected in (400, 400, 400, 400, 429):  # the fifth locks
        response = thief.post(reverse("account_close"), {**data, "password": "not-the-password"})
        assert response.status_code == expected
    response = thief.post(reverse("account_close"), {**data, "password": PASSWORD})
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.content.decode()
    assert User.objects.get(pk=world.a_resident.user_id).closed_at is None


def test_the_right_password_on_the_change_form_clears_the_accounts_count(world):
    wrong(Client(), "a_resident", 4)
    assert change_password(signed_in_as("a_resident"), PASSWORD).status_code == 302
    wrong(Client(), "a_resident", 4)
    assert signs_in("a_resident", "a-brand-new-password-77")


def test_the_admins_change_password_page_leads_to_the_throttled_one(world):
    response = signed_in_as("a_staff").get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == reverse("password_change")


# --- Officials' accounts are not unlocked from a resident's page ----------------------------------


@pytest.mark.parametrize("kind", [RoleKind.STAFF, RoleKind.EXPERT])
@pytest.mark.parametrize("who", ["a_worker1", "a_staff"])
def test_an_officials_sign_in_is_not_unlocked_by_the_grid_worker_or_staff(world, who, kind):
    """Else a grid worker could lock a staff member's account by guessing, unlock it, and
    guess on without end: the same rule as for a password reset."""
    services.role_assign(actor=None, user=world.a_resident.user, kind=kind, community=world.b)
    wrong(Client(), "a_resident", 5)
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(world.user(who))
    url = reverse("resident", args=[world.a.slug, world.a_resident.pk])
    assert "Unlock sign-in" not in page.get(url).content.decode()
    assert unlock(world.user(who), world.a_resident).status_code == 404
    with pytest.raises(NotAllowed):
        services.sign_in_unlock(actor=world.user(who), user=world.a_resident.user)
    assert not signs_in("a_resident", PASSWORD)
    assert not EvidenceEvent.objects.filter(action="account.unlocked").exists()
