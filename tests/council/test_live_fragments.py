"""Thread broadcasts at scale: a message is rendered once per audience by the broadcast, and
the readers' connections send it with no database work of their own; who is viewing is
written and broadcast per thread, a bounded number of times however many readers arrive.

End to end through the real ASGI application, over the in-memory channel layer and, with
REDIS_URL set, over Redis.
"""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client

from council import consumers, thread_render, threads
from council.models import MessageKind, ThreadPresence
from tests.sockets import frames_until_quiet, socket_connect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

CSRF_SECRET = "a" * 32  # a CSRF cookie's secret: 32 letters and digits


@pytest.fixture
def thread(world):
    # Load the residents' users now: async tests may not touch the ORM lazily.
    for residency in (world.a_resident, world.a_member, world.b_resident):
        residency.user  # noqa: B018
    return threads.thread_create(community=world.a, title="加装电梯")


@pytest.fixture
async def consumer_queries():
    """The SQL run by the consumers' database calls (they all run in the one thread of
    ``database_sync_to_async``), as it happens."""
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def attach():
        connection.execute_wrappers.append(count)

    def detach():
        connection.execute_wrappers.remove(count)

    await database_sync_to_async(attach)()
    yield queries
    await database_sync_to_async(detach)()


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(thread_id, user=None, *, language="en"):
    cookie = f"csrftoken={CSRF_SECRET}"
    if user is not None:
        cookie += f"; sessionid={await sync_to_async(_session)(user)}"
    return await socket_connect(f"/ws/threads/{thread_id}/", language=language, cookie=cookie)


async def message_frame(communicator, needle: str, timeout=5) -> str:
    while True:
        frame = await communicator.receive_from(timeout=timeout)
        if needle in frame and "data-message-id" in frame:
            return frame


def elsewhere(function, **kwargs):
    """Run a service in a thread of its own (not the consumers' one), as a request would,
    and give its database connection back after (the pool is small)."""
    return database_sync_to_async(function, thread_sensitive=False)(**kwargs)


async def test_a_message_reaches_every_reader_with_no_query_on_their_connections(
    world, thread, consumer_queries
):
    readers = [await connect(thread.pk) for _ in range(12)]
    readers += [await connect(thread.pk, language="zh-hans") for _ in range(4)]
    resident = await connect(thread.pk, world.a_resident.user)
    staff = await connect(thread.pk, world.a_staff)
    everyone = [*readers, resident, staff]
    for communicator in everyone:
        await frames_until_quiet(communicator, 0.2)
    consumer_queries.clear()

    await elsewhere(
        threads.message_post, actor=world.a_staff, thread=thread, body="电梯方案", kind="official"
    )
    frames = [await message_frame(c, "电梯方案") for c in everyone]
    assert consumer_queries == []

    # Each language its own rendering.
    assert all(">staff<" in f for f in frames[:12])
    assert all(">工作人员<" in f for f in frames[12:16])
    for communicator in everyone:
        await communicator.disconnect()


async def test_each_audience_is_sent_its_own_fragment_with_its_own_csrf_token(world, thread):
    anonymous = await connect(thread.pk)
    resident = await connect(thread.pk, world.a_resident.user)
    staff = await connect(thread.pk, world.a_staff)
    author = await connect(thread.pk, world.a_member.user)
    everyone = (anonymous, resident, staff, author)
    for communicator in everyone:
        await frames_until_quiet(communicator, 0.2)

    await elsewhere(threads.message_post, actor=world.a_member.user, thread=thread, body="意见")
    seen_by_anonymous, seen_by_resident, seen_by_staff, seen_by_author = [
        await message_frame(c, "意见") for c in everyone
    ]

    # Anonymous: no control, no form, no token; the author's public name but no phone.
    assert "<form" not in seen_by_anonymous and "reply-link" not in seen_by_anonymous
    assert "csrfmiddlewaretoken" not in seen_by_anonymous
    assert "居民a_member" in seen_by_anonymous
    assert "13933334444" not in seen_by_anonymous
    # A resident replies and reports, but may not hide, edit or delete another's message.
    assert "reply-link" in seen_by_resident and 'value="report"' in seen_by_resident
    assert 'value="hide"' not in seen_by_resident and 'value="edit"' not in seen_by_resident
    # Staff may hide.
    assert 'value="hide"' in seen_by_staff and 'value="edit"' not in seen_by_staff
    # The author edits and deletes their own, and does not report it.
    assert 'value="edit"' in seen_by_author and 'value="delete"' in seen_by_author
    assert 'value="report"' not in seen_by_author
    # Each form carries the connection's own token, never the placeholder it was rendered with.
    for frame in (seen_by_resident, seen_by_staff, seen_by_author):
        assert thread_render.CSRF_SLOT not in frame
        token = frame.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
        assert _unmask_cipher_token(token) == CSRF_SECRET
    for communicator in everyone:
        await communicator.disconnect()


async def test_an_edit_and_a_hide_reach_each_audience_rendered_once(world, thread):
    message = await sync_to_async(threads.message_post)(
        actor=world.a_resident.user, thread=thread, body="原文"
    )
    anonymous = await connect(thread.pk, language="zh-hans")
    author = await connect(thread.pk, world.a_resident.user)
    for communicator in (anonymous, author):
        await frames_until_quiet(communicator, 0.2)

    await elsewhere(
        threads.message_edit, actor=world.a_resident.user, message_id=message.pk, body="改过"
    )
    edited = await message_frame(anonymous, "改过")
    assert 'hx-swap-oob="outerHTML"' in edited and "（已编辑）" in edited
    assert 'value="edit"' in await message_frame(author, "改过")

    await elsewhere(threads.message_hide, actor=world.a_staff, message_id=message.pk, reason="离题")
    hidden = await message_frame(anonymous, "离题")
    assert "改过" not in hidden
    assert 'value="edit"' not in await message_frame(author, "离题")
    for communicator in (anonymous, author):
        await communicator.disconnect()


def _every_audience_noted(thread):
    thread_render.audiences_note(
        thread.pk,
        [
            thread_render.fragment_key(language, audience)
            for language in ("zh-hans", "en")
            for audience in thread_render.broadcast_audiences(thread)
        ],
    )


def test_a_broadcast_renders_each_audience_read_once_in_a_fixed_number_of_queries(
    world, thread, django_assert_max_num_queries
):
    message = threads.message_post(
        actor=world.a_resident.user, thread=thread, body="长" * threads.MAX_LENGTH
    )
    # Only anonymous readers in Chinese: their rendering, and the author's own.
    thread_render.audiences_note(thread.pk, ["zh-hans/-"])
    rendered = thread_render.message_broadcast(message.pk)
    assert set(rendered["fragments"]) == {"zh-hans/-", "zh-hans/own"}

    _every_audience_noted(thread)
    with django_assert_max_num_queries(12):
        rendered = thread_render.message_broadcast(message.pk)
    audiences = len(thread_render.broadcast_audiences(thread)) + 1  # and the author's own
    assert len(rendered["fragments"]) == 2 * audiences
    # A 4,000-character message in every rendering: well within what a broadcast may carry
    # (channels-redis stores one copy per server process, whatever the readers).
    size = len(json.dumps(rendered).encode())
    assert size < thread_render.MAX_BROADCAST_HTML
    assert all(("长" * 200) in html for html in rendered["html"])


def test_a_broadcast_too_large_to_carry_goes_with_its_ids_for_each_reader_to_render(
    world, thread, django_capture_on_commit_callbacks, monkeypatch
):
    from channels.layers import get_channel_layer

    sent = []

    async def group_send(group, event):
        sent.append(event)

    _every_audience_noted(thread)
    monkeypatch.setattr(get_channel_layer(), "group_send", group_send)
    monkeypatch.setattr(thread_render, "MAX_BROADCAST_HTML", 10)  # every rendering too large
    with django_capture_on_commit_callbacks(execute=True):
        message = threads.message_post(actor=world.a_resident.user, thread=thread, body="一")
    assert sent[0]["message"] == message.pk and "fragments" not in sent[0]
    event = sent[0]
    assert (
        thread_render.fragment_for(event, "en", thread_render.ANONYMOUS, None, CSRF_SECRET) is None
    )


async def test_fifty_readers_arriving_get_a_few_presence_frames_each(world, thread, monkeypatch):
    monkeypatch.setattr(consumers, "PRESENCE_DEBOUNCE", 0.3)
    first = await connect(thread.pk)
    others = []
    try:
        for _batch in range(7):  # 49 more, seven at a time
            others += await asyncio.gather(*(connect(thread.pk) for _ in range(7)))
        frames = [f for f in await frames_until_quiet(first, 1.0) if "-presence" in f]
        # A frame per reader per join would be 50; one per debounce period is a handful.
        assert 1 <= len(frames) <= 10
        assert "50 visitors" in frames[-1]
        count = sync_to_async(ThreadPresence.objects.filter(thread=thread).count)
        assert await count() == 50

        await asyncio.gather(*(c.disconnect() for c in others))
        others = []
        frames = [f for f in await frames_until_quiet(first, 1.0) if "-presence" in f]
        assert 1 <= len(frames) <= 3
        assert "1 visitor" in frames[-1]
        assert await count() == 1
    finally:
        await asyncio.gather(*(c.disconnect() for c in [first, *others]))


async def test_presence_is_written_and_rendered_without_a_query_per_reader(
    world, thread, consumer_queries, monkeypatch
):
    monkeypatch.setattr(consumers, "PRESENCE_DEBOUNCE", 0.3)
    first = await connect(thread.pk)
    await frames_until_quiet(first, 0.6)
    consumer_queries.clear()
    others = []
    for _batch in range(4):
        others += await asyncio.gather(*(connect(thread.pk) for _ in range(5)))
    await frames_until_quiet(first, 0.8)
    # Each connection reads the thread once when it connects; presence costs a few
    # statements for all of them together.
    connecting = 20  # the thread, read once by each connection
    assert len(consumer_queries) <= connecting + 6
    await asyncio.gather(*(c.disconnect() for c in [first, *others]))


async def state_frame(communicator, timeout=5) -> str:
    while True:
        frame = await communicator.receive_from(timeout=timeout)
        if "-state" in frame and "thread-state" in frame:
            return frame


async def test_a_thread_closing_reaches_anonymous_readers_rendered_once_and_members_their_own(
    world, thread, consumer_queries
):
    readers = [await connect(thread.pk) for _ in range(10)]
    for communicator in readers:
        await frames_until_quiet(communicator, 0.2)
    consumer_queries.clear()

    await elsewhere(threads.thread_set_open, thread=thread, is_open=False)
    frames = [await state_frame(c) for c in readers]
    assert all("Closed: read only" in f and "closed to new messages" in f for f in frames)
    # One rendering for the ten of them (it reads the thread), not a read and a render each.
    assert len(consumer_queries) <= 2, consumer_queries

    # Reopened: a resident gets the composer back; anonymous readers the invitation to sign in.
    resident = await connect(thread.pk, world.a_resident.user)
    await frames_until_quiet(resident, 0.3)
    await elsewhere(threads.thread_set_open, thread=thread, is_open=True)
    own = await state_frame(resident)
    assert "Open for discussion" in own and 'name="body"' in own and "csrfmiddlewaretoken" in own
    frames = [await state_frame(c) for c in readers]
    assert all("Sign in to take part" in f and 'name="body"' not in f for f in frames)
    await asyncio.gather(*(c.disconnect() for c in [*readers, resident]))


async def test_a_ping_keeps_presence_fresh_in_one_statement_for_all(world, thread, monkeypatch):
    monkeypatch.setattr(consumers, "PRESENCE_DEBOUNCE", 0.2)
    readers = [await connect(thread.pk) for _ in range(3)]
    await frames_until_quiet(readers[0], 0.5)
    await sync_to_async(ThreadPresence.objects.update)(seen_at="2000-01-01T00:00Z")
    for communicator in readers:
        await communicator.send_to(text_data=json.dumps({"action": "ping"}))
    await frames_until_quiet(readers[0], 0.5)
    years = await sync_to_async(
        lambda: set(ThreadPresence.objects.values_list("seen_at__year", flat=True))
    )()
    assert years and 2000 not in years
    for communicator in readers:
        await communicator.disconnect()


async def test_a_reader_who_missed_a_broadcast_still_gets_it_before_the_next(world, thread):
    reader = await connect(thread.pk)
    await frames_until_quiet(reader, 0.2)
    await reader.send_to(text_data=json.dumps({"action": "resume", "after": 0}))
    first = await elsewhere(
        threads.message_post, actor=world.a_resident.user, thread=thread, body="第一"
    )
    await message_frame(reader, "第一")

    # The second is saved without a broadcast (as while Redis was away) …
    def post_unannounced():
        from council.models import Message

        return Message.objects.create(
            thread=thread,
            author=world.a_resident.user,
            kind=MessageKind.COMMENT,
            body="第二",
            body_html="<p>第二</p>",
        )

    await sync_to_async(post_unannounced)()
    # … and the third's broadcast names it as the one before: the reader is sent both, in order.
    await elsewhere(threads.message_post, actor=world.a_member.user, thread=thread, body="第三")
    frames = [f for f in await frames_until_quiet(reader, 0.5) if "data-message-id" in f]
    assert ["第二" in frames[0], "第三" in frames[1]] == [True, True]
    assert all(f'message-{first.pk}"' not in f for f in frames)
    await reader.disconnect()


def test_who_is_viewing_names_a_few_and_counts_the_rest(thread, django_assert_max_num_queries):
    from tests.factories import UserFactory

    people = UserFactory.create_batch(15)
    joined = {f"signed-in-{p.pk}": p.pk for p in people}
    joined.update({f"anonymous-{n}": None for n in range(40)})
    threads.presence_update(thread_id=thread.pk, joined=joined)

    with django_assert_max_num_queries(3):
        rendered = thread_render.presence_broadcast(thread.pk)["html"]
    line = rendered["en"]
    assert line.count('class="viewer"') == 12
    assert "3 others" in line and "40 visitors" in line
    assert "另外 3 人" in rendered["zh-hans"]

    threads.presence_update(thread_id=thread.pk, left=list(joined)[:14])
    line = thread_render.presence_broadcast(thread.pk)["html"]["en"]
    assert line.count('class="viewer"') == 1 and "other" not in line
