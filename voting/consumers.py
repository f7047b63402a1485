"""The live meeting board's WebSocket consumer (``ws/meetings/<id>/``).

Read only and public: anyone may watch a meeting's board. The connection joins the meeting's
group; the services broadcast ``board.changed`` (no data) on commit whenever something the
board shows changes, and the connection answers with the board rendered in its own language,
as an out-of-band fragment that htmx swaps in. A burst of changes (members voting together)
becomes one rendering per ``COALESCE`` seconds. On connecting, the board is sent at once, so a
client that reconnects after a break shows the present state.

No database code here: everything goes through ``database_sync_to_async`` to
``voting.board`` and ``voting.selectors``.
"""

from __future__ import annotations

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from council.realtime import Debounce, LayerAware
from council.thread_render import viewer_for

from . import board, selectors
from .services import meeting_group

COALESCE = 0.3
MISSING = 4404  # no such meeting


def _db(function):
    return database_sync_to_async(function)


class MeetingBoardConsumer(LayerAware, AsyncWebsocketConsumer):
    async def connect(self):
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self.group = meeting_group(self.meeting_id)
        self.language = viewer_for(self.scope).language
        self.last_change = 0.0
        # The first change of a burst schedules one rendering COALESCE seconds later, which
        # shows every change that arrived meanwhile.
        self.debounce = Debounce(COALESCE, self.send_changed)
        exists = await _db(selectors.meeting_exists)(self.meeting_id)
        # While the channel layer is unreachable this closes with 4013: the board page shows it
        # is offline and reconnects later (static/js/board.js).
        if not await self.accept_and_join(self.group, found=exists, refusal=MISSING):
            return
        await self.send_board(time.monotonic())

    async def disconnect(self, code):
        debounce = getattr(self, "debounce", None)
        if debounce is not None:
            debounce.cancel()
        await self.leave_joined(self.group)

    async def receive(self, text_data=None, bytes_data=None):
        """The board is read only: frames from the client are ignored, whatever they hold
        (unread, so no frame can harm it; daphne closes one over its limit with 1009)."""

    async def board_changed(self, event):
        self.last_change = time.monotonic()
        self.debounce.poke()

    async def send_changed(self):
        if self.joined:
            await self.send_board(self.last_change)

    async def send_board(self, not_before: float):
        html = await _db(board.render_board)(self.meeting_id, self.language, not_before)
        if html:
            await self.send(text_data=html)
        else:  # the meeting was deleted meanwhile
            await self.close(code=MISSING)
