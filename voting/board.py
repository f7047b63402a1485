"""The live meeting board (会议大屏): what it shows, rendered for the page and for the socket.

The board page and the WebSocket consumer (``voting.consumers``) render the same ``board``
partial of ``voting/meeting_board.html``: the page through ``board_context``, the sockets of a
server process through ``render_boards``, once per change and language for all of them.
These functions are synchronous (they read the database); the consumer calls them through
``database_sync_to_async``.

What the board shows of an open ballot: how many of its base took part, and — only for a
roll-call ballot whose copied rules allow it (``board_shows_running_count``) — the running
yes / no / abstain count. A secret ballot never shows a running count.
"""

from __future__ import annotations

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


def render_boards(meeting_id: int, languages) -> dict[str, str]:
    """The board as ``render_board`` makes it, read once and rendered in each of
    ``languages``: language → fragment (every one empty if the meeting is gone)."""
    meeting = meeting_for_board(meeting_id)
    if meeting is None:
        return dict.fromkeys(languages, "")
    context = {**board_context(meeting), "oob": True}
    rendered = {}
    for language in languages:
        with translation.override(language):
            rendered[language] = render_to_string(f"{TEMPLATE}#board", context).strip()
    return rendered


def render_board(meeting_id: int, language: str) -> str:
    """The board as an out-of-band fragment (``<div id="board" hx-swap-oob="true">``) in
    ``language``; empty if the meeting is gone."""
    return render_boards(meeting_id, [language])[language]
