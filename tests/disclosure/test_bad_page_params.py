"""Bad paging and sorting in a page's address (issue 16): a page number that is negative, huge
or not a number, an unknown sort or filter, on every listing a reader or staff member pages
through. Each answers with a page (the nearest one that exists, or the default order) or a
400 that says why: never a 500."""

import pytest
from django.urls import reverse

from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
BAD_PAGES = ["-1", "0", "99999999", "999999999999999999999999", "abc", "1.5", "%00"]


def _listings(world):
    """(who signs in, address) of every paged listing."""
    slug = world.a.slug
    return [
        (None, reverse("home")),
        (None, reverse("proposal_list", args=[slug])),
        (None, reverse("disclosure_index")),
        (None, reverse("search") + "?q=路灯"),
        (None, reverse("evidence")),
        (world.a_staff, reverse("residents", args=[slug])),
        (world.a_resident.user, reverse("notifications")),
    ]


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_bad_page_number_shows_a_page_never_an_error(client, world, page):
    for who, url in _listings(world):
        if who is not None:
            client.force_login(who)
        response = client.get(url, {"page": page}, **EN)
        assert response.status_code in (200, 400), (url, page, response.status_code)
        if response.status_code == 400:
            assert "Request not understood" in response.content.decode()
        client.logout()


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "bogus"},
        {"sort": "-pk"},
        {"stage": "nowhere"},
        {"project_type": "'; DROP TABLE x"},
        {"sub_kind": "x" * 5000},
        {"q": "x" * 5000},
    ],
)
def test_an_unknown_sort_or_filter_of_the_proposal_list_falls_back_to_the_default(
    client, world, params
):
    maker = ProposalMaker(world)
    for title in ("更换路灯", "加装扶手"):
        maker.make(Stage.CONSULTATION, title=title)
    response = client.get(reverse("proposal_list", args=[world.a.slug]), params, **EN)
    assert response.status_code == 200
    if "q" not in params:
        # The filter or sort is ignored: the list is as if it were not given.
        html = response.content.decode()
        assert "更换路灯" in html and "加装扶手" in html


@pytest.mark.parametrize("params", [{"community": "nowhere"}, {"year": "-5"}, {"kind": "bogus"}])
def test_an_unknown_filter_of_the_disclosure_index_is_a_page_or_a_clear_400(client, world, params):
    response = client.get(reverse("disclosure_index"), params, **EN)
    assert response.status_code in (200, 400)
