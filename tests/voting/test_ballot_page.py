"""The ballot page as a council member reads it (issue 14): what is put to the vote (summary,
counted cost, expert opinions), how many more yes votes it needs where the council lets a
roll-call ballot's count so far be shown, and their own row changing when they vote — while a
secret ballot shows no running count at all."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from council.models import Council
from proposals import services as proposal_services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage
from voting import services
from voting.models import Vote
from voting.tally import tally_compute

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _url(ballot, name="ballot"):
    return reverse(name, args=[ballot.community.slug, ballot.pk])


def _vote(client, ballot, choice):
    return client.post(
        _url(ballot, "ballot_vote"), {"choice": choice}, HTTP_HX_REQUEST="true", **EN
    ).content.decode()


def test_the_ballot_page_shows_the_summary_the_counted_cost_and_the_expert_opinions(
    client, council, world
):
    proposal = council.maker.make(Stage.CONSULTATION, summary="更换三栋楼道的感应灯。")
    proposal_services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_expert)
    proposal_services.opinion_post(
        actor=world.a_expert, proposal=proposal, recommendation="support",
        remarks="灯具选型合理，建议加装防水罩。",
    )  # fmt: skip
    proposal_services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True,
        cost_estimate=Decimal("23456.00"), plan="按计划实施。",
    )  # fmt: skip
    proposal = proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
    page = client.get(_url(council.ballot(proposal)), **ZH).content.decode()
    assert "更换三栋楼道的感应灯。" in page
    assert "23,456" in page  # staff's estimate, the cost that counts
    assert "灯具选型合理" in page and world.a_expert.public_name in page


def test_a_ballot_without_expert_opinions_says_so(client, council):
    page = client.get(_url(council.ballot()), **EN).content.decode()
    assert "No expert has given an opinion on this proposal." in page


def _running_count_shown(world):
    Council.objects.filter(community=world.a).update(board_shows_running_count=True)


def test_no_votes_still_needed_where_the_council_keeps_the_count_until_the_close(client, council):
    ballot = council.vote(council.ballot(), ["yes"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert "1 of 5 members have voted." in page
    assert "yes vote" not in page and "to pass" not in page


def test_the_votes_still_needed_go_down_after_a_yes_vote(client, council, world):
    # Five members, more than half of all members: three yes votes pass it.
    _running_count_shown(world)
    ballot = council.ballot()
    page = client.get(_url(ballot), **EN).content.decode()
    assert "3 more yes votes needed to pass." in page
    client.force_login(council.members[0])
    box = _vote(client, ballot, "yes")
    assert "2 more yes votes needed to pass." in box
    page = client.get(_url(ballot), **ZH).content.decode()
    assert "还需 2 票赞成" in page


def test_no_votes_do_not_lower_the_votes_still_needed_and_too_few_left_is_said(
    client, council, world
):
    _running_count_shown(world)
    ballot = council.vote(council.ballot(), ["no", "no"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert "3 more yes votes needed to pass." in page
    council.vote(ballot, [None, None, "no"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert "The members still to vote are too few for it to pass" in page


def test_the_voters_row_shows_their_vote_in_the_same_answer(client, council):
    ballot = council.ballot()
    member = council.members[2]
    client.force_login(member)
    before = client.get(_url(ballot), **EN).content.decode()
    row = before[before.index(f'id="member-{member.pk}"') :]
    assert ">—<" in row[: row.index("</tr>")]
    answer = _vote(client, ballot, "no")
    assert 'id="ballot-members" aria-labelledby="members-title" hx-swap-oob="true"' in answer
    row = answer[answer.index(f'id="member-{member.pk}"') :]
    assert ">voted<" in row[: row.index("</tr>")]


def test_a_secret_ballot_shows_how_many_voted_but_no_votes_still_needed(client, council, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    ballot = council.vote(council.ballot(), ["yes", "yes"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert "2 of 5 members have voted." in page
    assert "yes vote" not in page and "to pass" not in page
    client.force_login(council.members[3])
    box = _vote(client, ballot, "yes")
    assert "3 of 5 members have voted." in box and "to pass" not in box
    assert ">voted<" not in box


@pytest.mark.parametrize(
    ("threshold", "yes", "no", "abstain", "needed"),
    [
        ("majority_of_members", 0, 0, 0, 3),
        ("majority_of_members", 3, 0, 0, 0),
        ("majority_of_cast", 1, 2, 0, 2),
        ("majority_of_cast", 0, 0, 0, 1),
        ("majority_of_cast", 0, 0, 2, 1),
        ("two_thirds_of_cast", 2, 2, 0, None),  # 3 yes of 5 cast is less than two-thirds
        ("two_thirds_of_cast", 2, 1, 0, 0),
        ("two_thirds_of_cast", 1, 1, 0, 1),
    ],
)
def test_votes_still_needed_follow_quorum_and_threshold(threshold, yes, no, abstain, needed):
    from fractions import Fraction

    tally = tally_compute(
        quorum=Fraction(2, 3), threshold=threshold, base=5, yes=yes, no=no, abstain=abstain
    )
    assert tally.yes_still_needed == needed


def _poll(client, ballot):
    """What an open ballot page fetches every 10 s (htmx)."""
    return client.get(_url(ballot) + "?part=count", HTTP_HX_REQUEST="true", **EN).content.decode()


def test_an_open_page_polls_the_count_and_sees_it_move_as_others_vote(client, council, world):
    _running_count_shown(world)
    ballot = council.ballot()
    page = client.get(_url(ballot), **EN).content.decode()
    assert 'hx-trigger="every 10s"' in page and "?part=count" in page
    assert "3 more yes votes needed to pass." in _poll(client, ballot)
    council.vote(ballot, ["yes"])
    polled = _poll(client, ballot)
    assert "1 of 5 members have voted." in polled
    assert "2 more yes votes needed to pass." in polled
    assert "<form" not in polled  # the count only: a member's unsent choice is left alone


def test_the_poll_of_a_secret_ballot_tells_only_how_many_voted(client, council, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    ballot = council.vote(council.ballot(), ["yes", "yes"])
    polled = _poll(client, ballot)
    assert "2 of 5 members have voted." in polled
    assert "yes vote" not in polled and "to pass" not in polled


def test_the_poll_stops_once_the_ballot_has_closed(client, council, world):
    ballot = council.vote(council.ballot(hours=1), ["yes", "yes", "yes"])
    with clock.travel(dt.timedelta(hours=2)):
        polled = _poll(client, ballot)
    assert "The ballot has closed." in polled
    assert "hx-trigger" not in polled


def _queries_of(captured) -> list[str]:
    # The test's own transaction turns the view's transaction into a savepoint: those two
    # statements are not the view's work (in production they are BEGIN and COMMIT, which
    # Django sends without a query).
    return [q["sql"] for q in captured if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("first", [True, False], ids=["first vote", "changed vote"])
def test_a_vote_from_the_ballot_page_takes_at_most_ten_queries_and_shows_at_once(
    client, council, first
):
    ballot = council.ballot()
    member = council.members[0]
    council.vote(ballot, [None, "yes", "no"])  # others voted: the page lists them
    if not first:
        services.vote_cast(actor=member, ballot=ballot, choice="abstain")
    client.force_login(member)
    with CaptureQueriesContext(connection) as captured:
        box = _vote(client, ballot, "yes")
    assert len(_queries_of(captured)) <= 10, "\n".join(_queries_of(captured))
    assert "Your vote is recorded" in box
    assert "Your vote: Yes" in box
    assert "3 of 5 members have voted." in box
    assert Vote.objects.get(ballot=ballot, member=member).choice == "yes"
