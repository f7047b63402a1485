"""Thread services, the plain POST views (no JavaScript) and the thread on the proposal page."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from council import clock, threads
from council.errors import InvalidMove, NotAllowed, RateLimited
from council.models import Message, MessageReport
from council.thread_actions import perform
from council.thread_render import Viewer, render_message, viewer_language
from tests.proposals.conftest import ProposalMaker


@pytest.fixture
def thread(world):
    return threads.thread_create(community=world.a, title="更换小区路灯")


def post_url(thread, action="post"):
    return reverse(f"thread_{action}", args=[thread.pk])


# --- Services -------------------------------------------------------------------------------------


def test_a_post_is_broadcast_on_commit_with_its_id_only(
    world, thread, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        message = threads.message_post(actor=world.a_resident.user, thread=thread, body="你好")
    assert message.body_html == "<p>你好</p>"
    assert len(callbacks) == 1


def test_posting_too_fast_raises_rate_limited(world, thread):
    for i in range(threads.RATE_LIMIT):
        threads.message_post(actor=world.a_resident.user, thread=thread, body=f"{i}")
    with pytest.raises(RateLimited):
        threads.message_post(actor=world.a_resident.user, thread=thread, body="more")
    assert issubclass(RateLimited, InvalidMove)


def test_a_resident_of_another_community_may_not_post(world, thread):
    with pytest.raises(NotAllowed):
        threads.message_post(actor=world.b_resident.user, thread=thread, body="隔壁的")


def test_perform_maps_refusals_to_protocol_codes(world, thread):
    resident = world.a_resident.user
    assert perform(resident, thread.pk, "post", {"body": ""}).code == "invalid"
    too_long = perform(resident, thread.pk, "post", {"body": "x" * (threads.MAX_LENGTH + 1)})
    assert too_long.code == "too_long"
    assert perform(resident, thread.pk, "post", {"body": "hi", "kind": "official"}).code == (
        "not_allowed"
    )
    assert perform(resident, thread.pk, "post", {"body": "hi", "kind": "bogus"}).code == "invalid"
    hidden = threads.thread_create(community=world.b, title="内部", is_public=False)
    refused = perform(resident, hidden.pk, "post", {"body": "hi"})
    assert refused.code == "not_allowed" and not refused.readable
    other = threads.message_post(actor=world.b_resident.user, thread=hidden, body="b")
    outcome = perform(resident, thread.pk, "delete", {"message": other.pk})
    assert outcome.code == "invalid"  # a message of another thread
    assert Message.objects.filter(pk=other.pk, deleted_at__isnull=True).exists()


# --- Rendering for a viewer -----------------------------------------------------------------------


def test_the_message_fragment_shows_each_viewer_their_own_controls(world, thread):
    message = threads.message_post(actor=world.a_resident.user, thread=thread, body="看一看")
    author = render_message(Viewer(world.a_resident.user, "en"), message.pk)
    staff = render_message(Viewer(world.a_staff, "en"), message.pk)
    anonymous = render_message(Viewer(AnonymousUser(), "en"), message.pk)
    assert 'value="edit"' in author and 'value="hide"' not in author
    assert 'value="hide"' in staff and 'value="edit"' not in staff and 'value="report"' in staff
    assert "看一看" in anonymous and "<form" not in anonymous
    with clock.travel(dt.timedelta(minutes=6)):
        late = render_message(Viewer(world.a_resident.user, "en"), message.pk)
    assert 'value="edit"' not in late and 'value="delete"' in late


def test_badges_and_kind_labels(world, thread):
    official = threads.message_post(
        actor=world.a_staff, thread=thread, body="答复", kind="official"
    )
    html = render_message(Viewer(world.a_resident.user, "en"), official.pk)
    assert "staff-badge" in html and "official answer" in html
    opinion = threads.post_expert_opinion(actor=world.a_expert, thread=thread, text="可行")
    html = render_message(Viewer(world.a_resident.user, "en"), opinion.pk)
    assert "expert-badge" in html and "expert opinion" in html


def test_the_viewer_language_comes_from_the_cookie_then_accept_language_then_the_user(world):
    user = world.a_staff
    user.language = "en"
    assert viewer_language({"headers": [(b"cookie", b"django_language=zh-hans")]}, user) == (
        "zh-hans"
    )
    assert viewer_language({"headers": [(b"accept-language", b"zh-CN,zh;q=0.9")]}, user) == (
        "zh-hans"
    )
    assert viewer_language({"headers": []}, user) == "en"
    assert viewer_language({"headers": []}, AnonymousUser()) == "zh-hans"


# --- The plain POST views -------------------------------------------------------------------------


def test_a_plain_post_saves_broadcasts_and_goes_back_to_next(
    client, world, thread, django_capture_on_commit_callbacks
):
    client.force_login(world.a_resident.user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(post_url(thread), {"body": "不用脚本", "next": "/c/x/?a=1"})
    assert response.status_code == 302 and response.url == "/c/x/?a=1"
    assert Message.objects.get().body == "不用脚本"
    assert len(callbacks) == 1


def test_an_outside_next_is_ignored_for_the_community_page(client, world, thread):
    client.force_login(world.a_resident.user)
    response = client.post(post_url(thread), {"body": "hi", "next": "https://evil.example/"})
    assert response.url == reverse("community", args=[world.a.slug])


def test_a_refused_post_says_why(client, world, thread):
    response = client.post(
        post_url(thread), {"body": "anonymous"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Only residents of" in response.content.decode()
    assert not Message.objects.exists()


def test_a_thread_the_user_may_not_read_is_404(client, world):
    hidden = threads.thread_create(community=world.b, title="内部", is_public=False)
    client.force_login(world.a_resident.user)
    assert client.post(post_url(hidden), {"body": "hi"}).status_code == 404
    assert client.get(post_url(hidden)).status_code in (404, 405)


def test_edit_delete_hide_and_report_without_javascript(client, world, thread):
    resident = world.a_resident.user
    message = threads.message_post(actor=resident, thread=thread, body="原文")
    client.force_login(resident)
    client.post(post_url(thread, "edit"), {"message": message.pk, "body": "新文"})
    message.refresh_from_db()
    assert message.body == "新文" and message.edited_at

    client.force_login(world.a_member.user)
    client.post(post_url(thread, "report"), {"message": message.pk, "reason": "跑题"})
    assert MessageReport.objects.filter(message=message).count() == 1

    client.force_login(world.a_staff)
    response = client.post(
        post_url(thread, "hide"),
        {"message": message.pk, "reason": ""},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Give the reason" in response.content.decode()
    client.post(post_url(thread, "hide"), {"message": message.pk, "reason": "跑题"})
    message.refresh_from_db()
    assert message.hidden_reason == "跑题"

    second = threads.message_post(actor=resident, thread=thread, body="再说一句")
    client.force_login(resident)
    client.post(post_url(thread, "delete"), {"message": second.pk})
    second.refresh_from_db()
    assert second.deleted_at and second.body == ""


# --- On the proposal page -------------------------------------------------------------------------


@pytest.fixture
def proposals(world):
    return ProposalMaker(world)


def test_the_proposal_page_shows_its_thread_with_a_composer_for_residents(client, world, proposals):
    proposal = proposals.make("consultation")
    threads.message_post(actor=world.a_resident.user, thread=proposal.thread, body="**支持**")
    page = reverse("proposal", args=[world.a.slug, proposal.pk])
    client.force_login(world.a_member.user)
    html = client.get(page, headers={"accept-language": "en"}).content.decode()
    tid = proposal.thread.pk
    assert f'ws-connect="/ws/threads/{tid}/"' in html
    assert f'id="thread-{tid}-messages"' in html and 'aria-live="polite"' in html
    assert "<strong>支持</strong>" in html
    assert f'action="{reverse("thread_post", args=[tid])}"' in html and "ws-send" in html
    assert "js/threads.js" in html

    client.logout()
    html = client.get(page).content.decode()
    assert f'id="thread-{tid}-messages"' in html
    assert f'id="thread-{tid}-composer" class="form' not in html


def test_after_consultation_the_thread_is_readable_and_closed(client, world, proposals):
    proposal = proposals.make("voting")
    client.force_login(world.a_resident.user)
    html = client.get(
        reverse("proposal", args=[world.a.slug, proposal.pk]), headers={"accept-language": "en"}
    ).content.decode()
    assert f'id="thread-{proposal.thread.pk}-messages"' in html
    assert "This thread is closed to new messages." in html
    assert f'id="thread-{proposal.thread.pk}-composer" class="form' not in html


def test_staff_see_reported_messages_and_hide_them_from_the_list(client, world, proposals):
    thread_services = threads
    proposal = proposals.make("consultation")
    message = thread_services.message_post(
        actor=world.a_member.user, thread=proposal.thread, body="打电话给我 13900001111"
    )
    thread_services.message_report(
        actor=world.a_resident.user, message_id=message.pk, reason="含有电话号码"
    )
    url = reverse("message_reports", args=[world.a.slug])
    client.force_login(world.b_staff)
    assert client.get(url).status_code == 404
    client.force_login(world.a_staff)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "含有电话号码" in page and "打电话给我" in page
    assert f"{proposal.thread.page_url}#message-{message.pk}" in page
    response = client.post(
        reverse("thread_hide", args=[proposal.thread.pk]),
        {"message": message.pk, "reason": "含有电话号码", "next": url},
    )
    assert response.status_code == 302 and response.url == url
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No reported messages wait for you." in page
