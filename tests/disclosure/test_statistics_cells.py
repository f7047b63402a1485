"""The statistics' cells (issue 16): each community's figures are refreshed once an act that
changes one commits, so the statistics pages sum cells, not every row — and the cells always
say what the rows say."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from council import clock
from disclosure import services
from disclosure.models import StatisticsCell
from disclosure.selectors import statistics, statistics_scan
from disclosure.services.statistics import SWEEP_MINUTES
from voting import services as voting_services

# Real commits: the refresh runs once the act's transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)


def _agree(world):
    for community in (world.a, world.b, None):
        assert statistics(community) == statistics_scan(community), community


def test_the_cells_follow_every_step_of_a_projects_life(projects, world):
    _agree(world)
    proposal = projects.decided()  # proposal moves and a closed ballot: money reserved
    _agree(world)
    assert statistics(world.a).funded == 1 and statistics(world.b).funded == 0
    projects.published(approve=False)  # a rejected proposal, a published decision
    _agree(world)
    running = projects.in_progress()
    projects.progress(running, 40, "4000.00")  # money spent so far
    _agree(world)
    projects.evaluated()  # completion, evaluations, the window closed with its verdict
    _agree(world)
    figures = statistics()
    assert figures.evaluated == 1 and figures.published >= 1
    assert figures.spent > 0 and proposal.pk


def test_an_act_that_changes_no_figure_does_not_touch_the_cells(projects, world):
    council = projects.council
    ballot = council.ballot()
    with CaptureQueriesContext(connection) as captured:
        voting_services.vote_cast(actor=council.members[0], ballot=ballot, choice="yes")
    assert not [q for q in captured if StatisticsCell._meta.db_table in q["sql"]]


def test_rebuilding_gives_the_cells_the_services_keep(projects, world):
    projects.evaluated()
    kept = sorted(StatisticsCell.objects.values_list("community", "kind", "key", "year", "count"))
    StatisticsCell.objects.all().delete()
    assert statistics(world.a).proposals == 0  # the pages read the cells alone
    assert services.statistics_rebuild() >= 2
    assert (
        sorted(StatisticsCell.objects.values_list("community", "kind", "key", "year", "count"))
        == kept
    )
    _agree(world)


def test_cells_a_failed_refresh_left_behind_are_right_again_within_the_hour(projects, world):
    projects.evaluated()
    _agree(world)
    # As a refresh that failed after its act committed leaves them: the figures of before.
    for community in (world.a, world.b):
        StatisticsCell.objects.filter(community=community).delete()
    assert statistics(world.a).proposals == 0 and statistics_scan(world.a).proposals > 0

    # The minute job refreshes the communities whose id falls on this minute, and only them.
    minute = int(clock.now().timestamp() // 60)
    a_minute = minute + (world.a.pk - minute) % SWEEP_MINUTES
    with clock.travel(dt.timedelta(minutes=a_minute - minute)):
        figures = services.disclosure_tick()
    assert figures["statistics_cells_swept"] >= 1
    assert statistics(world.a) == statistics_scan(world.a)
    assert not StatisticsCell.objects.filter(community=world.b).exists()

    # Within the hour every community has had its turn.
    for step in range(1, SWEEP_MINUTES):
        with clock.travel(dt.timedelta(minutes=a_minute - minute + step)):
            services.statistics_sweep()
    _agree(world)
