"""The thread WebSocket consumer (docs/threads-protocol.md).

No database code here: every read and write goes through ``database_sync_to_async`` to the
services of ``council.threads`` (via ``council.thread_actions``) and to the render helpers of
``council.thread_render``. Broadcasts carry ids; each connection renders what it receives for
its own viewer. A bad frame (too large, too deep, a number out of range) gets an error frame,
never a closed connection (``council.realtime.read_frame``). While the channel layer is
unreachable the client gets an error frame saying so and the socket closes with 4013; the page's
script reconnects later and resumes (``council.realtime.LayerAware``). A broadcast lost while
Redis was away or hung is made good: each new message names the one before it, and a
connection that has not sent that one sends what it missed first (or at its next ping).
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import selectors, thread_actions, thread_render, threads
from .params import whole_number
from .realtime import BadFrame, Debounce, LayerAware, read_frame, thread_group

PRESENCE_DEBOUNCE = 1.0
# How far a signed-in reader has read (``threads.thread_mark_read``) is written at most once
# per READ_DEBOUNCE seconds while messages arrive.
READ_DEBOUNCE = 2.0
REFUSED = 4403  # the thread is missing or not readable: both look alike

MESSAGE_ACTIONS = frozenset(thread_actions.FORMS)


def _db(function):
    return database_sync_to_async(function)


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
        self.read_debounce = Debounce(READ_DEBOUNCE, self.save_read)
        thread = await _db(selectors.thread_for)(self.viewer.user, self.thread_id)
        if not await self.accept_and_join(self.group, found=thread is not None, refusal=REFUSED):
            return
        await _db(threads.presence_join)(
            thread=thread, user=self.viewer.user, channel_name=self.channel_name
        )

    async def disconnect(self, code):
        debounce = getattr(self, "presence_debounce", None)
        if debounce is not None:
            debounce.cancel()
        read = getattr(self, "read_debounce", None)
        if read is not None:
            read.cancel()
        if await self.leave_joined(self.group):
            await _db(threads.presence_leave)(
                thread_id=self.thread_id, channel_name=self.channel_name
            )

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
            await _db(threads.presence_touch)(channel_name=self.channel_name)
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
            return
        if action == "post":
            await self.send_html(
                await _db(thread_render.render_composer)(self.viewer, self.thread_id)
            )
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
            self.read_debounce.poke()

    async def save_read(self):
        await _db(threads.thread_mark_read)(
            user=self.viewer.user, thread_id=self.thread_id, message_id=self.read_upto
        )

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

    # --- Group events (ids only) --------------------------------------------------------------

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
            html = await _db(thread_render.render_message)(
                self.viewer, event["message"], event.get("change", "new"), event.get("version")
            )
            if html and event.get("change") == "new":
                self.mark_read(message)
        else:
            html = await _db(thread_render.render_state)(self.viewer, self.thread_id)
        await self.send_html(html)

    async def thread_presence(self, event):
        self.presence_version = event.get("version")
        self.presence_debounce.poke()

    async def send_presence(self):
        if self.joined:
            html = await _db(thread_render.render_presence)(
                self.viewer, self.thread_id, self.presence_version
            )
            await self.send_html(html)
