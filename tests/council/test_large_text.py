"""长辈版 (large text): the header's switch works without JavaScript, a visitor's browser
keeps the choice, and a signed-in person's account keeps it for every browser."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from council import services
from council.display import COOKIE
from council.errors import NotAllowed

PASSWORD = "a-long-enough-password-42"


def _large(response) -> bool:
    return 'class="large-text"' in response.content.decode().split("<head>")[0]


def _switch(client, value: str, next_url: str = "/"):
    return client.post(reverse("large_text"), {"large_text": value, "next": next_url})


def test_every_page_has_the_switch_and_it_says_whether_it_is_on(client, db):
    page = client.get("/").content.decode()
    assert f'action="{reverse("large_text")}"' in page
    assert 'aria-pressed="false"' in page
    assert not _large(client.get("/"))


def test_a_visitor_turns_it_on_and_their_browser_remembers(client, db):
    response = _switch(client, "on", "/c/nowhere/?page=2")
    assert response.status_code == 302 and response.url == "/c/nowhere/?page=2"
    assert response.cookies[COOKIE].value == "1"
    assert response.cookies[COOKIE]["httponly"]
    assert _large(client.get("/"))
    assert 'aria-pressed="true"' in client.get("/").content.decode()
    # Another browser is not affected.
    assert not _large(Client().get("/"))
    # Off again: the cookie goes.
    response = _switch(client, "off")
    assert response.cookies[COOKIE].value == ""
    assert not _large(client.get("/"))


def test_the_switch_never_sends_anyone_off_the_site(client, db):
    for away in ["https://example.org/", "//example.org/", "javascript:alert(1)"]:
        response = _switch(client, "on", away)
        assert response.status_code == 302 and response.url == reverse("home")


def test_the_switch_only_takes_a_post(client, db):
    assert client.get(reverse("large_text")).status_code == 405


def test_a_signed_in_persons_choice_follows_them_to_another_browser(world):
    user = world.a_resident.user
    phone = Client()
    phone.force_login(user)
    _switch(phone, "on")
    user.refresh_from_db()
    assert user.large_text is True
    # A new browser, signed in through the form: 长辈版 at once, and its cookie set.
    other = Client()
    response = other.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "1"
    assert _large(other.get("/"))
    # Turned off there, it is off on the phone too.
    _switch(other, "off")
    assert not _large(phone.get("/"))


def test_a_visitor_who_signs_in_keeps_the_large_text_they_chose(world):
    user = world.a_resident.user
    browser = Client()
    _switch(browser, "on")
    browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    user.refresh_from_db()
    assert user.large_text is True
    assert _large(browser.get("/"))


def test_signing_in_with_it_off_clears_a_browsers_cookie_only_when_the_account_has_it_off(world):
    user = world.a_resident.user
    browser = Client()
    response = browser.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.cookies[COOKIE].value == ""
    assert not _large(browser.get("/"))


def test_the_service_needs_a_signed_in_person(world):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed):
        services.large_text_set(user=AnonymousUser(), on=True)
    user = services.large_text_set(user=world.a_resident.user, on=True)
    user.refresh_from_db()
    assert user.large_text is True


def test_the_choice_is_in_the_personal_data_download(client, world):
    user = world.a_resident.user
    client.force_login(user)
    _switch(client, "on")
    export = client.get(reverse("personal_data_download")).json()
    assert export["account"]["large_text"] is True
