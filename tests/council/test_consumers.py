"""The thread WebSocket consumer, end to end through the real ASGI application.

Transactional tests: the services broadcast on commit, so commits must really happen. The
same tests run over the in-memory channel layer and, with REDIS_URL set, over Redis.
"""

import asyncio
import datetime as dt
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from council import clock, threads
from council.models import Message, Role, RoleKind
from tests.sockets import BASE_HEADERS, application, frames_until_quiet, socket_connect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


@pytest.fixture
def thread(world):
    # Load the residents' users now: async tests may not touch the ORM lazily.
    for residency in (world.a_resident, world.a_member, world.b_resident):
        residency.user  # noqa: B018
    return threads.thread_create(community=world.a, title="更换小区路灯")


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(thread_id, user=None, *, language="en"):
    cookie = None if user is None else f"sessionid={await sync_to_async(_session)(user)}"
    return await socket_connect(f"/ws/threads/{thread_id}/", language=language, cookie=cookie)


async def drain(communicator, quiet=0.3) -> list[str]:
    return await frames_until_quiet(communicator, quiet)


async def expect(communicator, needle: str, timeout=5) -> str:
    """The next frame that contains ``needle`` (skipping presence and the like)."""
    seen = []
    while True:
        try:
            frame = await communicator.receive_from(timeout=timeout)
        except TimeoutError as error:
            raise AssertionError(f"no frame with {needle!r} among {seen!r}") from error
        if needle in frame:
            return frame
        seen.append(frame)


async def send(communicator, **frame):
    await communicator.send_to(text_data=json.dumps(frame))


async def post(communicator, body, **extra):
    await send(communicator, action="post", body=body, **extra)


async def last_message_id() -> int:
    return await sync_to_async(
        lambda: Message.objects.order_by("-pk").values_list("pk", flat=True)[0]
    )()


# --- Connecting -----------------------------------------------------------------------------------


async def test_a_thread_the_user_may_not_read_is_refused_with_4403(world, thread):
    hidden = await sync_to_async(threads.thread_create)(
        community=world.b, title="内部讨论", is_public=False
    )
    communicator = WebsocketCommunicator(
        application(),
        f"/ws/threads/{hidden.pk}/",
        headers=[
            *BASE_HEADERS,
            (
                b"cookie",
                f"sessionid={await sync_to_async(_session)(world.a_resident.user)}".encode(),
            ),
        ],
    )
    await communicator.connect()
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    # A missing thread looks the same.
    missing = WebsocketCommunicator(application(), "/ws/threads/999999/", headers=BASE_HEADERS)
    await missing.connect()
    assert await missing.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_without_the_origin_header_the_connection_is_refused(thread):
    communicator = WebsocketCommunicator(
        application(), f"/ws/threads/{thread.pk}/", headers=[(b"host", b"testserver")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_anonymous_reads_a_public_thread_but_may_not_post_and_stays_connected(world, thread):
    await sync_to_async(threads.message_post)(
        actor=world.a_resident.user, thread=thread, body="路灯坏了两个月"
    )
    anonymous = await connect(thread.pk)
    await post(anonymous, "hello")
    frame = await expect(anonymous, "data-code")
    assert 'data-code="not_allowed"' in frame
    assert f'id="thread-{thread.pk}-errors"' in frame
    await send(anonymous, action="resume", after=0)
    assert "路灯坏了两个月" in await expect(anonymous, "data-message-id")
    await anonymous.disconnect()


# --- Posting and the per-viewer rendering ---------------------------------------------------------


async def test_a_post_reaches_both_clients_rendered_for_each(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    staff = await connect(thread.pk, world.a_staff)
    await drain(author), await drain(staff)

    await post(author, "**三盏**路灯坏了")
    # Until both have come (the first post of a process is slow: templates, catalogues).
    frames = [await expect(author, "thread-")]
    while not all(any(needle in f for f in frames) for needle in ("-composer", "data-message-id")):
        frames.append(await expect(author, "thread-"))
    composer = next(f for f in frames if f'id="thread-{thread.pk}-composer"' in f)
    assert 'hx-swap-oob="true"' in composer and "</textarea>" in composer
    mine = next(f for f in frames if "data-message-id" in f)
    assert f'<div id="thread-{thread.pk}-messages" hx-swap-oob="beforeend">' in mine
    assert "<strong>三盏</strong>" in mine
    assert 'value="edit"' in mine and 'value="delete"' in mine
    assert 'value="hide"' not in mine

    theirs = await expect(staff, "data-message-id")
    assert "<strong>三盏</strong>" in theirs
    assert 'value="hide"' in theirs
    assert 'value="edit"' not in theirs and 'value="delete"' not in theirs
    await author.disconnect(), await staff.disconnect()


async def test_a_plain_form_post_without_javascript_is_broadcast_too(world, thread):
    watcher = await connect(thread.pk)
    await drain(watcher)
    client = Client()
    await sync_to_async(client.force_login)(world.a_resident.user)
    response = await sync_to_async(client.post)(
        reverse("thread_post", args=[thread.pk]), {"body": "没有脚本也能发言"}
    )
    assert response.status_code == 302
    assert "没有脚本也能发言" in await expect(watcher, "data-message-id")
    await watcher.disconnect()


async def test_edit_within_the_window_then_refused_after_it(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    other = await connect(thread.pk, world.a_member.user)
    await post(author, "原文")
    await expect(other, "原文")
    await drain(author)
    mid = await last_message_id()

    await send(author, action="edit", message=mid, body="改过的文字")
    for communicator in (author, other):
        frame = await expect(communicator, "改过的文字")
        assert f'<article id="message-{mid}"' in frame
        assert 'hx-swap-oob="outerHTML"' in frame
        assert "(edited)" in frame
    await drain(author)

    with clock.travel(dt.timedelta(minutes=6)):
        await send(author, action="edit", message=mid, body="太晚了")
        frame = await expect(author, "data-code")
    assert 'data-code="invalid"' in frame and "5 minutes" in frame
    await author.disconnect(), await other.disconnect()


async def test_delete_leaves_a_tombstone_for_everyone(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    other = await connect(thread.pk, world.a_member.user)
    await post(author, "要删掉的话")
    await expect(other, "要删掉的话")
    mid = await last_message_id()
    await send(author, action="delete", message=mid)
    for communicator in (author, other):
        frame = await expect(communicator, "Message deleted.")
        assert f'id="message-{mid}"' in frame and "要删掉的话" not in frame
    await author.disconnect(), await other.disconnect()


async def test_staff_hide_with_a_reason_shown_to_both(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    staff = await connect(thread.pk, world.a_staff)
    await post(author, "不当言论")
    await expect(staff, "不当言论")
    mid = await last_message_id()
    await drain(staff)

    await send(staff, action="hide", message=mid, reason="")
    assert 'data-code="invalid"' in await expect(staff, "data-code")

    await send(staff, action="hide", message=mid, reason="人身攻击")
    for communicator in (author, staff):
        frame = await expect(communicator, "人身攻击")
        assert "Hidden by staff" in frame and "不当言论" not in frame
    await author.disconnect(), await staff.disconnect()


async def test_a_resident_may_not_hide(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    await post(author, "一句话")
    await expect(author, "data-message-id")
    await send(author, action="hide", message=await last_message_id(), reason="x")
    assert 'data-code="not_allowed"' in await expect(author, "data-code")
    await author.disconnect()


# --- Limits and bad frames ------------------------------------------------------------------------


async def test_posting_too_fast_is_rate_limited(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    for i in range(threads.RATE_LIMIT):
        await post(author, f"第{i}条")
        await expect(author, f"第{i}条")
    await post(author, "太快了")
    assert 'data-code="rate_limited"' in await expect(author, "data-code")
    await author.disconnect()


async def test_an_overlong_message_is_too_long(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    await post(author, "字" * (threads.MAX_LENGTH + 1))
    assert 'data-code="too_long"' in await expect(author, "data-code")
    assert await sync_to_async(Message.objects.count)() == 0
    await author.disconnect()


async def test_malformed_frames_and_unknown_actions_get_an_error_and_the_connection_stays(
    world, thread
):
    author = await connect(thread.pk, world.a_resident.user)
    await drain(author)
    await author.send_to(text_data="{not json")
    assert 'data-code="malformed"' in await expect(author, "data-code")
    await author.send_to(text_data="[1, 2]")
    assert 'data-code="malformed"' in await expect(author, "data-code")
    await send(author, action="shout")
    assert 'data-code="unknown_action"' in await expect(author, "data-code")
    await send(author, action="resume", after="abc")
    assert 'data-code="malformed"' in await expect(author, "data-code")
    await send(author, action="edit", message="abc", body="x")
    assert 'data-code="invalid"' in await expect(author, "data-code")
    await send(author, action="ping")
    await post(author, "still here")
    assert "still here" in await expect(author, "data-message-id")
    await author.disconnect()


async def test_frames_too_large_too_deep_or_with_numbers_out_of_range_get_an_error_and_stay(
    world, thread
):
    author = await connect(thread.pk, world.a_resident.user)
    await drain(author)
    refused = [
        ('{"action": "resume", "after": 1e400}', "bad_number"),  # infinity
        ('{"action": "resume", "after": NaN}', "bad_number"),
        ('{"action": "resume", "after": -Infinity}', "bad_number"),
        ('{"action": "resume", "after": 99999999999999999999}', "bad_number"),
        ('{"action": "resume", "after": -5}', "bad_number"),
        ('{"action": "resume", "after": 2.5}', "bad_number"),
        ('{"action": "edit", "message": 1' + "0" * 4400 + ', "body": "x"}', "bad_number"),
        # 100,000 levels deep: over the size limit before anything reads it.
        ('{"action": "resume", "after": ' + "[" * 100_000 + "]" * 100_000 + "}", "too_large"),
        # Deep enough to exhaust the JSON parser's recursion, under the size limit.
        ("[" * 30_000 + "]" * 30_000, "too_deep"),
        ('{"action": "post", "body": {"nested": {"more": 1}}}', "too_deep"),
        (json.dumps({"action": "post", "body": "长" * 40_000}), "too_large"),  # 120 KB
        ("x" * 10 * 1024 * 1024, "too_large"),  # 10 MB (daphne closes these with 1009)
    ]
    for frame, code in refused:
        await author.send_to(text_data=frame)
        assert f'data-code="{code}"' in await expect(author, "data-code"), frame[:60]
    # Each error speaks the reader's language.
    chinese = await connect(thread.pk, world.a_member.user, language="zh-hans")
    await drain(chinese)
    await chinese.send_to(text_data='{"action": "resume", "after": 1e400}')
    assert "您发送的内容中有数字超出范围。" in await expect(chinese, "data-code")
    await chinese.disconnect()
    # The connection still works.
    await post(author, "still here")
    assert "still here" in await expect(author, "data-message-id")
    await send(author, action="resume", after=0)
    assert "still here" in await expect(author, "data-message-id")
    await author.disconnect()


# --- Permission is checked on every frame ---------------------------------------------------------


def _role_ended(world, resident):
    Role.objects.filter(user=resident, kind=RoleKind.RESIDENT).update(status="ended")


def _barred(world, resident):
    threads.posting_ban(
        actor=world.a_staff, community=world.a, user=resident, reason="多次人身攻击"
    )


@pytest.mark.parametrize("revoke", [_role_ended, _barred], ids=["role ended", "barred"])
async def test_a_resident_who_may_no_longer_post_is_refused_on_the_next_message(
    world, thread, revoke
):
    resident = world.a_resident.user
    author = await connect(thread.pk, resident)
    await post(author, "第一条")
    await expect(author, "第一条")
    await sync_to_async(revoke)(world, resident)
    await post(author, "第二条")
    assert 'data-code="not_allowed"' in await expect(author, "data-code")
    assert await sync_to_async(Message.objects.count)() == 1
    await author.disconnect()


async def test_a_closed_thread_refuses_posts(world, thread):
    author = await connect(thread.pk, world.a_resident.user)
    await drain(author)
    await sync_to_async(threads.thread_set_open)(thread=thread, is_open=False)
    frame = await expect(author, f'id="thread-{thread.pk}-state"')
    assert "Closed" in frame and "closed to new messages" in frame
    await post(author, "还能说吗")
    assert 'data-code="not_allowed"' in await expect(author, "data-code")
    await author.disconnect()


# --- Reconnecting and presence --------------------------------------------------------------------


async def test_a_client_that_reconnects_receives_exactly_what_it_missed_in_order(world, thread):
    first = await connect(thread.pk, world.a_member.user)
    author = await connect(thread.pk, world.a_resident.user)
    await post(author, "看到了")
    await expect(first, "看到了")
    seen = await last_message_id()
    await first.disconnect()

    await post(author, "错过一")
    await expect(author, "错过一")
    await post(author, "错过二")
    await expect(author, "错过二")

    again = await connect(thread.pk, world.a_member.user)
    await drain(again)
    await send(again, action="resume", after=seen)
    frames = [f for f in await drain(again) if "data-message-id" in f]
    assert len(frames) == 2
    assert "错过一" in frames[0] and "错过二" in frames[1]
    assert all("看到了" not in f for f in frames)
    await again.disconnect(), await author.disconnect()


async def test_presence_lists_both_viewers(world, thread):
    first = await connect(thread.pk, world.a_resident.user)
    second = await connect(thread.pk, world.a_staff)
    anonymous = await connect(thread.pk)
    # Presence updates are debounced (one per second per connection).
    frames = [f for f in await drain(first, quiet=1.6) if "-presence" in f]
    last = frames[-1]
    assert "居民a_resident" in last
    assert world.a_staff.display_name in last
    assert "1 visitor" in last
    await anonymous.disconnect()
    after = [f for f in await drain(first, quiet=1.6) if "-presence" in f][-1]
    assert "visitor" not in after and world.a_staff.display_name in after
    await first.disconnect(), await second.disconnect()


# --- How far a reader has read (unread counts on 我的) -------------------------------------


async def test_what_a_signed_in_reader_is_shown_through_the_socket_counts_as_read(
    world, thread, monkeypatch
):
    from council import consumers
    from council.models import ThreadRead

    monkeypatch.setattr(consumers, "READ_DEBOUNCE", 0.05)
    await sync_to_async(threads.message_post)(actor=world.a_member.user, thread=thread, body="一")
    reader = await connect(thread.pk, world.a_resident.user)
    await send(reader, action="resume", after=0)
    await expect(reader, "data-message-id")

    def mark():
        row = ThreadRead.objects.filter(user=world.a_resident.user, thread=thread).first()
        return row.last_read_message_id if row else None

    await drain(reader)
    assert await sync_to_async(mark)() == await last_message_id()
    await sync_to_async(threads.message_post)(actor=world.a_member.user, thread=thread, body="二")
    await expect(reader, "二")
    await drain(reader)
    assert await sync_to_async(mark)() == await last_message_id()
    await reader.disconnect()
    # An anonymous reader leaves no mark.
    anonymous = await connect(thread.pk)
    await send(anonymous, action="resume", after=0)
    await drain(anonymous)
    await anonymous.disconnect()
    assert await sync_to_async(ThreadRead.objects.count)() == 1


async def test_readers_who_close_the_page_at_once_still_have_what_they_were_shown_marked_read(
    world, thread, monkeypatch
):
    from council import consumers
    from council.models import ThreadRead

    monkeypatch.setattr(consumers, "READ_DEBOUNCE", 0.3)
    await sync_to_async(threads.message_post)(actor=world.a_member.user, thread=thread, body="一")
    readers = {
        user.pk: await connect(thread.pk, user) for user in (world.a_resident.user, world.a_staff)
    }
    for reader in readers.values():
        await send(reader, action="resume", after=0)
        await expect(reader, "data-message-id")
        await reader.disconnect()  # before the marks are written
    await asyncio.sleep(0.6)

    marks = await sync_to_async(
        lambda: dict(
            ThreadRead.objects.filter(thread=thread).values_list("user", "last_read_message_id")
        )
    )()
    assert marks == dict.fromkeys(readers, await last_message_id())
