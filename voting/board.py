"""The live meeting board (会议大屏): what it shows, rendered for the page and for the socket.

The board page and the WebSocket consumer (``voting.consumers``) render the same ``board``
partial of ``voting/meeting_board.html``: the page through ``board_context``, the consumer
through ``render_board``, in the connection's language. These functions are synchronous (they
read the database); the consumer calls them through ``database_sync_to_async``.

The board is public and the same for every viewer of one language, so a rendering is shared
between the connections of a process that answer the same change: a connection takes a
rendering that started after the change reached it (the change was broadcast on commit, so
such a rendering already shows it), or makes one.

What the board shows of an open ballot: how many of its base took part, and — only for a
roll-call ballot whose copied rules allow it (``board_shows_running_count``) — the running
yes / no / abstain count. A secret ballot never shows a running count.
"""

from __future__ import annotations

import time

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from council import clock

from .models import Ballot, BallotStatus, Meeting, MeetingStatus
from .selectors import ballot_tally, board_ballot, board_counts, meeting_for_board
from .services import ballot_close_if_due

TEMPLATE = "voting/meeting_board.html"

SHARED_KEEP = 10.0  # seconds a shared rendering is kept for later connections to compare
_shared: dict[tuple[int, str], tuple[float, str]] = {}


def shows_running_count(ballot: Ballot | None) -> bool:
    """Whether the board may show the ballot's running count (open, roll-call, allowed)."""
    return (
        ballot is not None
        and ballot.status == BallotStatus.OPEN
        and ballot.board_shows_running_count
        and not ballot.is_secret
    )


def check_in_qr(meeting: Meeting, request) -> str:
    """A QR code of the meeting's self check-in page, as an SVG ``data:`` URI, for the board:
    ``SITE_URL``'s origin if set, else the request's. Empty once the meeting has ended."""
    if meeting.status == MeetingStatus.ENDED:
        return ""
    path = reverse("meeting_check_in", args=[meeting.community.slug, meeting.pk])
    site = getattr(settings, "SITE_URL", "")
    url = site.rstrip("/") + path if site else request.build_absolute_uri(path)
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_data_uri(border=2, light="#fff", omitsize=True)


def board_context(meeting: Meeting) -> dict:
    """What the ``board`` partial needs. A fixed number of queries: the ballot on the item
    under discussion (its newest opened at this meeting, closed first if its time has
    passed), its tally, the attendance and the agenda's length."""
    ballot = board_ballot(meeting)
    tally = None
    if ballot is not None:
        ballot = ballot_close_if_due(ballot)
        tally = ballot_tally(ballot)
    return {
        "meeting": meeting,
        "item": meeting.current_item,
        "ballot": ballot,
        "tally": tally,
        "running_count": shows_running_count(ballot),
        # A closing time of today shows as the time alone, readable across the room.
        "closes_today": ballot is not None
        and timezone.localdate(ballot.closes_at) == clock.today(),
        **board_counts(meeting),
    }


def _render(meeting_id: int, language: str) -> str:
    meeting = meeting_for_board(meeting_id)
    if meeting is None:
        return ""
    with translation.override(language):
        html = render_to_string(f"{TEMPLATE}#board", {**board_context(meeting), "oob": True})
    return html.strip()


def render_board(meeting_id: int, language: str, not_before: float | None = None) -> str:
    """The board as an out-of-band fragment (``<div id="board" hx-swap-oob="true">``) in
    ``language``; empty if the meeting is gone.

    ``not_before`` (``time.monotonic()``): a rendering that started at or after it is reused
    instead of rendering again; ``None`` always renders.
    """
    key = (meeting_id, language)
    hit = _shared.get(key)
    if not_before is not None and hit is not None and hit[0] >= not_before:
        return hit[1]
    started = time.monotonic()
    html = _render(meeting_id, language)
    if hit is None or hit[0] < started:
        _shared[key] = (started, html)
    if len(_shared) > 500:
        for old in [k for k, (at, _html) in _shared.items() if started - at > SHARED_KEEP]:
            _shared.pop(old, None)
    return html
