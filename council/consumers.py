"""The thread WebSocket consumer (docs/threads-protocol.md).

No database code here: every read and write goes through ``database_sync_to_async`` to the
services of ``council.threads`` (via ``council.thread_actions``) and to the render helpers of
``council.thread_render``. A broadcast of a message carries it rendered once per audience
(language × what its controls depend on, ``thread_render.Audience``, and its author's own): a
connection learns its audience once, on connecting (again when the thread opens or closes,
when an act of its own is refused, and at each ping), and then sends each message's fragment
as it comes — no database work per message on a reader's connection. Who is viewing is kept
per server process (``PresenceRelay``): joins, pings and leaves are written together at most
once per ``PRESENCE_DEBOUNCE`` seconds per thread (less often in a crowded one), and the count
is read and rendered once and broadcast — never a frame per reader per join. How far
signed-in readers have read is written the same way (``ReadMarks``): one statement per
process per ``READ_DEBOUNCE`` seconds. A bad frame (too large, too deep, a number out of
range) gets an error frame, never a closed connection
(``council.realtime.read_frame``). While the channel layer is unreachable the client gets an
error frame saying so and the socket closes with 4013; the page's script reconnects later and
resumes (``council.realtime.LayerAware``). A broadcast lost while Redis was away or hung is
made good: each new message names the one before it, and a connection that has not sent that
one sends what it missed first (or at its next ping).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import thread_actions, thread_render, threads
from .params import whole_number
from .realtime import BadFrame, Debounce, LayerAware, read_frame, thread_group

PRESENCE_DEBOUNCE = 1.0
# A crowded thread updates who is viewing less often: one more second per this many readers
# of the process, up to PRESENCE_MAX_DELAY (a thousand readers arriving: a frame every two
# seconds or so, not every second, while they arrive).
PRESENCE_READERS_PER_SECOND = 250
PRESENCE_MAX_DELAY = 5.0
# How far signed-in readers have read (``threads.thread_marks_read``) is written at most once
# per READ_DEBOUNCE seconds while messages arrive: every reader of the process in one statement.
READ_DEBOUNCE = 2.0
REFUSED = 4403  # the thread is missing or not readable: both look alike

MESSAGE_ACTIONS = frozenset(thread_actions.FORMS)

logger = logging.getLogger("weishi.realtime")


def _db(function):
    return database_sync_to_async(function)


# Threads seen public, by this process, when: an anonymous reader of one of them connects with
# no database work (a thread's publicity is set when it is made and never changes; a thread
# deleted meanwhile is at worst joined for PUBLIC_TTL seconds, and shows nothing).
PUBLIC_TTL = 10.0
_public_threads: dict[int, float] = {}


async def _audience_on_connect(user, thread_id: int):
    if not user.is_authenticated:
        seen = _public_threads.get(thread_id)
        if seen is not None and time.monotonic() - seen < PUBLIC_TTL:
            return thread_render.ANONYMOUS
    audience = await _db(thread_render.connection_audience)(user, thread_id)
    if audience is not None and not user.is_authenticated:
        _public_threads[thread_id] = time.monotonic()
    return audience


class PresenceRelay:
    """Who is viewing one thread, as this server process sees it: the connections that joined,
    pinged or left since the last write. The first change of a burst schedules one write
    (``threads.presence_update``) ``PRESENCE_DEBOUNCE`` seconds later (up to
    ``PRESENCE_MAX_DELAY`` in a crowded thread), which broadcasts the new count, rendered once,
    to every reader of the thread — so a thousand readers arriving cost a few writes and a few
    frames per reader, not a frame per reader per join."""

    def __init__(self, thread_id: int):
        self.thread_id = thread_id
        self.loop = asyncio.get_running_loop()
        self.members = 0
        # The fragments this process's readers are sent (``thread_render.fragment_key``),
        # noted in the cache at each write so that broadcasts render those.
        self.audiences: Counter[str] = Counter()
        self.noted: set[str] = set()
        self.notes: set[asyncio.Future] = set()
        self.joined: dict[str, int | None] = {}
        self.touched: set[str] = set()
        self.left: set[str] = set()
        self.lock = asyncio.Lock()
        self.debounce = Debounce(PRESENCE_DEBOUNCE, self.flush)

    def join(self, channel_name: str, user_id, audience_key: str) -> None:
        self.members += 1
        self.audiences[audience_key] += 1
        if audience_key not in self.noted:
            # The first reader of an audience here: noted at once, not at the next write,
            # so that the next broadcast already renders for them.
            self.noted.add(audience_key)
            self.notes.add(asyncio.ensure_future(self.note([audience_key])))
            self.notes.difference_update([task for task in self.notes if task.done()])
        self.left.discard(channel_name)
        self.joined[channel_name] = user_id
        self.poke()

    def touch(self, channel_name: str) -> None:
        self.touched.add(channel_name)
        self.poke()

    def leave(self, channel_name: str, audience_key: str) -> None:
        self.members -= 1
        self.audiences[audience_key] -= 1
        self.touched.discard(channel_name)
        if self.joined.pop(channel_name, False) is False:
            # Written already (or being written): delete it. Otherwise it was never written.
            self.left.add(channel_name)
        self.poke()

    def poke(self) -> None:
        crowd = self.members / PRESENCE_READERS_PER_SECOND
        self.debounce.delay = min(PRESENCE_MAX_DELAY, PRESENCE_DEBOUNCE * max(1.0, crowd))
        self.debounce.poke()

    async def note(self, keys) -> None:
        try:
            await _db(thread_render.audiences_note)(self.thread_id, keys)
        except Exception as error:  # noqa: BLE001 - the cache away: readers render for themselves
            logger.warning("Audiences of thread %s not noted (%s)", self.thread_id, error)

    async def flush(self) -> None:
        async with self.lock:
            joined, touched, left = self.joined, self.touched, self.left
            self.joined, self.touched, self.left = {}, set(), set()
            if joined or touched or left:
                try:
                    if touched:  # kept noted while their readers stay
                        await self.note([key for key, n in self.audiences.items() if n > 0])
                    await _db(threads.presence_update)(
                        thread_id=self.thread_id, joined=joined, touched=touched, left=left
                    )
                except Exception as error:  # noqa: BLE001 - the database away: try again later
                    logger.warning("Presence of thread %s not saved (%s)", self.thread_id, error)
                    self.joined = {**joined, **self.joined}
                    self.left |= left - set(self.joined)
                    self.poke()
                    return
            if not self.members and _relays.get(self.thread_id) is self:
                del _relays[self.thread_id]


_relays: dict[int, PresenceRelay] = {}


def presence_relay(thread_id: int) -> PresenceRelay:
    """This process's relay of ``thread_id`` (one per event loop: each test has its own)."""
    relay = _relays.get(thread_id)
    if relay is None or relay.loop is not asyncio.get_running_loop():
        relay = _relays[thread_id] = PresenceRelay(thread_id)
    return relay


class ReadMarks:
    """How far this process's signed-in readers have read, written together
    (``threads.thread_marks_read``): the first mark of a burst schedules one statement
    ``READ_DEBOUNCE`` seconds later for every mark made meanwhile, in every thread — a thousand
    members reading a meeting's messages cost one write per process, not one per reader. A
    mark made just before its socket closes is still written."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.pending: dict[tuple[int, int], int] = {}
        self.debounce = Debounce(READ_DEBOUNCE, self.flush)

    def mark(self, user_id: int, thread_id: int, message_id: int) -> None:
        key = (user_id, thread_id)
        if message_id > self.pending.get(key, 0):
            self.pending[key] = message_id
            self.debounce.poke()

    async def flush(self) -> None:
        marks, self.pending = self.pending, {}
        try:
            await _db(threads.thread_marks_read)(marks)
        except Exception as error:  # noqa: BLE001 - the database away: try again later
            logger.warning("%d read marks not saved (%s)", len(marks), error)
            for key, upto in marks.items():
                self.pending[key] = max(upto, self.pending.get(key, 0))
            self.debounce.poke()


_read_marks: ReadMarks | None = None


def read_marks() -> ReadMarks:
    """This process's ``ReadMarks`` (one per event loop: each test has its own)."""
    global _read_marks
    if _read_marks is None or _read_marks.loop is not asyncio.get_running_loop():
        _read_marks = ReadMarks()
    return _read_marks


class ThreadConsumer(LayerAware, AsyncWebsocketConsumer):
    async def connect(self):
        self.thread_id = int(self.scope["url_route"]["kwargs"]["thread_id"])
        self.group = thread_group(self.thread_id)
        self.viewer = thread_render.viewer_for(self.scope)
        # The last message this connection has sent its client, once the client said where it
        # stands (``resume``): a gap after it is a lost broadcast, filled in order.
        self.last_sent = None
        self.presence_version = None
        # A burst of joins and leaves (a meeting arriving) becomes one update per connection
        # per PRESENCE_DEBOUNCE seconds, instead of one per join.
        self.presence_debounce = Debounce(PRESENCE_DEBOUNCE, self.send_presence)
        self.read_upto = 0
        self.relay = None
        self.composer = None
        audience = await _audience_on_connect(self.viewer.user, self.thread_id)
        if not await self.accept_and_join(self.group, found=audience is not None, refusal=REFUSED):
            return
        self.audience = audience
        self.relay = presence_relay(self.thread_id)
        self.relay.join(self.channel_name, self.user_id, self.audience_key)

    @property
    def audience_key(self) -> str:
        return thread_render.fragment_key(self.viewer.language, self.audience)

    @property
    def user_id(self):
        user = self.viewer.user
        return user.pk if user.is_authenticated else None

    async def recheck(self) -> bool:
        """Read the connection's audience again (a role lost or gained, the thread closed);
        False, and the socket closing, if the thread may no longer be read."""
        audience = await _db(thread_render.connection_audience)(self.viewer.user, self.thread_id)
        if audience is None:
            await self.close(code=REFUSED)
            return False
        if audience != self.audience and self.relay is not None:
            self.relay.leave(self.channel_name, self.audience_key)
            self.audience = audience
            self.relay.join(self.channel_name, self.user_id, self.audience_key)
            self.composer = None
        return True

    async def disconnect(self, code):
        debounce = getattr(self, "presence_debounce", None)
        if debounce is not None:
            debounce.cancel()
        if await self.leave_joined(self.group) and self.relay is not None:
            self.relay.leave(self.channel_name, self.audience_key)

    # --- Client → server --------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if not self.joined:
            return
        try:
            frame = read_frame(text_data, bytes_data)
        except BadFrame as bad:
            await self.error(bad.code)
            return
        action = frame.get("action")
        if action in MESSAGE_ACTIONS:
            await self.act(action, frame)
        elif action == "resume":
            await self.resume(frame.get("after"))
        elif action == "ping":
            self.relay.touch(self.channel_name)
            if not await self.recheck():
                return
            if self.last_sent is not None:
                # A broadcast lost while Redis was away or hung, with nothing posted since.
                await self.send_missed(self.last_sent)
        else:
            await self.error("unknown_action")

    async def act(self, action: str, frame: dict):
        data = {k: v for k, v in frame.items() if isinstance(v, (str, int)) and k != "HEADERS"}
        outcome = await _db(thread_render.in_language)(
            self.viewer.language,
            thread_actions.perform,
            self.viewer.user,
            self.thread_id,
            action,
            data,
        )
        if not outcome.ok:
            await self.error(outcome.code, outcome.text)
            if not outcome.readable:
                await self.close(code=REFUSED)
            elif outcome.code == "not_allowed":
                await self.recheck()  # its rights changed: its controls follow
            return
        if action == "post":
            # The emptied composer is the same after every post while the rights it shows
            # (``recheck``) and the thread's state stay: rendered once per connection.
            if self.composer is None:
                render = _db(thread_render.render_composer)
                self.composer = await render(self.viewer, self.thread_id)
            await self.send_html(self.composer)
        else:
            await self.send_html(
                thread_render.render_error(
                    self.viewer.language, self.thread_id, text=outcome.text, ok=True
                )
            )

    async def resume(self, after):
        number = whole_number(after or 0)
        if number is None:
            # A negative or a fraction is a number out of range; a word is no number at all.
            numeric = isinstance(after, (int, float)) and not isinstance(after, bool)
            await self.error("bad_number" if numeric else "malformed")
            return
        await self.send_missed(number)

    async def send_missed(self, after: int):
        """Send the messages after ``after`` and remember the last one sent."""
        frames, last = await _db(thread_render.render_missed)(self.viewer, self.thread_id, after)
        for html in frames:
            await self.send_html(html)
        self.last_sent = max(last, self.last_sent or 0)
        self.mark_read(self.last_sent)

    def mark_read(self, message_id) -> None:
        """The reader has been shown ``message_id``: remember it (signed-in readers only)."""
        if self.viewer.user.is_authenticated and message_id and message_id > self.read_upto:
            self.read_upto = message_id
            read_marks().mark(self.viewer.user.pk, self.thread_id, message_id)

    async def error(self, code: str, text: str = ""):
        text = text or thread_render.error_text(self.viewer.language, code)
        await self.send_html(
            thread_render.render_error(self.viewer.language, self.thread_id, code, text)
        )

    async def unavailable(self):
        await self.error("unavailable")

    async def send_html(self, html: str):
        if html:
            await self.send(text_data=html)

    # --- Group events ------------------------------------------------------------------------

    async def thread_changed(self, event):
        prev, message = event.get("prev"), event.get("message")
        if self.last_sent is not None and prev is not None and prev > self.last_sent:
            # This connection missed a broadcast: send what it missed, this message included.
            await self.send_missed(self.last_sent)
            return
        if event.get("change") == "new" and self.last_sent is not None:
            if message <= self.last_sent:
                return  # already sent, by a resume or by filling a gap
            self.last_sent = message
        if message is not None:
            html = await self.message_html(event)
            if html and event.get("change") == "new":
                self.mark_read(message)
        else:
            self.composer = None
            # The thread opened or closed. What a signed-in reader may do follows from it (read
            # again); an anonymous reader may do nothing either way, and a thread's publicity
            # never changes, so they share one rendering (``render_state``) and no query.
            if self.user_id is not None and not await self.recheck():
                return
            render = _db(thread_render.render_state)
            html = await render(self.viewer, self.thread_id, event.get("version"))
        await self.send_html(html)

    async def message_html(self, event) -> str:
        """The broadcast's fragment for this connection; rendered here (once per process and
        audience) only if the broadcast has none for it."""
        viewer, change, version = self.viewer, event.get("change", "new"), event.get("version")
        html = thread_render.fragment_for(
            event, viewer.language, self.audience, self.user_id, viewer.csrf_token
        )
        if html is not None:
            return html
        if "fragments" not in event:  # sent with ids only (its rendering failed)
            render = _db(thread_render.render_message)
            return await render(viewer, event["message"], change, version)
        own = self.user_id is not None and self.user_id == event.get("author")
        html = await _db(thread_render.audience_fragment)(
            event["message"],
            change,
            version,
            viewer.language,
            self.audience,
            viewer.user if own else None,
        )
        return thread_render.with_csrf(html, viewer.csrf_token)

    async def thread_presence(self, event):
        html = (event.get("html") or {}).get(self.viewer.language)
        if html is None:
            # Sent without its rendering (it failed): render here, once per burst.
            self.presence_debounce.poke()
            return
        version = event.get("version")
        if None not in (self.presence_version, version) and version <= self.presence_version:
            return  # an older count, overtaken by one already shown
        self.presence_version = version
        await self.send_html(html)

    async def send_presence(self):
        if self.joined:
            html = await _db(thread_render.render_presence)(self.viewer, self.thread_id, None)
            await self.send_html(html)
