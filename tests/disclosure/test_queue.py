"""The staff work queue (issue 14): each item's age and deadline, what is overdue first, and
the projects in progress that owe residents a progress update."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from disclosure import queue

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _page(client, world, user=None):
    client.force_login(user or world.a_staff)
    return client.get(reverse("staff_queue", args=[world.a.slug]), **EN).content.decode()


def _section(page, anchor):
    part = page[page.index(f'id="{anchor}"') :]
    return part[: part.index("</section>")]


def _progress(world, proposal):
    return reverse("progress_new", args=[world.a.slug, proposal.pk])


def test_a_project_with_no_progress_update_for_two_weeks_is_listed_overdue(client, projects, world):
    quiet = projects.in_progress()  # starts in 6 days, never reports
    reported = projects.in_progress()
    with clock.travel(dt.timedelta(days=10)):
        recent = projects.in_progress()  # starts in 16 days
    with clock.travel(dt.timedelta(days=15)):
        projects.progress(reported, 30, "3000.00")  # an update on day 15
    with clock.travel(dt.timedelta(days=21)):
        owed = [p.pk for p in queue.progress_owed(world.a)]
        page = _page(client, world)
    assert owed == [quiet.pk]
    section = _section(page, "q-progress")
    assert _progress(world, quiet) in section
    assert _progress(world, reported) not in section and _progress(world, recent) not in section
    assert "overdue since" in section and "waiting 2\xa0weeks" in section
    assert _progress(world, quiet) in _section(page, "q-overdue")
    with clock.travel(dt.timedelta(days=29)):
        assert [p.pk for p in queue.progress_owed(world.a)] == [quiet.pk, reported.pk]


def test_the_overdue_come_first_and_each_item_shows_how_long_it_waits(client, projects, world):
    older = projects.in_progress()
    with clock.travel(dt.timedelta(days=5)):
        newer = projects.in_progress()
    world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    with clock.travel(dt.timedelta(days=30)):
        items = queue.staff_queue(world.a, world.a_staff)
        page = _page(client, world)
    assert [i.obj.pk for i in items["overdue"]] == [older.pk, newer.pk]
    assert all(i.overdue for i in items["progress_owed"])
    assert not items["signups"][0].overdue and items["signups"][0].deadline is None
    overdue = _section(page, "q-overdue")
    assert overdue.index(_progress(world, older)) < overdue.index(_progress(world, newer))
    assert "waiting" in _section(page, "q-signups")


def test_an_objection_is_due_when_the_publicity_period_ends(client, projects, world):
    from disclosure import services
    from disclosure.models import Disclosure

    decision = Disclosure.objects.get(proposal=projects.published(), status="published")
    services.objection_lodge(actor=world.a_resident.user, disclosure=decision, text="噪音扰民")
    item = queue.staff_queue(world.a, world.a_staff)["objections"][0]
    assert item.deadline == decision.publicity_ends_at and not item.overdue
    assert "due " in _section(_page(client, world), "q-objections")
    with clock.travel(dt.timedelta(days=10)):
        assert queue.staff_queue(world.a, world.a_staff)["overdue"][0].obj.pk == item.obj.pk


def test_the_queue_reads_a_fixed_number_of_queries(projects, world):
    def count():
        with clock.travel(dt.timedelta(days=30)), CaptureQueriesContext(connection) as ctx:
            queue.staff_queue(world.a, world.a_staff)
        return len(ctx)

    projects.in_progress()
    few = count()
    projects.in_progress()
    projects.in_progress()
    assert count() == few


def test_a_district_admin_reads_the_queue_without_the_staffs_buttons(client, projects, world):
    projects.council.proposal()  # in voting, no ballot
    page = _page(client, world, world.admin)
    assert "reading this queue as the district" in page
    assert "Open a ballot" not in page
    client.force_login(world.other_admin)
    assert client.get(reverse("staff_queue", args=[world.a.slug])).status_code == 404
