"""Nonsense in a URL or a query string — 4,301 nines, a number past the database's 64-bit
integers, a superscript digit — gets a page, a 404 or a 400, never a 500: in every route of
the four apps, for a visitor and for staff."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import URLResolver, get_resolver

from council.params import DB_INT_MAX, IdChoiceField, whole_number
from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker

pytestmark = pytest.mark.django_db

NONSENSE = [
    "9" * 4301,  # past Python's int() digit limit
    str(DB_INT_MAX + 1),  # past PostgreSQL's bigint and SQLite's INTEGER
    "99999999999999999999",
    "²",  # str.isdigit() says yes, int() says no
    "-1",
    "1e400",
    "0x10",
    " 7",
]


def routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern)


def paths_with_ids(slug: str, value: str):
    for route in routes():
        if route.startswith("admin/") or not re.search(r"<(id|int):", route):
            continue
        path = re.sub(r"<(?:id|int):\w+>", value, route).replace("<slug:slug>", slug)
        if "<" not in path:
            yield "/" + path


def test_every_route_with_an_id_exists():
    # The audit below reaches every route taking an id (a route with <int:…> would escape it).
    everything = list(routes())
    assert sum("<id:" in route for route in everything) >= 40
    assert not [route for route in everything if "<int:" in route and "admin/" not in route]


@pytest.mark.parametrize("value", NONSENSE[:4])
def test_an_id_out_of_range_in_any_route_is_a_404_not_a_500(world, value):
    failures = []
    for who in (None, world.a_staff):
        client = Client(raise_request_exception=False)
        if who is not None:
            client.force_login(who)
        for path in paths_with_ids(world.a.slug, value):
            for method in (client.get, client.post):
                status = method(path).status_code
                if status >= 500:
                    failures.append((method.__name__, path[:80], status))
    assert not failures


QUERIES = [
    "/evidence/?before={}",
    "/notifications/?page={}",
    "/c/{slug}/proposals/?page={}",
    "/disclosures/?page={}&year={}",
    "/c/{slug}/proposals/{pk}/revisions/?a={}&b={}",
    "/c/{slug}/proposals/{pk}/?reply={}",
    "/c/{slug}/proposals/{pk}/ballot/new/?meeting={}",
]


@pytest.mark.parametrize("value", NONSENSE)
def test_nonsense_in_a_query_string_gets_a_page(world, value):
    proposal = ProposalMaker(world).make(Stage.VOTING)
    client = Client(raise_request_exception=False)
    client.force_login(world.a_staff)
    for query in QUERIES:
        path = query.replace("{slug}", world.a.slug).replace("{pk}", str(proposal.pk))
        response = client.get(path.replace("{}", value))
        assert response.status_code in (200, 302, 400, 404), (path, response.status_code)


def test_the_evidence_log_ignores_a_before_it_cannot_read(world, client):
    newest = client.get("/evidence/").context["events"]
    for value in NONSENSE:
        page = client.get("/evidence/", {"before": value})
        assert page.status_code == 200
        assert page.context["events"] == newest


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", 42),
        (42, 42),
        ("0", 0),
        (str(DB_INT_MAX), None),  # 19 digits: refused before it is read
        ("999999999999999999", 999_999_999_999_999_999),
        (True, None),
        (4.0, None),
        ("٣", None),
        ("", None),
        (None, None),
        ([1], None),
        (-1, None),
    ],
)
def test_whole_number_reads_ascii_digits_in_range_only(value, expected):
    assert whole_number(value) == expected


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling",
    [
        lambda pk: f" {pk}",
        lambda pk: f"{pk}\n",
        lambda pk: f"+{pk}",
        lambda pk: f"{pk}.0",
        lambda pk: f"0{pk}" + "0" * 18,
        lambda pk: str(pk).translate(FULL_WIDTH),
        lambda pk: f"{pk}\x00",
    ],
)
def test_an_id_choice_takes_the_id_as_ascii_digits_only(django_user_model, spelling):
    user = django_user_model.objects.create(username="someone")
    field = IdChoiceField(queryset=django_user_model.objects.all(), required=False)
    assert field.clean(str(user.pk)) == user
    assert field.clean("") is None
    with pytest.raises(ValidationError) as refused:
        field.clean(spelling(user.pk))
    assert refused.value.code == "invalid_choice"
