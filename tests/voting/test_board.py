"""The live meeting board: the page (public, what it shows of a ballot) and its WebSocket
consumer (live frames on every change, coalesced; 4404 for a missing meeting).

The consumer tests are transactional: the services broadcast on commit, so commits must
really happen. They run over the in-memory channel layer, or Redis with REDIS_URL set.
"""

import datetime as dt
import re

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import clock
from council.models import Council, Secrecy
from tests.sockets import BASE_HEADERS, application, frames_until_quiet, socket_connect
from voting import board, services
from voting.models import Meeting

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def rules(community, *, secrecy=Secrecy.ROLL_CALL, running=False):
    Council.objects.filter(community=community).update(
        secrecy=secrecy, board_shows_running_count=running
    )


def meeting_with_ballot(council, *, hours=0.5, discuss=True, ballot=True):
    """A meeting in session on one proposal in voting, under discussion, with a ballot open
    on it at the meeting."""
    proposal = council.proposal(title="加装楼道扶手")
    meeting = services.meeting_schedule(
        actor=council.staff,
        community=council.world.a,
        title="十一月议事会",
        starts_at=clock.now() + dt.timedelta(hours=hours),
        place="社区活动室",
        proposals=[proposal, council.proposal(title="周末读书会")],
    )
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="in_session")
    if discuss:
        services.meeting_set_current(
            actor=council.staff, meeting=meeting, item=meeting.items.get(position=1)
        )
    opened = council.ballot(proposal, hours=2, meeting=meeting) if ballot else None
    return meeting, opened


def board_url(meeting):
    return reverse("meeting_board", args=[meeting.community.slug, meeting.pk])


def board_part(html: str) -> str:
    start = html.index('<div id="board"')
    return html[start:]


def voted(html: str) -> tuple[int, int]:
    match = re.search(r'class="board-big">(\d+)</span><span class="board-of"> / (\d+)</span>', html)
    assert match, html
    return int(match.group(1)), int(match.group(2))


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_is_public_and_shows_the_item_the_ballot_and_attendance(client, council):
    meeting, ballot = meeting_with_ballot(council)
    council.vote(ballot, ["yes", "no"])
    services.attendance_sign_in(actor=council.members[0], meeting=meeting)
    response = client.get(board_url(meeting), **EN)
    assert response.status_code == 200
    html = response.text
    assert "十一月议事会" in html and "加装楼道扶手" in html
    assert "Now discussing · item 1 of 2" in html
    assert "Ballot open" in html
    assert voted(html) == (2, 5)
    assert "Present: 1 of 5 members" in html
    assert f'ws-connect="/ws/meetings/{meeting.pk}/"' in html
    assert 'hx-ext="ws"' in html
    # No site chrome: no sign-in link, no community menu, no footer.
    assert "site-header" not in html and "site-footer" not in html
    # The default running count is off: no yes/no/abstain while open.
    assert "board-running" not in html


@pytest.mark.django_db
def test_the_board_of_a_meeting_elsewhere_or_missing_is_404(client, council):
    meeting, _ballot = meeting_with_ballot(council, ballot=False)
    other = reverse("meeting_board", args=[council.world.b.slug, meeting.pk])
    assert client.get(other).status_code == 404
    missing = reverse("meeting_board", args=[council.world.a.slug, meeting.pk + 1000])
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_a_roll_call_ballot_shows_its_running_count_only_when_the_rules_allow(client, council):
    rules(council.world.a, running=True)
    meeting, ballot = meeting_with_ballot(council)
    council.vote(ballot, ["yes", "yes", "no", "abstain"])
    html = board_part(client.get(board_url(meeting), **EN).text)
    running = re.search(r'<dl class="board-running">(.*?)</dl>', html, re.S)
    assert running, html
    counts = re.findall(r"<dd>(\d+)</dd>", running.group(1))
    assert counts == ["2", "1", "1"]
    assert voted(html) == (4, 5)


@pytest.mark.django_db
def test_a_secret_ballot_never_shows_a_running_count(client, council):
    # Even if the council's rules say the board may: the ballot is secret.
    rules(council.world.a, secrecy=Secrecy.SECRET, running=True)
    meeting, ballot = meeting_with_ballot(council)
    assert ballot.is_secret and ballot.board_shows_running_count
    council.vote(ballot, ["yes", "no", "no"])
    html = client.get(board_url(meeting), **EN).text
    assert "board-running" not in html
    assert voted(html) == (3, 5)
    assert not board.shows_running_count(ballot)


@pytest.mark.django_db
def test_the_rules_are_those_copied_when_the_ballot_opened(client, council):
    meeting, ballot = meeting_with_ballot(council)
    rules(council.world.a, running=True)  # too late for this ballot
    council.vote(ballot, ["yes"])
    assert "board-running" not in client.get(board_url(meeting), **EN).text


@pytest.mark.django_db
def test_a_closed_ballot_shows_the_result_and_the_sentence(client, council):
    meeting, ballot = meeting_with_ballot(council)
    council.vote(ballot, ["yes", "yes", "yes", "no", "abstain"])
    services.ballot_close(actor=council.staff, ballot=ballot, reason="全体已表决")
    html = client.get(board_url(meeting), **EN).text
    assert "Ballot closed" in html
    assert 'class="board-outcome outcome-approved"' in html
    assert "5 of 5 members voted (1 abstained); 3 yes is more than half of 5: approved." in html


@pytest.mark.django_db
def test_a_ballot_past_its_time_is_closed_when_the_board_is_read(client, council):
    meeting, ballot = meeting_with_ballot(council)
    council.vote(ballot, ["yes", "yes", "yes"])
    with clock.travel(dt.timedelta(hours=3)):
        html = client.get(board_url(meeting), **EN).text
    assert "Ballot closed" in html
    assert "3 of 5 members voted" in html
    ballot.refresh_from_db()
    assert ballot.status == "closed"


@pytest.mark.django_db
def test_the_board_before_and_after_the_meeting(client, council):
    proposal = council.proposal()
    meeting = services.meeting_schedule(
        actor=council.staff,
        community=council.world.a,
        title="议事会",
        starts_at=clock.now() + dt.timedelta(days=1),
        place="社区活动室",
        proposals=[proposal],
    )
    assert "The meeting starts at" in client.get(board_url(meeting), **EN).text
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="in_session")
    assert "No item is under discussion." in client.get(board_url(meeting), **EN).text
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="ended")
    assert "The meeting has ended." in client.get(board_url(meeting), **EN).text


@pytest.mark.django_db
def test_the_boards_queries_do_not_grow_with_votes_or_attendance(
    client, council, django_assert_max_num_queries
):
    small, small_ballot = meeting_with_ballot(council)
    with CaptureQueriesContext(connection) as captured:
        client.get(board_url(small), **EN)
    baseline = len(captured)
    assert baseline <= 10

    big, big_ballot = meeting_with_ballot(council)
    council.vote(big_ballot, ["yes", "no", "abstain", "yes", "yes"])
    for member in council.members:
        services.attendance_sign_in(actor=member, meeting=big)
    with django_assert_max_num_queries(baseline):
        client.get(board_url(big), **EN)
    # Rendering for a socket costs no more.
    with django_assert_max_num_queries(baseline):
        assert board.render_board(big.pk, "en")


# --- The consumer ---------------------------------------------------------------------------------


async def connect(meeting_id, *, language="en"):
    return await socket_connect(f"/ws/meetings/{meeting_id}/", language=language)


async def frames(communicator, quiet=0.6) -> list[str]:
    return await frames_until_quiet(communicator, quiet)


consumer = pytest.mark.django_db(transaction=True)


@consumer
async def test_the_board_arrives_on_connecting_and_after_every_vote(council, fresh_channel_layer):
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)
    communicator = await connect(meeting.pk)
    first = await communicator.receive_from(timeout=5)
    assert first.startswith('<div id="board"') and 'hx-swap-oob="true"' in first
    assert voted(first) == (0, 5)
    assert "Ballot open" in first  # in the connection's language

    member = council.members[1]
    await sync_to_async(services.vote_cast)(actor=member, ballot=ballot, choice="yes")
    frame = await communicator.receive_from(timeout=5)
    assert voted(frame) == (1, 5)
    assert "board-running" not in frame

    await sync_to_async(services.attendance_sign_in)(actor=member, meeting=meeting)
    frame = await communicator.receive_from(timeout=5)
    assert "Present: 1 of 5 members" in frame
    await communicator.disconnect()


@consumer
async def test_a_burst_of_changes_gives_one_frame(council, fresh_channel_layer):
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)
    communicator = await connect(meeting.pk)
    await communicator.receive_from(timeout=5)  # the board on connecting

    layer = get_channel_layer()
    group = services.meeting_group(meeting.pk)
    for _n in range(5):
        await layer.group_send(group, {"type": "board.changed"})
    received = await frames(communicator)
    assert len(received) == 1

    # Votes in quick succession: one frame that shows them all.
    def vote_all():
        council.vote(ballot, ["yes", "no", "abstain", "yes"])

    await sync_to_async(vote_all)()
    received = await frames(communicator)
    assert 1 <= len(received) <= 2
    assert voted(received[-1]) == (4, 5)
    await communicator.disconnect()


@consumer
async def test_the_secret_ballots_board_frame_has_no_running_count(council, fresh_channel_layer):
    await sync_to_async(rules)(council.world.a, secrecy=Secrecy.SECRET, running=True)
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)
    communicator = await connect(meeting.pk)
    await communicator.receive_from(timeout=5)
    await sync_to_async(services.vote_cast)(actor=council.members[0], ballot=ballot, choice="no")
    frame = await communicator.receive_from(timeout=5)
    assert voted(frame) == (1, 5)
    assert "board-running" not in frame
    await communicator.disconnect()


@consumer
async def test_the_closing_result_arrives_live(council, fresh_channel_layer):
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)
    await sync_to_async(council.vote)(ballot, ["yes", "yes", "yes", "no"])
    communicator = await connect(meeting.pk)
    await communicator.receive_from(timeout=5)
    await sync_to_async(services.ballot_close)(
        actor=council.staff, ballot=ballot, reason="到场成员均已表决"
    )
    frame = (await frames(communicator))[-1]
    assert "Ballot closed" in frame
    assert "4 of 5 members voted; 3 yes is more than half of 5: approved." in frame
    await communicator.disconnect()


@consumer
async def test_a_missing_meeting_closes_with_4404(council, fresh_channel_layer):
    last = await sync_to_async(lambda: Meeting.objects.order_by("-pk").first())()
    missing = (last.pk if last else 0) + 1000
    communicator = WebsocketCommunicator(
        application(), f"/ws/meetings/{missing}/", headers=BASE_HEADERS
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected  # accepted, then closed: the browser sees the code
    output = await communicator.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": 4404}


@consumer
async def test_anyone_may_watch_a_board_even_in_chinese(council, fresh_channel_layer):
    meeting, _ballot = await sync_to_async(meeting_with_ballot)(council)
    communicator = await connect(meeting.pk, language="zh-hans")
    first = await communicator.receive_from(timeout=5)
    assert first.startswith('<div id="board"') and "加装楼道扶手" in first
    await communicator.disconnect()


@consumer
async def test_many_screens_of_two_languages_cost_one_reading_per_change(
    council, fresh_channel_layer
):
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)
    await sync_to_async(council.vote)(ballot, ["yes", "yes", "yes", "no"])
    english = [await connect(meeting.pk) for _ in range(8)]
    chinese = [await connect(meeting.pk, language="zh-hans") for _ in range(4)]
    screens = [*english, *chinese]
    for screen in screens:
        assert voted(await screen.receive_from(timeout=5)) == (4, 5)

    await sync_to_async(services.ballot_close)(
        actor=council.staff, ballot=ballot, reason="到场成员均已表决"
    )
    received = [await frames(screen) for screen in screens]
    assert all(len(got) == 1 for got in received)  # one frame each, not one per socket's render
    assert all("Ballot closed" in got[0] and "approved" in got[0] for got in received[:8])
    assert all("Ballot closed" not in got[0] for got in received[8:])
    assert all(got[0] == received[8][0] for got in received[8:])
    for screen in screens:
        await screen.disconnect()


@consumer
async def test_a_change_is_read_once_per_process_whatever_the_screens(council, fresh_channel_layer):
    meeting, ballot = await sync_to_async(meeting_with_ballot)(council)

    def one_reading() -> int:
        with CaptureQueriesContext(connection) as reading:
            board.render_boards(meeting.pk, ["en"])
        return len(reading)

    per_reading = await sync_to_async(one_reading)()
    screens = [await connect(meeting.pk) for _ in range(10)]
    for screen in screens:
        await screen.receive_from(timeout=5)

    # The SQL of the sockets' database calls (all in the one thread of database_sync_to_async).
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    await database_sync_to_async(lambda: connection.execute_wrappers.append(count))()
    try:
        vote = database_sync_to_async(council.vote, thread_sensitive=False)
        await vote(ballot, ["yes", "no"])
        for screen in screens:
            assert voted((await frames(screen))[-1]) == (2, 5)
    finally:
        await database_sync_to_async(lambda: connection.execute_wrappers.remove(count))()
    # Two votes broadcast to ten sockets: one or two readings (a burst), never ten.
    assert 0 < len(queries) <= 2 * per_reading
    for screen in screens:
        await screen.disconnect()
