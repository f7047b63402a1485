"""Replies over the thread's socket: the consumer checks the 「回复」 field with the page's form
and service, and every reader sees the reply arrive under the message it answers."""

import pytest
from asgiref.sync import sync_to_async

from council import threads
from council.models import Message
from tests.council.test_consumers import connect, expect, last_message_id, post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


@pytest.fixture
def thread(world):
    for residency in (world.a_resident, world.a_member, world.b_resident):
        residency.user  # noqa: B018
    return threads.thread_create(community=world.a, title="更换小区路灯")


async def test_a_reply_sent_on_the_socket_reaches_every_reader_nested_under_the_top_message(
    world, thread
):
    first = await sync_to_async(threads.message_post)(
        actor=world.a_resident.user, thread=thread, body="路灯坏了"
    )
    reply = await sync_to_async(threads.message_post)(
        actor=world.a_staff, thread=thread, body="已登记", reply_to_id=first.pk
    )
    member = await connect(thread.pk, world.a_member.user, language="zh-hans")
    reader = await connect(thread.pk, language="zh-hans")
    await post(member, "**我也**看到了", reply_to=str(reply.pk))
    frame = await expect(reader, "我也")
    answer = await last_message_id()
    assert f'<div id="message-{first.pk}-replies" hx-swap-oob="beforeend">' in frame
    assert f'id="message-{answer}"' in frame
    assert "回复 居民a_resident" not in frame and "回复" in frame
    stored = await sync_to_async(Message.objects.get)(pk=answer)
    assert (stored.reply_to_id, stored.quote_id) == (first.pk, reply.pk)
    # The member's own composer comes back empty, no longer a reply.
    composer = await expect(member, f'id="thread-{thread.pk}-composer"')
    assert 'name="reply_to" value=""' in composer
    for communicator in (member, reader):
        await communicator.disconnect()


async def test_a_reply_to_a_message_of_another_thread_is_refused_on_the_socket(world, thread):
    other = await sync_to_async(threads.thread_create)(community=world.a, title="别的讨论")
    elsewhere = await sync_to_async(threads.message_post)(
        actor=world.a_resident.user, thread=other, body="另一件事"
    )
    member = await connect(thread.pk, world.a_member.user, language="zh-hans")
    await post(member, "回复", reply_to=str(elsewhere.pk))
    frame = await expect(member, "data-code")
    assert 'data-code="invalid"' in frame and "您回复的留言不属于本讨论区。" in frame
    assert not await sync_to_async(Message.objects.filter(thread=thread).exists)()
    await member.disconnect()
