"""Council meetings through their pages: scheduling, the agenda with its ballots, attendance,
minutes, and the clerk's controls. Pages are requested in English where text is asserted."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from council import clock
from council.models import Notification
from proposals import services as proposal_services
from proposals.models import Stage
from tests.proposals.conftest import PROPOSAL_DATA
from voting import services
from voting.models import AgendaItem, Attendance, Meeting, MeetingStatus

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
HTMX = {"HTTP_HX_REQUEST": "true", **EN}


def schedule(council, proposals=None, *, hours=48, title="第三季度议事会"):
    return services.meeting_schedule(
        actor=council.staff,
        community=council.world.a,
        title=title,
        starts_at=clock.now() + dt.timedelta(hours=hours),
        place="社区活动室",
        proposals=proposals or [council.proposal()],
    )


def url(name, meeting, *args):
    return reverse(name, args=[meeting.community.slug, meeting.pk, *args])


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def as_user(client, user):
    client.force_login(user)
    return client


def texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Scheduling ---------------------------------------------------------------------------------


def test_staff_schedule_a_meeting_with_the_agenda_in_the_order_chosen(
    client, council, django_capture_on_commit_callbacks
):
    world = council.world
    in_voting = council.proposal(title="加装楼道声控灯")
    in_consultation = council.maker.make(Stage.CONSULTATION, title="周末儿童读书会")
    as_user(client, world.a_staff)
    page = client.get(reverse("meeting_new", args=[world.a.slug]), **EN)
    assert page.status_code == 200
    assert "加装楼道声控灯" in page.text and "周末儿童读书会" in page.text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("meeting_new", args=[world.a.slug]),
            {
                "title": "十一月议事会",
                "starts_at": local_input(clock.now() + dt.timedelta(days=2)),
                "place": "社区二楼会议室",
                "agenda": [in_consultation.pk, in_voting.pk],
            },
            **EN,
        )
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("meeting", meeting)
    assert [i.proposal_id for i in meeting.items.order_by("position")] == [
        in_consultation.pk,
        in_voting.pk,
    ]
    # The notice reaches every seated member, linking to the meeting.
    notices = Notification.objects.filter(url=url("meeting", meeting))
    assert {n.recipient_id for n in notices} == {m.pk for m in council.members}
    assert all("十一月议事会" in n.text for n in notices)


@pytest.mark.parametrize("who", ["a_member", "b_staff", "a_resident", None])
def test_only_the_communitys_staff_reach_the_scheduling_form(client, council, who):
    world = council.world
    proposal = council.proposal()
    if who:
        as_user(client, world.user(who))
    path = reverse("meeting_new", args=[world.a.slug])
    assert client.get(path).status_code == 404
    data = {
        "title": "议事会",
        "starts_at": local_input(clock.now() + dt.timedelta(days=2)),
        "place": "活动室",
        "agenda": [proposal.pk],
    }
    assert client.post(path, data).status_code == 404
    assert not Meeting.objects.exists()


def test_a_proposal_of_another_community_or_not_ready_is_refused_with_a_message(client, council):
    world = council.world
    theirs = proposal_services.proposal_create(
        actor=world.b_resident.user, community=world.b, data=PROPOSAL_DATA
    )
    theirs = proposal_services.proposal_submit(actor=world.b_resident.user, proposal=theirs)
    not_ready = council.maker.make(Stage.SUBMITTED)
    ours = council.proposal()
    as_user(client, world.a_staff)
    for wrong in (theirs, not_ready):
        response = client.post(
            reverse("meeting_new", args=[world.a.slug]),
            {
                "title": "议事会",
                "starts_at": local_input(clock.now() + dt.timedelta(days=2)),
                "place": "活动室",
                "agenda": [ours.pk, wrong.pk],
            },
            **EN,
        )
        assert response.status_code == 200
        assert "is not a proposal of this community in consultation or voting" in response.text
    assert not Meeting.objects.exists()


def test_a_meeting_in_the_past_is_refused_on_the_form(client, council):
    world = council.world
    as_user(client, world.a_staff)
    response = client.post(
        reverse("meeting_new", args=[world.a.slug]),
        {
            "title": "议事会",
            "starts_at": local_input(clock.now() - dt.timedelta(days=1)),
            "place": "活动室",
            "agenda": [council.proposal().pk],
        },
        **EN,
    )
    assert response.status_code == 200
    assert "A meeting is scheduled in the future." in response.text
    assert not Meeting.objects.exists()


def test_numbers_set_the_order_of_the_agenda(client, council):
    first, second, third = (council.proposal(title=t) for t in ("甲", "乙", "丙"))
    as_user(client, council.staff)
    response = client.post(
        reverse("meeting_new", args=[council.world.a.slug]),
        {
            "title": "议事会",
            "starts_at": local_input(clock.now() + dt.timedelta(days=2)),
            "place": "活动室",
            "agenda": [first.pk, second.pk, third.pk],
            f"order_{third.pk}": "1",
            f"order_{first.pk}": "2",
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert list(meeting.items.values_list("proposal_id", flat=True)) == [
        third.pk,
        first.pk,
        second.pk,
    ]
    # The agenda's form shows the places as they are.
    page = client.get(url("meeting_agenda", meeting)).text
    assert f'name="order_{third.pk}" value="1"' in page
    assert f'name="order_{second.pk}" value="3"' in page


def test_the_clerk_changes_the_agenda_others_get_404(client, council):
    first, second = council.proposal(title="第一项"), council.proposal(title="第二项")
    meeting = schedule(council, [first])
    as_user(client, council.world.a_member.user)
    assert client.get(url("meeting_agenda", meeting)).status_code == 404
    as_user(client, council.staff)
    assert client.get(url("meeting_agenda", meeting)).status_code == 200
    response = client.post(url("meeting_agenda", meeting), {"agenda": [second.pk, first.pk]})
    assert response.status_code == 302
    assert list(meeting.items.values_list("proposal_id", flat=True)) == [second.pk, first.pk]


# --- The meeting's page -------------------------------------------------------------------------


def test_the_meeting_page_is_public(client, council):
    proposal = council.proposal(title="更换幸福路路灯")
    meeting = schedule(council, [proposal])
    response = client.get(url("meeting", meeting), **EN)
    assert response.status_code == 200
    text = response.text
    assert "第三季度议事会" in text and "社区活动室" in text
    assert reverse("proposal", args=[meeting.community.slug, proposal.pk]) in text
    assert url("meeting_board", meeting) in text
    assert "0 of 5 members present" in text
    for member in council.members:
        assert member.display_name in text
    # Nothing for the clerk or members: no forms.
    assert "Open the session" not in text and "Sign in to this meeting" not in text
    assert "Edit the minutes" not in text


def test_a_meeting_under_another_communitys_address_is_404(client, council):
    meeting = schedule(council)
    other = reverse("meeting", args=[council.world.b.slug, meeting.pk])
    assert client.get(other).status_code == 404
    assert client.get(reverse("meeting", args=[council.world.a.slug, 999999])).status_code == 404


def test_the_clerk_runs_the_meeting_and_shows_the_item_under_discussion(client, council):
    meeting = schedule(council)
    item = meeting.items.get()
    as_user(client, council.staff)
    page = client.get(url("meeting", meeting), **EN).text
    assert "Open the session" in page and "Discuss now" not in page

    response = client.post(url("meeting_status", meeting), {"status": "in_session"}, **EN)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.IN_SESSION

    # htmx: the agenda comes back alone, with the item marked.
    response = client.post(url("meeting_current", meeting), {"item": item.pk}, **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="agenda"')
    assert "Now discussing" in response.text and "Stop discussing" in response.text
    meeting.refresh_from_db()
    assert meeting.current_item_id == item.pk

    # Without htmx: a redirect and a message.
    response = client.post(url("meeting_current", meeting), {"item": ""}, follow=True, **EN)
    assert "No item is under discussion now." in texts(response)
    meeting.refresh_from_db()
    assert meeting.current_item_id is None

    response = client.post(url("meeting_current", meeting), {"item": "999999"}, **HTMX)
    assert "That item is not on this meeting&#x27;s agenda." in response.text

    client.post(url("meeting_status", meeting), {"status": "ended"})
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.ENDED
    page = client.get(url("meeting", meeting), **EN).text
    assert "End the meeting" not in page and "Change the agenda" not in page


@pytest.mark.parametrize("who", ["a_member", "b_staff", None])
def test_others_cannot_run_the_meeting(client, council, who):
    meeting = schedule(council)
    if who:
        as_user(client, council.world.user(who))
    response = client.post(
        url("meeting_status", meeting), {"status": "in_session"}, follow=True, **EN
    )
    assert response.status_code == 200
    assert "Only the clerk runs the meeting." in texts(response)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED


def test_ballots_of_the_meeting_and_the_clerks_open_a_ballot_link(client, council):
    voting_proposal = council.proposal(title="加装扶手")
    consultation = council.maker.make(Stage.CONSULTATION, title="儿童读书会")
    meeting = schedule(council, [voting_proposal, consultation])
    open_link = (
        reverse("ballot_new", args=[meeting.community.slug, voting_proposal.pk])
        + f"?meeting={meeting.pk}"
    )
    as_user(client, council.staff)
    page = client.get(url("meeting", meeting), **EN).text
    assert open_link in page
    assert reverse("ballot_new", args=[meeting.community.slug, consultation.pk]) not in page

    ballot = council.ballot(voting_proposal, meeting=meeting)
    page = client.get(url("meeting", meeting), **EN).text
    assert open_link not in page
    assert reverse("ballot", args=[meeting.community.slug, ballot.pk]) in page
    council.vote(ballot, ["yes", "yes", "yes", "no", "abstain"])
    services.ballot_close(actor=council.staff, ballot=ballot, reason="全体已表决")
    page = client.get(url("meeting", meeting), **EN).text
    assert "approved" in page
    assert "5 of 5 members voted (1 abstained); 3 yes is more than half of 5: approved." in page

    # The public sees the ballots and the results, not the clerk's links.
    client.logout()
    page = client.get(url("meeting", meeting), **EN).text
    assert reverse("ballot", args=[meeting.community.slug, ballot.pk]) in page
    assert "Open a ballot" not in page


# --- Attendance ---------------------------------------------------------------------------------


def test_a_member_signs_in_from_an_hour_before_until_the_end(client, council):
    meeting = schedule(council, hours=3)
    member = council.world.a_member.user
    as_user(client, member)
    page = client.get(url("meeting", meeting), **EN).text
    assert "You can sign in to this meeting from" in page
    response = client.post(url("meeting_sign_in", meeting), follow=True, **EN)
    assert "Signing in opens an hour before the meeting starts." in texts(response)
    assert not Attendance.objects.exists()

    with clock.travel(dt.timedelta(hours=2, minutes=30)):
        page = client.get(url("meeting", meeting), **EN).text
        assert "Sign in to this meeting" in page
        response = client.post(url("meeting_sign_in", meeting), **HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="attendance"')
    assert "You are signed in: welcome to the meeting." in response.text
    assert "1 of 5 members present" in response.text
    row = Attendance.objects.get()
    assert row.member == member and row.recorded_by is None
    page = client.get(url("meeting", meeting), **EN).text
    assert "(signed in)" in page and "You are present at this meeting." in page

    services.meeting_set_status(actor=council.staff, meeting=meeting, status="in_session")
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="ended")
    other = council.members[1]
    as_user(client, other)
    response = client.post(url("meeting_sign_in", meeting), follow=True, **EN)
    assert "The meeting has ended." in texts(response)
    assert not Attendance.objects.filter(member=other).exists()


@pytest.mark.parametrize("who", ["a_resident", "a_staff", "b_staff", None])
def test_non_members_cannot_sign_in(client, council, who):
    meeting = schedule(council, hours=0.5)
    if who:
        as_user(client, council.world.user(who))
    response = client.post(url("meeting_sign_in", meeting), follow=True, **EN)
    assert response.status_code == 200
    assert any("council sign in to its meetings" in t for t in texts(response))
    assert not Attendance.objects.exists()


def test_the_clerk_marks_attendance_and_the_page_says_so(client, council):
    meeting = schedule(council)
    member = council.members[2]
    as_user(client, council.staff)
    response = client.post(
        url("meeting_attendance", meeting), {"member": member.pk, "present": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert "is marked present" in response.text
    row = Attendance.objects.get()
    assert row.member == member and row.recorded_by == council.staff

    client.logout()
    page = client.get(url("meeting", meeting), **EN).text
    assert "(recorded by the clerk)" in page
    assert "1 of 5 members present" in page

    as_user(client, council.staff)
    response = client.post(
        url("meeting_attendance", meeting),
        {"member": member.pk, "present": "0"},
        follow=True,
        **EN,
    )
    assert any("is marked absent" in t for t in texts(response))
    assert not Attendance.objects.exists()

    # Someone without a seat cannot be marked.
    response = client.post(
        url("meeting_attendance", meeting),
        {"member": council.world.a_resident.user.pk, "present": "1"},
        follow=True,
        **EN,
    )
    assert "That person holds no seat on this council." in texts(response)
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("who", ["a_member", "b_staff", None])
def test_only_the_clerk_marks_attendance(client, council, who):
    meeting = schedule(council)
    if who:
        as_user(client, council.world.user(who))
    response = client.post(
        url("meeting_attendance", meeting),
        {"member": council.members[1].pk, "present": "1"},
        follow=True,
        **EN,
    )
    assert response.status_code == 200
    assert "Only the clerk records attendance." in texts(response)
    assert not Attendance.objects.exists()


# --- Minutes ------------------------------------------------------------------------------------


def test_minutes_are_kept_by_the_clerk_and_shown_sanitised(client, council):
    meeting = schedule(council)
    as_user(client, council.staff)
    minutes = (
        "## 决议\n\n会议**通过**加装扶手。\n\n"
        "<script>alert('x')</script><img src=x onerror=alert(1)>"
    )
    response = client.post(url("meeting_minutes", meeting), {"text": minutes}, follow=True, **EN)
    assert "The minutes are saved." in texts(response)
    client.logout()
    page = client.get(url("meeting", meeting), **EN).text
    assert "<strong>通过</strong>" in page
    assert "<h3>决议</h3>" in page  # the text's top heading, under the page's h2
    assert "<script>alert" not in page and "onerror" not in page and "<img" not in page


@pytest.mark.parametrize("who", ["a_member", "b_staff"])
def test_only_the_clerk_keeps_the_minutes(client, council, who):
    meeting = schedule(council)
    as_user(client, council.world.user(who))
    response = client.post(url("meeting_minutes", meeting), {"text": "改写"}, follow=True, **EN)
    assert "Only the clerk keeps the minutes." in texts(response)
    meeting.refresh_from_db()
    assert meeting.minutes == ""


def test_minutes_too_long_come_back_on_the_form(client, council):
    meeting = schedule(council)
    as_user(client, council.staff)
    response = client.post(url("meeting_minutes", meeting), {"text": "长" * 20_001}, **EN)
    assert response.status_code == 200
    assert "Ensure this value has at most 20000 characters" in response.text
    meeting.refresh_from_db()
    assert meeting.minutes == ""


# --- Queries ------------------------------------------------------------------------------------


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, **EN).status_code == 200
    return len(captured)


def test_the_meeting_pages_queries_do_not_grow_with_the_agenda_or_attendance(
    client, council, django_assert_max_num_queries
):
    small = schedule(council, [council.proposal()])
    proposals = [council.proposal(title=f"第{n}项") for n in range(4)]
    proposals.append(council.maker.make(Stage.CONSULTATION))
    big = schedule(council, proposals, hours=0.5)
    council.ballot(proposals[0], meeting=big)
    closed = council.ballot(proposals[1], meeting=big)
    council.vote(closed, ["yes"] * 5)
    services.ballot_close(actor=council.staff, ballot=closed, reason="全体已表决")
    services.meeting_set_status(actor=council.staff, meeting=big, status="in_session")
    for member in council.members[:3]:
        services.attendance_sign_in(actor=member, meeting=big)
    services.attendance_mark(
        actor=council.staff, meeting=big, member=council.members[3], present=True
    )
    services.meeting_set_current(actor=council.staff, meeting=big, item=big.items.first())
    for user in (None, council.staff, council.world.a_member.user):
        if user is None:
            client.logout()
        else:
            as_user(client, user)
        baseline = _queries(client, url("meeting", small))
        with django_assert_max_num_queries(baseline):
            client.get(url("meeting", big), **EN)
        assert baseline <= 14


def test_a_ballot_past_its_time_shows_closed_on_the_meeting_page(client, council):
    proposal = council.proposal()
    meeting = schedule(council, [proposal])
    ballot = council.vote(council.ballot(proposal, hours=1, meeting=meeting), ["yes"] * 4)
    with clock.travel(dt.timedelta(hours=2)):
        page = client.get(url("meeting", meeting), **EN).text
    ballot.refresh_from_db()
    assert ballot.status == "closed" and ballot.closed_by is None
    assert "approved" in page


def test_agenda_items_are_numbered_in_order_on_the_page(client, council):
    a, b, c = (council.proposal(title=t) for t in ("甲项", "乙项", "丙项"))
    meeting = schedule(council, [c, a, b])
    page = client.get(url("meeting", meeting), **EN).text
    positions = [page.index(t) for t in ("丙项", "甲项", "乙项")]
    assert positions == sorted(positions)
    assert AgendaItem.objects.filter(meeting=meeting).count() == 3
    assert re.search(r'<ol class="agenda-items">', page)


@pytest.mark.parametrize(
    "value", ["²", "9" * 4301, "99999999999999999999", "-3", "１", " 1", "1e0"]
)
def test_the_clerks_controls_answer_nonsense_ids_with_a_message(client, council, value):
    meeting = schedule(council)
    as_user(client, council.staff)
    client.post(url("meeting_status", meeting), {"status": "in_session"})
    response = client.post(url("meeting_current", meeting), {"item": value}, **HTMX)
    assert response.status_code == 200
    assert "That item is not on this meeting&#x27;s agenda." in response.text
    response = client.post(
        url("meeting_attendance", meeting), {"member": value, "present": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert "holds no seat on this council" in response.text
    assert not Attendance.objects.exists()
