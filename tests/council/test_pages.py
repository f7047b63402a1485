"""Pages as a visitor meets them: language, security headers, htmx from our own files."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


def test_home_page_speaks_simplified_chinese_by_default(client, world):
    page = client.get("/")
    text = page.content.decode()
    assert page.status_code == 200
    assert page["Content-Language"] == "zh-hans"
    assert '<html lang="zh-CN">' in text
    assert "三议三公开" in text
    assert "东湖社区" in text and "西岭社区" in text


def test_home_page_speaks_english_on_request(client, world):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in text
    assert "How it works: three deliberations, three disclosures" in text


def test_the_language_switcher_changes_the_language_and_stays_on_the_page(client, world):
    community_url = reverse("community", args=[world.a.slug])
    response = client.post(reverse("set_language"), {"language": "en", "next": community_url})
    assert response.status_code == 302 and response.url == community_url
    assert '<html lang="en">' in client.get(community_url).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-CN">' in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [
        (None, "zh-CN"),  # the browser says nothing: Chinese
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr", "zh-CN"),  # a language the site does not have: Chinese, not English
        ("fr-FR,de;q=0.8", "zh-CN"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr,en;q=0.5", "en"),  # the browser's next choice the site has
    ],
)
def test_pages_follow_the_browsers_language_and_chinese_when_it_gives_none_the_site_has(
    client, world, accept_language, lang
):
    headers = {} if accept_language is None else {"HTTP_ACCEPT_LANGUAGE": accept_language}
    assert f'<html lang="{lang}">' in client.get("/", **headers).content.decode()


def test_the_language_chosen_on_the_switcher_wins_over_the_browsers(client, world):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-CN">' in page.content.decode()
    assert page["Content-Language"] == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in client.get("/").content.decode()


@pytest.mark.parametrize("path", ["/", "/evidence/", "/accounts/login/", "/accounts/signup/"])
def test_every_page_has_the_language_and_community_switchers(client, world, path):
    text = client.get(path).content.decode()
    assert 'name="language"' in text
    assert reverse("community", args=[world.a.slug]) in text


def test_scripts_carry_the_csp_nonce_and_come_from_our_static_files(client, world):
    page = client.get("/")
    csp = page["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script[^>]*>", page.content.decode())
    assert scripts, "htmx must be on the page"
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag
        assert 'src="/static/' in tag
    assert any("htmx-2" in tag for tag in scripts)
    assert any("hx-ws-2" in tag for tag in scripts)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp


def test_security_headers_are_set(client, world):
    page = client.get("/")
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"


def test_htmx_requests_carry_the_csrf_token(client, world):
    text = client.get("/").content.decode()
    assert re.search(r"""hx-headers='\{"X-CSRFToken": "[^"]+"\}'""", text)


def test_community_page_shows_caps_rules_and_seats_in_public(client, world):
    text = client.get(reverse("community", args=[world.a.slug])).content.decode()
    assert "¥500,000.00" in text and "¥200,000.00" in text
    assert world.a_member.user.display_name in text
    assert "非户籍居民代表" in text


def test_unknown_community_is_404_with_our_page(client, world):
    page = client.get("/c/nowhere/")
    assert page.status_code == 404
    assert "template_name" not in page.content.decode()


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_home_page_counts_each_communitys_residents_and_seats_once(client, world):
    cards = {c.name: c for c in client.get("/").context["communities"]}
    east = cards["东湖社区"]
    # a_resident and a_member are residents; a_member holds the one seat; two grids.
    assert (east.resident_count, east.member_count, east.grid_count) == (2, 1, 2)


def test_home_page_query_count_does_not_grow_with_communities(client, world):
    before = _queries(client, "/")
    for _ in range(5):
        community = CommunityFactory(sub_district=world.a.sub_district)
        world.resident(community, None, f"r{community.pk}", confirm=False)
    assert _queries(client, "/") == before


def test_resident_list_query_count_does_not_grow_with_residents(client, world):
    client.force_login(world.a_staff)
    path = reverse("residents", args=[world.a.slug])
    before = _queries(client, path)
    for i in range(6):
        world.resident(world.a, world.a_grid1, f"extra{i}", confirm=bool(i % 2))
    assert _queries(client, path) == before


def _header_menu(html: str) -> str:
    return html.split("<summary>Communities</summary>", 1)[1].split("</details>", 1)[0]


def test_in_a_city_the_header_lists_ones_own_communities_and_a_way_to_find_the_others(
    client, world
):
    from tests.factories import CommunityFactory

    for n in range(14):
        CommunityFactory(sub_district=world.a.sub_district, name=f"城市第{n}社区")
    visitor = _header_menu(client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "城市第" not in visitor and "Find any community" in visitor
    assert reverse("overview") in visitor
    client.force_login(world.a_resident.user)
    mine = _header_menu(client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert world.a.name in mine and world.b.name not in mine and "城市第" not in mine


def test_with_a_few_communities_the_header_lists_them_all(client, world):
    menu = _header_menu(client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert world.a.name in menu and world.b.name in menu and "Find any community" not in menu


def test_the_headers_communities_take_one_query_however_many_communities(
    world, django_assert_num_queries
):
    from council.rules import held_roles
    from council.selectors import community_switcher
    from tests.factories import CommunityFactory

    user = world.a_resident.user
    held_roles(user)  # read once per request, by the rules already
    with django_assert_num_queries(1):
        few = community_switcher(user)
    assert not few.more and few.communities[0] == world.a
    for n in range(14):
        CommunityFactory(sub_district=world.a.sub_district, name=f"城市第{n}社区")
    with django_assert_num_queries(1):
        many = community_switcher(user)
    assert many.more and many.communities == [world.a]
