"""Attendance the quick way (issue 14): the clerk's 「全部出席」 then the exceptions, and a
member's self check-in from the QR code on the live board."""

import datetime as dt

import pytest

from council import clock
from council.models import EvidenceEvent
from voting import services
from voting.models import Attendance

from .test_meetings import EN, HTMX, as_user, schedule, texts, url

pytestmark = pytest.mark.django_db


def test_all_present_then_one_absent_records_attendance_as_it_was(client, council):
    meeting = schedule(council)
    as_user(client, council.staff)
    page = client.get(url("meeting", meeting), **EN).text
    assert "All present" in page
    response = client.post(url("meeting_attendance_all", meeting), **HTMX)
    assert response.status_code == 200
    assert "5 of 5 members present" in response.text
    assert "All present" not in response.text  # nobody left to mark
    assert set(Attendance.objects.values_list("member_id", flat=True)) == {
        m.pk for m in council.members
    }
    # One evidence event per member marked, as when marking them one by one.
    assert EvidenceEvent.objects.filter(action="meeting.attendance_marked").count() == 5

    away = council.members[3]
    client.post(url("meeting_attendance", meeting), {"member": away.pk, "present": "0"}, **HTMX)
    present = set(Attendance.objects.values_list("member_id", flat=True))
    assert present == {m.pk for m in council.members} - {away.pk}
    page = client.get(url("meeting", meeting), **EN).text
    assert "4 of 5 members present" in page


def test_all_present_then_one_excused_and_one_absent(client, council):
    meeting = schedule(council)
    as_user(client, council.staff)
    client.post(url("meeting_attendance_all", meeting), **HTMX)
    excused, away = council.members[1], council.members[4]
    response = client.post(
        url("meeting_attendance", meeting), {"member": excused.pk, "present": "excused"}, **HTMX
    )
    assert f"{excused.public_name} is marked excused." in response.text
    client.post(url("meeting_attendance", meeting), {"member": away.pk, "present": "0"}, **HTMX)
    rows = {a.member_id: a.excused for a in Attendance.objects.all()}
    assert rows == {m.pk: m == excused for m in council.members if m != away}
    page = client.get(url("meeting", meeting), **EN).text
    assert "3 of 5 members present" in page and ">excused<" in page
    # 「全部出席」 again marks the absent member, and leaves the excused one excused.
    client.post(url("meeting_attendance_all", meeting), **HTMX)
    assert Attendance.objects.get(member=excused).excused
    assert not Attendance.objects.get(member=away).excused
    # An excused member who comes after all signs in and counts as present.
    with clock.travel(dt.timedelta(hours=47, minutes=30)):
        services.attendance_sign_in(actor=excused, meeting=meeting)
    assert not Attendance.objects.get(member=excused).excused


def test_all_present_keeps_who_signed_in_themselves(client, council):
    meeting = schedule(council, hours=0.5)
    member = council.members[1]
    services.attendance_sign_in(actor=member, meeting=meeting)
    as_user(client, council.staff)
    response = client.post(url("meeting_attendance_all", meeting), follow=True, **EN)
    assert any("Every seated member is marked present (4 just now)" in t for t in texts(response))
    assert Attendance.objects.get(member=member).recorded_by is None
    assert Attendance.objects.count() == 5


@pytest.mark.parametrize("who", ["a_member", "b_staff", None])
def test_only_the_clerk_marks_all_present(client, council, who):
    meeting = schedule(council)
    if who:
        as_user(client, council.world.user(who))
    response = client.post(url("meeting_attendance_all", meeting), follow=True, **EN)
    assert "Only the clerk records attendance." in texts(response)
    assert not Attendance.objects.exists()


def test_the_live_board_shows_a_qr_code_of_the_check_in_page(client, council):
    meeting = schedule(council)
    page = client.get(url("meeting_board", meeting), **EN).text
    assert 'src="data:image/svg+xml' in page
    assert "Council members: scan to sign in" in page
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="in_session")
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="ended")
    assert "scan to sign in" not in client.get(url("meeting_board", meeting), **EN).text


def test_a_seated_member_checks_in_from_the_qr_code_once(client, council):
    meeting = schedule(council, hours=0.5)
    member = council.members[2]
    as_user(client, member)
    page = client.get(url("meeting_check_in", meeting), **EN).text
    assert "I am here: sign me in" in page
    response = client.post(url("meeting_check_in", meeting), follow=True, **EN)
    assert "You are signed in: welcome to the meeting." in texts(response)
    assert "you are present at this meeting" in response.text
    client.post(url("meeting_check_in", meeting), follow=True, **EN)
    row = Attendance.objects.get()
    assert row.member == member and row.recorded_by is None
    assert EvidenceEvent.objects.filter(action="meeting.signed_in").count() == 1


def test_check_in_is_open_only_during_the_meetings_window(client, council):
    meeting = schedule(council, hours=3)
    as_user(client, council.members[1])
    assert client.get(url("meeting_check_in", meeting)).status_code == 404
    assert client.post(url("meeting_check_in", meeting)).status_code == 404
    with clock.travel(dt.timedelta(hours=2, minutes=30)):
        assert client.get(url("meeting_check_in", meeting)).status_code == 200
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="in_session")
    services.meeting_set_status(actor=council.staff, meeting=meeting, status="ended")
    assert client.get(url("meeting_check_in", meeting)).status_code == 404
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("who", ["a_resident", "a_staff", "b_staff", "admin"])
def test_check_in_is_not_found_for_anyone_without_a_seat(client, council, who):
    meeting = schedule(council, hours=0.5)
    as_user(client, council.world.user(who))
    assert client.get(url("meeting_check_in", meeting)).status_code == 404
    assert client.post(url("meeting_check_in", meeting)).status_code == 404
    assert not Attendance.objects.exists()


def test_check_in_asks_a_visitor_to_sign_in_first(client, council):
    meeting = schedule(council, hours=0.5)
    response = client.get(url("meeting_check_in", meeting))
    assert response.status_code == 302 and "/login/" in response["Location"]
