"""Replies in a thread: the 「回复」 button's hidden field, checked by the same form and service
for the page and the socket; a reply is shown one level under the message it answers, and its
author hears of it in words, never in Markdown."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from council import services as council_services
from council import threads
from council.errors import InvalidMove
from council.forms import MessageForm
from council.models import Message, Notification
from council.thread_actions import perform
from council.thread_render import Viewer, render_message, thread_context
from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker

MARKDOWN = "**粗体**\n### 标题\n- 列表"
SYNTAX = ("**", "###", "- ")


@pytest.fixture
def thread(world):
    return threads.thread_create(community=world.a, title="更换小区路灯", page_url="/somewhere/")


def post(user, thread, body, reply_to=None):
    return threads.message_post(actor=user, thread=thread, body=body, reply_to_id=reply_to)


def test_a_reply_is_shown_under_the_message_it_answers(world, thread):
    first = post(world.a_resident.user, thread, "路灯坏了")
    reply = post(world.a_member.user, thread, "我也看到了", first.pk)
    assert (reply.reply_to_id, reply.quote_id) == (first.pk, first.pk)
    context = thread_context(world.a_staff, thread)
    assert [m.pk for m in context["thread_messages"]] == [first.pk]
    assert [m.pk for m in context["thread_messages"][0].thread_replies] == [reply.pk]


def test_a_reply_to_a_reply_nests_under_the_top_level_message_and_names_whom_it_answers(
    world, thread
):
    first = post(world.a_resident.user, thread, "路灯坏了")
    reply = post(world.a_member.user, thread, "我也看到了", first.pk)
    answer = post(world.a_staff, thread, "**明天**就修", reply.pk)
    assert (answer.reply_to_id, answer.quote_id) == (first.pk, reply.pk)
    top = thread_context(world.a_staff, thread)["thread_messages"]
    assert [m.pk for m in top] == [first.pk]
    assert [m.pk for m in top[0].thread_replies] == [reply.pk, answer.pk]
    html = render_message(Viewer(world.a_staff, "zh-hans"), answer.pk)
    assert f'id="message-{first.pk}-replies" hx-swap-oob="beforeend"' in html
    assert "回复 居民a_member：" in html


def test_a_reply_to_a_message_of_another_thread_is_refused_with_a_clear_message(world, thread):
    other = threads.thread_create(community=world.a, title="别的讨论")
    elsewhere = post(world.a_resident.user, other, "另一件事")
    with pytest.raises(InvalidMove, match="not in this discussion"):
        post(world.a_member.user, thread, "回复", elsewhere.pk)
    outcome = perform(
        world.a_member.user, thread.pk, "post", {"body": "回复", "reply_to": elsewhere.pk}
    )
    assert outcome.code == "invalid" and "not in this discussion" in outcome.text
    assert not Message.objects.filter(thread=thread).exists()


def test_a_hidden_or_deleted_message_cannot_be_answered(world, thread):
    hidden = post(world.a_resident.user, thread, "留了电话")
    threads.message_hide(actor=world.a_staff, message_id=hidden.pk, reason="含有电话号码")
    deleted = post(world.a_resident.user, thread, "说错了")
    threads.message_delete(actor=world.a_resident.user, message_id=deleted.pk)
    for gone in (hidden, deleted):
        outcome = perform(
            world.a_member.user, thread.pk, "post", {"body": "回复", "reply_to": gone.pk}
        )
        assert outcome.code == "invalid" and "hidden or deleted" in outcome.text
    assert Message.objects.filter(thread=thread).count() == 2


def test_the_reply_field_takes_a_message_id_only(world, thread):
    assert MessageForm({"body": "好", "reply_to": ""}).is_valid()
    assert not MessageForm({"body": "好", "reply_to": "#12"}).is_valid()
    assert not MessageForm({"body": "好", "reply_to": "0"}).is_valid()


def test_the_page_offers_a_reply_button_instead_of_a_message_number_field(client, world):
    proposal = ProposalMaker(world).make(Stage.CONSULTATION)
    first = post(world.a_resident.user, proposal.thread, "路灯坏了")
    client.force_login(world.a_member.user)
    page = reverse("proposal", args=[world.a.slug, proposal.pk])
    html = client.get(page).content.decode()
    assert 'name="quote"' not in html
    assert re.search(
        rf'<a class="button secondary small reply-link" href="\?reply={first.pk}#', html
    )
    assert 'name="reply_to" value=""' in html
    assert re.search(r'class="replying" hidden', html)
    # Without JavaScript the button's link opens the composer as the reply.
    html = client.get(f"{page}?reply={first.pk}").content.decode()
    assert f'name="reply_to" value="{first.pk}"' in html
    assert re.search(r'class="replying">', html) and "路灯坏了" in html
    assert f'name="next" value="{page}"' in html  # back to the page, no longer replying


def test_a_reply_posted_without_javascript_shows_nested_on_the_page(client, world):
    proposal = ProposalMaker(world).make(Stage.CONSULTATION)
    first = post(world.a_resident.user, proposal.thread, "路灯坏了")
    client.force_login(world.a_member.user)
    page = reverse("proposal", args=[world.a.slug, proposal.pk])
    response = client.post(
        reverse("thread_post", args=[proposal.thread.pk]),
        {"action": "post", "body": "我也看到了", "reply_to": str(first.pk), "next": page},
    )
    assert response.status_code == 302
    html = client.get(page).content.decode()
    group = re.search(
        rf'<div id="message-{first.pk}-replies".*?</div>\s*(?=<article|</div>)', html, re.S
    )
    assert group and "我也看到了" in group.group(0)


def test_the_author_answered_hears_of_the_reply_in_words_not_markdown(
    world, thread, django_capture_on_commit_callbacks, mailoutbox
):
    author = world.a_resident.user
    council_services.notification_preference_set(user=author, choice="immediate")
    first = post(author, thread, "路灯坏了")
    with django_capture_on_commit_callbacks(execute=True):
        reply = post(world.a_member.user, thread, MARKDOWN, first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        post(author, thread, "谢谢", reply.pk)  # the member hears; nobody hears of their own
    note = Notification.objects.get(recipient=author)
    assert note.text.startswith("居民a_member")
    assert "粗体" in note.text and "标题" in note.text and "列表" in note.text
    assert not any(mark in note.text for mark in SYNTAX)
    assert note.url == f"/somewhere/#message-{reply.pk}"
    call_command("minutely", stdout=io.StringIO())
    [mail] = [m for m in mailoutbox if m.to == [author.email]]
    assert "粗体" in mail.body and not any(mark in mail.body + mail.subject for mark in SYNTAX)
    assert Notification.objects.filter(recipient=world.a_member.user).count() == 1
