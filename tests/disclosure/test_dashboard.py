"""The district admin's dashboard (issue 14): every community of the district with its
proposals by stage, the year's money and what is overdue — in a fixed number of queries — and
the community pages it leads to, which the district admin may read."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from disclosure.dashboard import district_dashboard
from disclosure.models import Disclosure
from tests.factories import CommunityFactory
from voting.models import Envelope
from voting.services import meeting_schedule

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(world):
    return reverse("district_dashboard", args=[world.district.pk])


def test_the_dashboard_counts_stages_money_and_overdue_per_community(client, projects, world):
    working = projects.in_progress()  # ¥11,800 approved, starts in 6 days
    projects.progress(working, 40, "4000.00")
    projects.council.proposal()  # one more in voting
    Envelope.objects.create(community=world.b, year=clock.today().year, amount=Decimal("500000"))
    board = district_dashboard(world.district)
    client.force_login(world.admin)
    page = client.get(_url(world), **EN).content.decode()
    a, b = (next(x for x in board.lines if x.community == c) for c in (world.a, world.b))
    assert world.c not in [x.community for x in board.lines]  # another district
    assert a.stages == {"in_progress": 1, "voting": 1}
    assert (a.envelope, a.approved, a.spent) == (
        Decimal("2000000"),
        Decimal("11800"),
        Decimal("4000"),
    )
    assert (b.envelope, b.approved, b.overdue, b.proposals) == (Decimal("500000"), 0, 0, 0)
    assert board.totals["envelope"] == Decimal("2500000")
    assert "¥2,000,000" in page and "¥11,800" in page and "¥4,000" in page
    assert reverse("staff_queue", args=[world.b.slug]) in page
    assert a.overdue == 0
    with clock.travel(dt.timedelta(days=21)):  # started 15 days before, no update since
        a = district_dashboard(world.district).lines[
            [x.community for x in board.lines].index(world.a)
        ]
    assert a.progress_owed == 1 and a.overdue == 1


def _queries(client, world) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(_url(world)).status_code == 200
    return len(ctx)


def test_the_dashboard_reads_as_many_queries_for_six_communities_as_for_two(
    client, projects, world
):
    client.force_login(world.admin)
    projects.in_progress()
    two = _queries(client, world)
    for _ in range(4):
        community = CommunityFactory(sub_district__district=world.district)
        Envelope.objects.create(community=community, year=clock.today().year, amount=1000)
    six = _queries(client, world)
    assert len(district_dashboard(world.district).lines) == 6
    assert six == two


def test_the_dashboard_shows_the_communities_a_page_at_a_time_by_street_with_district_totals(
    client, world
):
    from disclosure.views.staff import DASHBOARD_PER_PAGE

    year = clock.today().year
    made = [
        CommunityFactory(sub_district__district=world.district, name=f"第{n:02d}社区")
        for n in range(DASHBOARD_PER_PAGE)
    ]
    for community in made:
        Envelope.objects.create(community=community, year=year, amount=Decimal("1000"))
    client.force_login(world.admin)
    first = client.get(_url(world), **EN).content.decode()
    last = client.get(_url(world), {"page": 2}, **EN).content.decode()
    total = len(made) + 2  # and communities a and b
    shown = [c for c in [*made, world.a, world.b] if f">{c.name}</a>" in first]
    assert len(shown) == DASHBOARD_PER_PAGE
    rest = [c for c in [*made, world.a, world.b] if f">{c.name}</a>" in last]
    assert len(rest) == total - DASHBOARD_PER_PAGE and not set(shown) & set(rest)
    # Each page names the streets of its communities, and the totals cover the district.
    assert made[0].sub_district.name in first
    assert f"<dd>{total}</dd>" in first and f"¥{len(made) * 1000:,}" in first
    assert "Page 2 of 2" in last


@pytest.mark.parametrize("who", ["other_admin", "a_staff", "a_resident", None])
def test_the_dashboard_is_not_found_for_anyone_else(client, world, who):
    if who:
        client.force_login(world.user(who))
    assert client.get(_url(world)).status_code == 404
    client.force_login(world.admin)
    assert (
        client.get(reverse("district_dashboard", args=[world.other_district.pk])).status_code == 404
    )
    assert client.get(reverse("district_dashboard", args=[99999])).status_code == 404


def test_a_district_admin_reaches_the_community_pages_it_may_read(client, projects, world):
    proposal = projects.decided()  # its decision waits as a draft
    draft = Disclosure.objects.get(proposal=proposal, status="draft")
    meeting = meeting_schedule(
        actor=world.a_staff, community=world.a, title="议事会", place="活动室",
        starts_at=clock.now() + dt.timedelta(days=2), proposals=[projects.council.proposal()],
    )  # fmt: skip
    ballot = proposal.ballots.get()
    slug = world.a.slug
    pages = [
        reverse("community", args=[slug]),
        reverse("staff_queue", args=[slug]),
        reverse("council_page", args=[slug]),
        reverse("meeting", args=[slug, meeting.pk]),
        reverse("meeting_board", args=[slug, meeting.pk]),
        reverse("ballot", args=[slug, ballot.pk]),
        reverse("proposal", args=[slug, proposal.pk]),
        reverse("project", args=[slug, proposal.pk]),
        reverse("statistics", args=[slug]),
    ]
    client.force_login(world.admin)
    home = client.get("/", **EN).content.decode()
    assert _url(world) in home
    for path in pages:
        assert client.get(path).status_code == 200, path
    # A draft disclosure stays the staff's until published: listed, not linked.
    queue = client.get(reverse("staff_queue", args=[slug]), **EN).content.decode()
    assert draft.title in queue and reverse("disclosure", args=[draft.pk]) not in queue
    assert client.get(reverse("disclosure", args=[draft.pk])).status_code == 404
    client.force_login(world.other_admin)
    assert client.get(reverse("staff_queue", args=[slug])).status_code == 404
