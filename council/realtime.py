"""Real time: broadcasts to WebSocket groups, what the consumers share, and how they survive
the channel layer (Redis) going away.

- ``send_event_on_commit``: broadcasts are sent only once the transaction that caused them
  commits (Zulip's ``send_event_on_commit``). An event carries ids, and may carry what it
  shows already rendered, once per audience (``render``, run after the commit): a connection
  then sends its audience's fragment as it is, with no database work of its own, however many
  readers the group has. A broadcast never fails nor holds the request:
  when Redis is unreachable, answers with an error or does not answer within
  ``LAYER_TIMEOUT`` (a hung server), it is logged (once per outage) and dropped — the change
  itself is saved, and readers get it when they reconnect (the protocol's ``resume``).
- ``RedisChannelLayer`` and ``LayerAware``: while Redis is unreachable a consumer tells its
  client (``realtime_unavailable``) and closes with 4013, "try again later", which browsers
  answer by reconnecting with a growing, jittered delay (``static/js/ws-backoff.js``) — instead
  of crashing with 1011 and being reconnected at once, in a loop.
- ``Debounce``: a burst of events (members voting together, a meeting arriving) becomes one
  run, not one per event — one write and rendering per server process, for all its sockets
  (``council.consumers.PresenceRelay``, ``voting.consumers.BoardRelay``).
- ``read_frame``: every frame a client sends is checked before anything reads it — its size,
  its nesting, its numbers — so that a bad frame gets an error frame and the connection stays
  usable (docs/threads-protocol.md, "Limits").
"""

from __future__ import annotations

import asyncio
import json
import logging
import math

from asgiref.sync import async_to_sync
from channels.auth import AuthMiddleware
from channels.consumer import get_handler_name
from channels.layers import get_channel_layer
from channels.sessions import CookieMiddleware, SessionMiddleware
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from django.contrib.auth.models import AnonymousUser
from django.db import OperationalError, transaction
from redis.exceptions import RedisError

from .outage import Outage

# The server cannot serve the connection now; reconnect later. RFC 6455's registry has 1013
# for this, but daphne's WebSocket layer (autobahn) lets a server close only with 1000 or
# 3000-4999 and turns anything else into a crash (1011): 4013 is ours, and
# static/js/ws-backoff.js reconnects after it with its growing delay.
TRY_AGAIN_LATER = 4013

# Redis refusing, dropping or timing out (redis-py wraps socket errors; asyncio's timeouts are
# OSErrors).
UNREACHABLE = (RedisError, OSError)

# The longest a broadcast waits on Redis. The channel layer's connections have no socket
# timeout (its consumers block on reads by design, channels_redis#422), so a hung Redis —
# accepting connections, answering nothing — would hold a request's on-commit broadcast, and
# the pooled database connection under it, forever. A call that takes longer counts as Redis
# unreachable: the breaker then skips it for a few seconds.
LAYER_TIMEOUT = 1.0
# The longest a socket's join or leave waits. Longer: it holds nothing but its own socket, and
# a thousand readers arriving at once on a busy machine can see a join take over a second —
# which must not count as an outage, closing every socket that arrives for the next seconds.
JOIN_TIMEOUT = 5.0

LAYER = Outage("The channel layer (Redis)")

logger = logging.getLogger("weishi.outage")


def thread_group(thread_id: int) -> str:
    return f"thread-{thread_id}"


def send_event_on_commit(group: str, event: dict, render=None) -> None:
    """Send ``event`` (a dict with a ``type`` naming the consumer's handler) to ``group``
    after the current transaction commits; nothing is sent if it rolls back.

    ``render`` (optional, no arguments) is called after the commit and returns keys added to
    the event — fragments rendered once for every reader, from the committed data. Should it
    fail, the event goes without them (logged): the consumers then render for themselves.

    Never raises, and waits at most ``LAYER_TIMEOUT``: while the channel layer is unreachable
    or hung the event is dropped (the outage is logged once), and the layer is tried again
    every few seconds, not on every event.
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None or not LAYER.available():
            return
        sent = event
        if render is not None:
            try:
                sent = {**event, **render()}
            except Exception:  # noqa: BLE001 - the ids alone still reach every reader
                logging.getLogger("weishi.realtime").exception(
                    "Rendering a broadcast to %s failed; sending its ids only", group
                )
        try:
            async_to_sync(within_timeout)(layer.group_send(group, sent))
        except UNREACHABLE as error:
            LAYER.failed(error)
        else:
            LAYER.succeeded()

    transaction.on_commit(send)


async def within_timeout(call, seconds: float | None = None):
    """Await ``call`` (a channel layer's coroutine); ``TimeoutError`` after ``seconds``
    (``LAYER_TIMEOUT`` by default)."""
    async with asyncio.timeout(LAYER_TIMEOUT if seconds is None else seconds):
        return await call


class RedisChannelLayer(BaseRedisChannelLayer):
    """channels-redis's layer, except that a consumer's ``receive`` that fails because Redis
    is unreachable returns a ``realtime.unavailable`` event (handled by ``LayerAware``) instead
    of raising, which would end the consumer with close code 1011."""

    # Before answering a failed receive: the consumer closes on the first such event, and
    # Channels calls receive again meanwhile, which must not spin.
    UNAVAILABLE_PAUSE = 0.5

    async def receive(self, channel):
        try:
            message = await super().receive(channel)
        except UNREACHABLE as error:
            LAYER.failed(error)
            await asyncio.sleep(self.UNAVAILABLE_PAUSE)
            return {"type": "realtime.unavailable"}
        LAYER.succeeded()
        return message


class SocketAuthMiddleware(AuthMiddleware):
    """Channels' ``AuthMiddleware``, except that a socket that brings no session cookie is
    anonymous at once, without the hop to the process's one database thread that reading a
    session costs: a thousand anonymous readers arriving together would queue a thousand
    hops there, in front of everyone's database work. A socket with a session is resolved
    as Channels does."""

    async def resolve_scope(self, scope):
        if scope["session"].session_key is None:
            scope["user"]._wrapped = AnonymousUser()
        else:
            await super().resolve_scope(scope)


def socket_auth_stack(inner):
    """``AuthMiddlewareStack`` with ``SocketAuthMiddleware``: cookies, session, user."""
    return CookieMiddleware(SessionMiddleware(SocketAuthMiddleware(inner)))


class LayerAware:
    """For ``AsyncWebsocketConsumer``s that join a group: joining and leaving never crash on
    an unreachable channel layer, nor wait on a hung one for more than ``JOIN_TIMEOUT``; the
    consumer then says so (``unavailable``, for the consumer to override) and closes with
    4013. The same when the database cannot lend a connection (the pool's wait ran out under
    load, or PostgreSQL is away): the socket is told and closed with 4013, never crashed with
    1011, and the page reconnects later and resumes."""

    accepted = False
    joined = False

    async def accept(self, *args, **kwargs):
        await super().accept(*args, **kwargs)
        self.accepted = True

    async def dispatch(self, message):
        # Channels' own dispatch first hops to the process's one database thread to close old
        # connections, for every message, even one that needs no database: a broadcast to a
        # thousand readers would queue a thousand hops there, behind the poster's own work.
        # Here every database call goes through ``database_sync_to_async``, which closes old
        # connections before and after itself; a message that needs none makes no hop.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except OperationalError as error:
            logger.warning("A socket's database call failed (%s); closing it with 4013", error)
            if message.get("type") == "websocket.disconnect":
                return
            if not self.accepted:
                # Accepted, then closed with a code: a refused handshake looks like a network
                # failure to a browser, which would retry at once.
                await self.accept()
            await self.realtime_unavailable({"type": "realtime.unavailable"})

    async def join_group(self, group: str) -> bool:
        """Join ``group``; on False the client was told and the socket is closing."""
        if LAYER.available():
            try:
                await within_timeout(
                    self.channel_layer.group_add(group, self.channel_name), JOIN_TIMEOUT
                )
            except UNREACHABLE as error:
                LAYER.failed(error)
            else:
                LAYER.succeeded()
                return True
        await self.realtime_unavailable({"type": "realtime.unavailable"})
        return False

    async def accept_and_join(self, group: str, *, found: bool, refusal: int) -> bool:
        """Accept the handshake, then close with ``refusal`` unless ``found`` (what the socket
        is for exists and may be read), else join ``group``. True once joined (``joined``); on
        False the socket is closing.

        Accepted, then closed with a code: a browser sees the code, while a refused handshake
        looks like a network failure, which htmx would retry forever."""
        await self.accept()
        if not found:
            await self.close(code=refusal)
            return False
        if not await self.join_group(group):
            return False
        self.joined = True
        return True

    async def leave_joined(self, group: str) -> bool:
        """Leave ``group`` if ``accept_and_join`` joined it; True if it had."""
        if not self.joined:
            return False
        self.joined = False
        await self.leave_group(group)
        return True

    async def leave_group(self, group: str) -> None:
        try:
            await within_timeout(
                self.channel_layer.group_discard(group, self.channel_name), JOIN_TIMEOUT
            )
        except UNREACHABLE as error:
            LAYER.failed(error)

    async def realtime_unavailable(self, event):
        if getattr(self, "closing_unavailable", False):
            return
        self.closing_unavailable = True
        await self.unavailable()
        await self.close(code=TRY_AGAIN_LATER)

    async def unavailable(self):
        """Tell the client, before the socket closes with 4013 (nothing by default)."""


class Debounce:
    """Turns a burst of calls into one run of ``action`` (a coroutine function), ``delay``
    seconds after the first call of the burst: that run sees everything that arrived meanwhile.

    ``poke`` returns at once; the wait runs beside the consumer, which keeps handling messages.
    A call during the run starts the next burst. ``cancel`` (on disconnect) drops a pending run.
    """

    def __init__(self, delay: float, action):
        self.delay = delay
        self.action = action
        self.pending = False
        self.task = None

    def poke(self) -> None:
        if not self.pending:
            self.pending = True
            self.task = asyncio.ensure_future(self._later())

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.pending = False

    async def _later(self):
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.pending = False
        await self.action()


# --- Frames from clients --------------------------------------------------------------------

# Past this, a frame gets the error frame ``too_large`` and the connection stays open. A
# thread message (4,000 characters) takes at most 24 KB of JSON, even all escaped.
MAX_FRAME_BYTES = 64 * 1024
# daphne has its own limit (its --websocket-max-message-size, 1 MiB by default): a frame over
# it is refused by the WebSocket layer before any consumer sees it, with close code 1009
# ("message too big"; config/asgi.py makes it a close, not a dropped connection).
MAX_DIGITS = 18  # a JSON integer of more digits is out of range (council.params)


class BadFrame(Exception):
    """A frame refused before it is read; ``code`` is the protocol's error code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _bad_number(*_args):
    raise BadFrame("bad_number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 parses as infinity
        raise BadFrame("bad_number")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadFrame("bad_number")
    return int(text)


def _flat(value) -> bool:
    return value is None or isinstance(value, (str, int, float))


def read_frame(text_data=None, bytes_data=None) -> dict:
    """The JSON object a client sent, or ``BadFrame``.

    Refused: a frame over ``MAX_FRAME_BYTES`` (``too_large``); nesting deeper than an object
    of plain values with an optional ``HEADERS`` object, as htmx sends (``too_deep``);
    ``NaN``, ``Infinity``, a number that overflows to infinity or an integer of more than 18
    digits (``bad_number``); anything else that is not a JSON object (``malformed``).
    """
    raw = text_data if text_data is not None else bytes_data
    if raw is None:
        raise BadFrame("malformed")
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_FRAME_BYTES:
        raise BadFrame("too_large")
    try:
        frame = json.loads(
            raw,
            parse_constant=_bad_number,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise BadFrame("too_deep") from None
    except (TypeError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadFrame("malformed") from None
    if not isinstance(frame, dict):
        raise BadFrame("malformed")
    for key, value in frame.items():
        if _flat(value):
            continue
        if key == "HEADERS" and isinstance(value, dict) and all(map(_flat, value.values())):
            continue
        raise BadFrame("too_deep")
    return frame
