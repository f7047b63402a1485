"""Redis goes away, hangs or refuses writes: pages, sign-in and posting keep working (nothing
waits on a hung Redis), sockets say so and close with "try again later" (4013), and
everything uses Redis again once it is back.

Each test runs its own ``redis-server`` (the shared one is never stopped), with the cache and
channel layer that ``config.settings`` makes for a ``REDIS_URL`` pointing at it, and stops it.
"""

import asyncio
import logging
import threading
import time

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse

from council import realtime, threads
from council.evidence import evidence_integrate, log_head
from council.models import Message
from tests.redis_server import RedisServer, production_settings

pytestmark = pytest.mark.django_db(transaction=True)

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ORIGIN = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


# Seconds between the breakers' tries while Redis is away (5 in production): these tests wait
# for the next try after each outage, and a second is as good a test of it.
RETRY_AFTER = 1.0


@pytest.fixture
def own_redis(settings, monkeypatch):
    server = RedisServer()
    server.start()
    values = production_settings(server.url)
    values["CACHES"]["default"]["OPTIONS"]["FALLBACK_RETRY_AFTER"] = RETRY_AFTER
    for name, value in values.items():
        setattr(settings, name, value)
    monkeypatch.setattr(realtime.LAYER, "retry_after", RETRY_AFTER)
    channel_layers.backends.clear()
    try:
        yield server
    finally:
        server.close()
        channel_layers.backends.clear()
        # The outage ends with this test's server: the next test's layer is another one.
        realtime.LAYER.succeeded()


@pytest.fixture
def thread(world):
    for residency in (world.a_resident, world.a_member):
        residency.user  # noqa: B018  (loaded now: async tests may not touch the ORM lazily)
    return threads.thread_create(community=world.a, title="更换小区路灯")


def until(condition, timeout=20.0):
    """Wait for ``condition()`` (the breaker tries Redis again every few seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("still not so after waiting")
        time.sleep(0.2)


def in_redis(server, key: str) -> bool:
    return redis.Redis.from_url(server.url).exists(f"weishi:1:{key}") == 1


def test_the_cache_answers_from_memory_while_redis_is_down_and_uses_it_again(own_redis, caplog):
    cache.set("before", "东湖", 60)
    assert in_redis(own_redis, "before")
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="weishi.outage"):
        for n in range(50):
            cache.set(f"during-{n}", n, 60)
            assert cache.get(f"during-{n}") == n
        assert cache.add("counter", 0, 60) and cache.incr("counter") == 1
        assert cache.get_or_set("computed", lambda: "算好了", 60) == "算好了"
    # Logged once for the outage, not once per call.
    down = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(down) == 1, [r.getMessage() for r in caplog.records]
    own_redis.start()
    with caplog.at_level(logging.WARNING, logger="weishi.outage"):
        until(lambda: cache.set("after", "回来了", 60) or in_redis(own_redis, "after"))
    assert cache.get("after") == "回来了"
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_the_evidence_page_shows_the_signed_checkpoint_while_redis_is_down(
    own_redis, world, client
):
    evidence_integrate()
    root = log_head()[1].hex()
    own_redis.stop()
    for _ in range(3):
        page = client.get("/evidence/", **EN)
        assert page.status_code == 200
        assert root in page.text, "the checkpoint is read from the database, not the cache"


def test_sign_in_works_while_redis_is_down(own_redis, world):
    own_redis.stop()
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": "a_resident", "password": "a-long-enough-password-42"},
    )
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 200


def test_posting_works_while_redis_is_down_and_readers_get_it_on_reconnect(
    own_redis, world, thread, client
):
    client.force_login(world.a_resident.user)
    own_redis.stop()
    url = reverse("thread_post", args=[thread.pk])
    for n in range(threads.RATE_LIMIT):
        response = client.post(url, {"body": f"停电期间的第{n}条留言"}, **EN)
        assert response.status_code == 302
    assert Message.objects.filter(thread=thread).count() == threads.RATE_LIMIT
    # The rate limit still holds, in this process's memory.
    response = client.post(url, {"body": "太快了"}, follow=True, **EN)
    assert response.status_code == 200
    assert "You are posting too fast" in response.text
    assert Message.objects.filter(thread=thread).count() == threads.RATE_LIMIT

    own_redis.start()
    # A reader reconnecting once Redis is back asks for what it missed and gets all of it.
    frames = asyncio.run(_resume_from_start(thread.pk, world.a_member.user))
    for n in range(threads.RATE_LIMIT):
        assert any(f"停电期间的第{n}条留言" in frame for frame in frames)


async def _resume_from_start(thread_id, user) -> list[str]:
    socket = await _connect_live(thread_id, user)
    await socket.send_json_to({"action": "resume", "after": 0})
    frames = [o["text"] for o in await _outputs(socket) if o["type"] == "websocket.send"]
    await socket.disconnect()
    await _close_layer_and_db()
    return frames


async def _outputs(socket, quiet=1.0) -> list[dict]:
    """What the server sent until it went quiet (the socket is left running)."""
    outputs = []
    while not await socket.receive_nothing(timeout=quiet):
        outputs.append(await socket.receive_output())
    return outputs


async def _connect_live(thread_id, user, timeout=30.0):
    """A connection that stays open: retried, as browsers do, while the server answers 4013
    (the channel layer tries Redis again every few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        socket = await _connect(thread_id, user)
        outputs = await _outputs(socket)
        if not any(o["type"] == "websocket.close" for o in outputs):
            return socket
        await socket.disconnect()
        assert time.monotonic() < deadline, "the socket still closes with 4013"
        await asyncio.sleep(1)


async def _connect(thread_id, user=None, path=None):
    from config.asgi import application

    headers = [*ORIGIN, (b"accept-language", b"en")]
    if user is not None:
        session = await sync_to_async(_session)(user)
        headers.append((b"cookie", f"sessionid={session}".encode()))
    socket = WebsocketCommunicator(
        application, path or f"/ws/threads/{thread_id}/", headers=headers
    )
    connected, _ = await socket.connect(timeout=10)
    assert connected
    return socket


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def _close_layer_and_db():
    layer = channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    if layer is not None and hasattr(layer, "close_pools"):
        await layer.close_pools()
    await database_sync_to_async(connections.close_all)()


async def _closed_with_4013(socket) -> dict:
    while True:
        output = await socket.receive_output(timeout=10)
        if output["type"] == "websocket.close":
            return output


async def test_a_thread_socket_says_redis_is_away_and_closes_with_4013(own_redis, world, thread):
    own_redis.stop()
    socket = await _connect(thread.pk, world.a_member.user)
    frame = await socket.receive_from(timeout=10)
    assert 'data-code="unavailable"' in frame and "Live updates are paused" in frame
    assert (await _closed_with_4013(socket))["code"] == 4013
    await socket.disconnect()
    await _close_layer_and_db()


async def test_a_socket_open_when_redis_stops_is_told_and_closed_then_works_again(
    own_redis, world, thread
):
    socket = await _connect(thread.pk, world.a_member.user)
    while not await socket.receive_nothing(timeout=0.5):
        await socket.receive_from()
    own_redis.stop()
    while 'data-code="unavailable"' not in await socket.receive_from(timeout=15):
        pass  # presence, rendered before the news
    assert (await _closed_with_4013(socket))["code"] == 4013
    await socket.disconnect()

    own_redis.start()
    # Once Redis is back a new connection joins again, and a post reaches it live.
    again = await _connect_live(thread.pk, world.a_member.user)
    author = await _connect_live(thread.pk, world.a_resident.user)
    await author.send_json_to({"action": "post", "body": "恢复之后"})
    while True:
        frame = await again.receive_from(timeout=15)
        if "恢复之后" in frame:
            break
    await again.disconnect(), await author.disconnect()
    await _close_layer_and_db()


async def test_the_meeting_board_closes_with_4013_while_redis_is_down(own_redis, world):
    from tests.voting.conftest import Council
    from tests.voting.test_meetings import schedule

    meeting = await sync_to_async(lambda: schedule(Council(world)))()
    own_redis.stop()
    socket = await _connect(None, path=f"/ws/meetings/{meeting.pk}/")
    assert (await _closed_with_4013(socket))["code"] == 4013
    await socket.disconnect()
    await _close_layer_and_db()


# --- A Redis that answers, with an error --------------------------------------------------

# How to make a server of ours refuse writes with each reply, and how to make it take them
# again. Reads still work on such a server.
REFUSING_WRITES = {
    "NOREPLICAS": (["CONFIG", "SET", "min-replicas-to-write", "1"],
                   ["CONFIG", "SET", "min-replicas-to-write", "0"]),
    "OOM": (["CONFIG", "SET", "maxmemory", "1"], ["CONFIG", "SET", "maxmemory", "0"]),
    # A replica of a server that is not there: read-only until it is made a primary again.
    "READONLY": (["REPLICAOF", "127.0.0.1", "1"], ["REPLICAOF", "NO", "ONE"]),
}  # fmt: skip


@pytest.mark.parametrize("reply", REFUSING_WRITES)
def test_posting_and_signing_in_work_while_redis_refuses_writes(
    own_redis, world, thread, reply, caplog
):
    refuse, accept = REFUSING_WRITES[reply]
    own_redis.command(*refuse)
    with pytest.raises(redis.ResponseError):  # the reply, as redis-py raises it
        own_redis.command("SET", "probe", "1")
    author = Client(raise_request_exception=False)
    author.force_login(world.a_resident.user)
    url = reverse("thread_post", args=[thread.pk])
    with caplog.at_level(logging.WARNING, logger="weishi.outage"):
        for n in range(3):
            response = author.post(url, {"body": f"写不进缓存时的第{n}条留言"}, **EN)
            assert response.status_code == 302, response.status_code
        signed_in = Client(raise_request_exception=False).post(
            "/accounts/login/",
            {"username": "a_member", "password": "a-long-enough-password-42"},
        )
        assert signed_in.status_code == 302
        assert cache.add("counted", 0, 60) and cache.incr("counted") == 1
    assert Message.objects.filter(thread=thread).count() == 3
    cache_down = [r for r in caplog.records if "Redis cache" in r.getMessage()]
    assert len(cache_down) == 1, [r.getMessage() for r in caplog.records]

    own_redis.command(*accept)
    until(lambda: cache.set("after", "又能写了", 60) or in_redis(own_redis, "after"))
    assert cache.get("after") == "又能写了"


# --- A hung Redis: accepts connections, answers nothing -------------------------------------


def _in_a_thread(function):
    """Run ``function`` in a thread of its own; returns the thread and where its result goes."""
    result = {}

    def run():
        try:
            result["value"] = function()
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker, result


def test_posting_while_redis_hangs_answers_and_the_message_is_saved(
    own_redis, world, thread, client
):
    client.force_login(world.a_resident.user)
    url = reverse("thread_post", args=[thread.pk])
    own_redis.pause()
    try:
        posting, answer = _in_a_thread(
            lambda: client.post(url, {"body": "服务器卡住时的留言"}, **EN).status_code
        )
        # Generous: the request waits about a second per Redis call before giving up on it;
        # before the broadcast was bounded, it waited for as long as Redis stayed hung.
        posting.join(timeout=60)
        assert not posting.is_alive(), "the request is still waiting on the hung Redis"
        assert answer["value"] == 302
        assert Message.objects.filter(thread=thread, body="服务器卡住时的留言").exists()
    finally:
        own_redis.resume()
        posting.join(timeout=60)

    # The channel layer works again once Redis answers.
    frames = asyncio.run(_resume_from_start(thread.pk, world.a_member.user))
    assert any("服务器卡住时的留言" in frame for frame in frames)


async def test_a_socket_joining_while_redis_hangs_is_told_and_closed_with_4013(
    own_redis, world, thread
):
    own_redis.pause()
    try:
        socket = await _connect(thread.pk, world.a_member.user)
        frame = await socket.receive_from(timeout=30)
        assert 'data-code="unavailable"' in frame and "Live updates are paused" in frame
        assert (await _closed_with_4013(socket))["code"] == 4013
        await socket.disconnect()
    finally:
        own_redis.resume()
    again = await _connect_live(thread.pk, world.a_member.user)
    await again.disconnect()
    await _close_layer_and_db()


def _post_while_redis_hangs(own_redis, client, thread, body):
    """Post through the page while Redis hangs: saved, its broadcast lost (timed out)."""
    own_redis.pause()
    try:
        posting, answer = _in_a_thread(
            lambda: client.post(reverse("thread_post", args=[thread.pk]), {"body": body}, **EN)
        )
        posting.join(timeout=60)
        assert answer["value"].status_code == 302
    finally:
        own_redis.resume()


async def _texts_until(socket, wanted: str, timeout=30.0) -> list[str]:
    """Frames received until one holds ``wanted``."""
    frames = []
    deadline = time.monotonic() + timeout
    while not frames or wanted not in frames[-1]:
        assert time.monotonic() < deadline, f"{wanted!r} never came; got {frames}"
        frames.append(await socket.receive_from(timeout=timeout))
    return frames


async def _reader_then_lost_post(own_redis, world, thread, body: str):
    """A member's socket, live and resumed; then a resident posts ``body`` while Redis hangs,
    so its broadcast is lost. Returns the member's socket."""
    reader = await _connect_live(thread.pk, world.a_member.user)
    await reader.send_json_to({"action": "resume", "after": 0})
    await _outputs(reader)
    client = Client()
    await sync_to_async(client.force_login)(world.a_resident.user)
    await sync_to_async(_post_while_redis_hangs)(own_redis, client, thread, body)
    return reader


async def test_a_message_whose_broadcast_was_lost_reaches_an_open_socket_before_the_next_one(
    own_redis, world, thread
):
    # The socket stays open through the hang (its read from Redis just waits); the broadcast
    # of the first message is given up on after a second.
    reader = await _reader_then_lost_post(own_redis, world, thread, "卡住时发的第一条")
    await sync_to_async(until)(lambda: realtime.LAYER.available())
    author = await _connect_live(thread.pk, world.a_resident.user)
    await author.send_json_to({"action": "post", "body": "恢复后发的第二条"})
    frames = await _texts_until(reader, "恢复后发的第二条")
    text = "".join(frames)
    assert "卡住时发的第一条" in text
    assert text.index("卡住时发的第一条") < text.index("恢复后发的第二条")
    await reader.disconnect(), await author.disconnect()
    await _close_layer_and_db()


async def test_a_lost_broadcast_with_nothing_posted_after_it_comes_with_the_next_ping(
    own_redis, world, thread
):
    reader = await _reader_then_lost_post(own_redis, world, thread, "没人再发言")
    assert await reader.receive_nothing(timeout=2)  # lost: nothing came
    await reader.send_json_to({"action": "ping"})  # the page pings every 30 s
    assert "没人再发言" in "".join(await _texts_until(reader, "没人再发言"))
    await reader.disconnect()
    await _close_layer_and_db()
