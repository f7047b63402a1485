"""A long thread on its page: the newest messages first, 「显示更早的留言」 for the ones before,
with htmx or without JavaScript; the page's queries do not grow with the thread."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council import threads
from council.selectors import THREAD_WINDOW
from council.thread_render import thread_context

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def thread(world):
    return threads.thread_create(community=world.a, title="更换小区路灯", page_url="/somewhere/")


def _post_many(world, thread, count, *, start=0):
    """``count`` top-level messages numbered from ``start``, by as many residents as the rate
    limit needs (five messages each)."""
    messages = []
    for n in range(start, start + count):
        if n % 5 == 0:
            author = world.resident(world.a, world.a_grid1, f"talker{n}").user
        messages.append(threads.message_post(actor=author, thread=thread, body=f"第{n}条留言"))
    return messages


def _url(thread, before):
    return reverse("thread_messages", args=[thread.pk]) + f"?before={before}"


def test_the_page_shows_the_newest_messages_with_their_replies_and_a_link_to_earlier_ones(
    world, thread
):
    messages = _post_many(world, thread, THREAD_WINDOW + 5)
    # A reply to the oldest shown message hangs under it.
    oldest_shown = messages[5]
    reply = threads.message_post(
        actor=world.a_member.user, thread=thread, body="我同意", reply_to_id=oldest_shown.pk
    )
    context = thread_context(world.a_resident.user, thread)
    shown = context["thread_messages"]
    assert [m.pk for m in shown] == [m.pk for m in messages[5:]]
    assert [m.pk for m in shown[0].thread_replies] == [reply.pk]
    assert context["thread_earlier"] == oldest_shown.pk
    assert context["thread_last"] == reply.pk


def test_earlier_messages_load_in_place_with_htmx_and_as_a_page_without_javascript(
    client, world, thread
):
    messages = _post_many(world, thread, THREAD_WINDOW + 3)
    before = messages[3].pk
    part = client.get(_url(thread, before), HTTP_HX_REQUEST="true", **EN).content.decode()
    assert "<html" not in part
    for n in range(3):
        assert f"第{n}条留言" in part
    assert "第3条留言" not in part
    assert "Show earlier messages" not in part  # these reach the first message
    page = client.get(_url(thread, before), **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and "Earlier messages" in html and "第0条留言" in html
    assert 'href="/somewhere/#thread-' in html  # back to the newest


def test_a_window_before_another_links_to_the_one_before_it(client, world, thread):
    messages = _post_many(world, thread, 2 * THREAD_WINDOW + 1)
    first = client.get(_url(thread, messages[-1].pk), HTTP_HX_REQUEST="true", **EN)
    html = first.content.decode()
    assert "Show earlier messages" in html
    # Messages 30 … 59 are shown; the link shows the ones before number 30.
    assert f"?before={messages[THREAD_WINDOW].pk}" in html
    assert "第29条留言" not in html and f"第{THREAD_WINDOW}条留言" in html


@pytest.mark.parametrize("before", ["", "-1", "abc", "1.5", "99999999999999999999"])
def test_a_malformed_before_is_a_clear_400(client, thread, before):
    response = client.get(reverse("thread_messages", args=[thread.pk]) + f"?before={before}", **EN)
    assert response.status_code == 400
    assert "This page of messages does not exist" in response.content.decode()


def test_a_before_past_the_end_is_an_empty_window_not_an_error(client, world, thread):
    _post_many(world, thread, 3)
    response = client.get(_url(thread, 99999999), HTTP_HX_REQUEST="true", **EN)
    assert response.status_code == 200
    assert "第0条留言" in response.content.decode()


def test_the_earlier_messages_of_a_thread_one_may_not_read_are_missing(client, world):
    private = threads.thread_create(community=world.a, title="委员内部", is_public=False)
    response = client.get(_url(private, 10), **EN)
    assert response.status_code == 404


def _page_queries(client, proposal_url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(proposal_url, **EN).status_code == 200
    return len(captured)


def test_the_thread_windows_queries_do_not_grow_with_the_thread(client, world, thread):
    _post_many(world, thread, 5)
    few = _page_queries(client, _url(thread, 10**9))
    _post_many(world, thread, 2 * THREAD_WINDOW, start=5)
    assert _page_queries(client, _url(thread, 10**9)) == few
