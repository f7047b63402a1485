"""The live meeting board's WebSocket consumer (``ws/meetings/<id>/``).

Read only and public: anyone may watch a meeting's board. The connection joins the meeting's
group; the services broadcast ``board.changed`` (an id, no data) on commit whenever something
the board shows changes. The board sockets of one server process share a ``BoardRelay``: the
first change of a burst (members voting together) schedules one reading of the board
``COALESCE`` seconds later, rendered once per language of its viewers
(``board.render_boards``), and each socket is sent its language's fragment — one rendering
per process and change, whatever the number of screens and phones watching. A socket that
connects gets the board with the relay's next rendering (within ``COALESCE`` seconds), so a
client that reconnects after a break shows the present state.

The board is public and the same for every viewer of one language: no viewer's data is in it.
No database code here: everything goes through ``database_sync_to_async`` to
``voting.board`` and ``voting.selectors``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from council.realtime import Debounce, LayerAware
from council.thread_render import viewer_for

from . import board, selectors
from .services import meeting_group

COALESCE = 0.3
MISSING = 4404  # no such meeting

logger = logging.getLogger("weishi.realtime")


def _db(function):
    return database_sync_to_async(function)


class BoardRelay:
    """The board sockets of one meeting in this process, and their next rendering."""

    def __init__(self, meeting_id: int):
        self.meeting_id = meeting_id
        self.loop = asyncio.get_running_loop()
        self.members: set[MeetingBoardConsumer] = set()
        self.waiting: set[MeetingBoardConsumer] = set()  # not sent a board yet
        self.changed = False
        # Every socket of the process receives each change: it counts once.
        self.seen: deque[str] = deque(maxlen=256)
        self.lock = asyncio.Lock()
        self.debounce = Debounce(COALESCE, self.flush)

    def join(self, socket) -> None:
        self.members.add(socket)
        self.waiting.add(socket)
        self.debounce.poke()

    def leave(self, socket) -> None:
        self.members.discard(socket)
        self.waiting.discard(socket)
        if not self.members and _relays.get(self.meeting_id) is self:
            del _relays[self.meeting_id]

    def change(self, event_id) -> None:
        if event_id is not None:
            if event_id in self.seen:
                return
            self.seen.append(event_id)
        self.changed = True
        self.debounce.poke()

    async def flush(self) -> None:
        async with self.lock:
            targets = set(self.members) if self.changed else set(self.waiting)
            self.changed = False
            self.waiting.clear()
            if not targets:
                return
            languages = sorted({socket.language for socket in targets})
            # A change arriving meanwhile sets ``changed`` again: the next run shows it.
            rendered = await _db(board.render_boards)(self.meeting_id, languages)
            for socket in targets:
                if socket in self.members:
                    await socket.board_send(rendered.get(socket.language, ""))


_relays: dict[int, BoardRelay] = {}


def board_relay(meeting_id: int) -> BoardRelay:
    """This process's relay of ``meeting_id`` (one per event loop: each test has its own)."""
    relay = _relays.get(meeting_id)
    if relay is None or relay.loop is not asyncio.get_running_loop():
        relay = _relays[meeting_id] = BoardRelay(meeting_id)
    return relay


class MeetingBoardConsumer(LayerAware, AsyncWebsocketConsumer):
    relay = None

    async def connect(self):
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self.group = meeting_group(self.meeting_id)
        self.language = viewer_for(self.scope).language
        exists = await _db(selectors.meeting_exists)(self.meeting_id)
        # While the channel layer is unreachable this closes with 4013: the board page shows it
        # is offline and reconnects later (static/js/board.js).
        if not await self.accept_and_join(self.group, found=exists, refusal=MISSING):
            return
        self.relay = board_relay(self.meeting_id)
        self.relay.join(self)

    async def disconnect(self, code):
        if self.relay is not None:
            self.relay.leave(self)
        await self.leave_joined(self.group)

    async def receive(self, text_data=None, bytes_data=None):
        """The board is read only: frames from the client are ignored, whatever they hold
        (unread, so no frame can harm it; daphne closes one over its limit with 1009)."""

    async def board_changed(self, event):
        if self.relay is not None:
            self.relay.change(event.get("id"))

    async def board_send(self, html: str):
        if html:
            await self.send(text_data=html)
        else:  # the meeting was deleted meanwhile
            await self.close(code=MISSING)
