"""Moderation from the staff's queue (issue 14): dismissing a report with a reason, and barring
a resident from posting in the community's threads for a period — and lifting it."""

import datetime as dt

import pytest
from django.urls import reverse

from council import clock, threads
from council.errors import InvalidMove, NotAllowed
from council.models import EvidenceEvent, MessageReport, PostingBan

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def thread(world):
    return threads.thread_create(community=world.a, title="更换小区路灯")


@pytest.fixture
def report(world, thread):
    message = threads.message_post(actor=world.a_resident.user, thread=thread, body="你们都是骗子")
    return threads.message_report(actor=world.a_member.user, message_id=message.pk, reason="辱骂")


def _texts(response):
    return [str(m) for m in response.context["messages"]]


def test_dismissing_a_report_removes_it_from_the_queue_and_keeps_the_reason(client, world, report):
    client.force_login(world.a_staff)
    queue = reverse("staff_queue", args=[world.a.slug])
    assert reverse("message_reports", args=[world.a.slug]) + f"#report-{report.pk}" in (
        client.get(queue).content.decode()
    )
    response = client.post(
        reverse("report_dismiss", args=[world.a.slug, report.pk]),
        {"reason": "批评意见，未违反议事规则"},
        follow=True,
        **EN,
    )
    assert "The report is dismissed; the message stays." in _texts(response)
    report.refresh_from_db()
    assert report.handled_at is not None and report.dismissed_by == world.a_staff
    assert report.dismissed_reason == "批评意见，未违反议事规则"
    event = EvidenceEvent.objects.get(action="thread.report_dismissed")
    assert event.payload["reason"] == "批评意见，未违反议事规则"
    assert f"#report-{report.pk}" not in client.get(queue).content.decode()
    assert "No reported messages wait for you." in response.content.decode()
    assert not report.message.hidden_at


def test_a_report_is_dismissed_only_with_a_reason_and_only_by_its_staff(client, world, report):
    url = reverse("report_dismiss", args=[world.a.slug, report.pk])
    client.force_login(world.a_staff)
    response = client.post(url, {"reason": ""}, follow=True, **EN)
    assert "Say why the report is dismissed." in _texts(response)
    for outsider in (world.b_staff, world.a_member.user, world.admin):
        client.force_login(outsider)
        assert client.post(url, {"reason": "无"}).status_code == 404
    with pytest.raises(NotAllowed):
        threads.report_dismiss(actor=world.b_staff, report_id=report.pk, reason="无")
    assert MessageReport.objects.get().handled_at is None


def test_staff_bar_the_author_of_a_reported_message_and_their_post_is_refused(
    client, world, thread, report
):
    author = world.a_resident.user
    client.force_login(world.a_staff)
    reports = client.get(reverse("message_reports", args=[world.a.slug]), **EN).content.decode()
    ban_url = reverse("posting_bans", args=[world.a.slug]) + f"?user={author.pk}"
    assert ban_url in reports
    page = client.get(ban_url, **EN).content.decode()
    assert f"Bar {author.public_name} from posting" in page
    response = client.post(
        reverse("posting_bans", args=[world.a.slug]),
        {"user": author.pk, "days": "7", "reason": "多次辱骂他人"},
        follow=True,
        **EN,
    )
    assert f"{author.public_name} may not post in this community's threads now." in _texts(response)
    assert "多次辱骂他人" in response.content.decode()
    ban = PostingBan.objects.get()
    assert ban.until > clock.now() + dt.timedelta(days=6)
    assert EvidenceEvent.objects.filter(action="thread.posting_banned").count() == 1

    with pytest.raises(NotAllowed, match="barred you from posting .* until .*: 多次辱骂他人"):
        threads.message_post(actor=author, thread=thread, body="我还要说")
    client.force_login(author)
    response = client.post(
        reverse("thread_post", args=[thread.pk]), {"body": "我还要说"}, follow=True, **EN
    )
    assert any("多次辱骂他人" in t for t in _texts(response))
    with clock.travel(dt.timedelta(days=8)):
        threads.message_post(actor=author, thread=thread, body="期满后可以发言")


def test_lifting_a_ban_lets_the_resident_post_again(client, world, thread):
    author = world.a_resident.user
    threads.posting_ban(actor=world.a_staff, community=world.a, user=author, reason="刷屏")
    with pytest.raises(NotAllowed, match="刷屏"):
        threads.message_post(actor=author, thread=thread, body="你好")
    client.force_login(world.a_staff)
    ban = PostingBan.objects.get()
    response = client.post(
        reverse("posting_ban_lift", args=[world.a.slug, ban.pk]), follow=True, **EN
    )
    assert f"{author.public_name} may post again." in _texts(response)
    assert not PostingBan.objects.exists()
    assert EvidenceEvent.objects.filter(action="thread.posting_ban_lifted").exists()
    threads.message_post(actor=author, thread=thread, body="你好")


def test_the_ban_page_is_for_the_communitys_staff_alone(client, world):
    url = reverse("posting_bans", args=[world.a.slug])
    for outsider in (world.b_staff, world.a_resident.user, world.admin, world.other_admin):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        data = {"user": world.a_resident.user.pk, "days": "7", "reason": "x"}
        assert client.post(url, data).status_code == 404
    assert not PostingBan.objects.exists()


def test_a_ban_needs_a_person_of_the_community_and_a_reason(client, world):
    client.force_login(world.a_staff)
    url = reverse("posting_bans", args=[world.a.slug])
    response = client.post(url, {"user": world.b_resident.user.pk, "days": "7", "reason": "x"})
    assert response.status_code == 400
    response = client.post(url, {"user": world.a_resident.user.pk, "days": "7", "reason": ""})
    assert response.status_code == 400
    with pytest.raises(InvalidMove):
        threads.posting_ban(actor=world.a_staff, community=world.a, user=world.a_staff, reason="x")
    assert not PostingBan.objects.exists()
