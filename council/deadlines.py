"""Things that close at a set time — a ballot, a yearly round, a residents' evaluation window —
closed one way, whatever the kind.

Each kind is a ``Deadline``: its model (with ``is_open`` and ``closes_at``), which rows are
open, how one row is locked and closed, and who may close it early. The kind's ``close`` does
the work — counts, evidence, notifications, the proposals' moves — on a row its caller has
locked; this module decides when it runs:

- ``close_if_due``: anyone reading a row past its time may close it, so a page never shows a
  stale "open";
- ``close_all_due``: the minute scheduler closes every row past its time;
- ``close_early``: staff close an open row before its time, with a published reason. A row
  whose time came first is closed at its time instead, with no actor and no reason.

A row is closed once: every path locks it and looks again before closing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Model, Q

from . import clock
from .errors import InvalidMove
from .validators import refuse_line_breaks

REASON_MAX = 300  # the close_reason column's length


def is_due(row) -> bool:
    """``row`` is open and its closing time has passed."""
    return row.is_open and row.closes_at <= clock.now()


@dataclass(frozen=True)
class Deadline:
    """One kind of thing that closes at a set time.

    ``open``: the rows not yet closed, as a filter. ``lock(row)``: the row read again under a
    row lock. ``close(row, actor, reason)``: close the locked row and return it. ``may_close
    (actor, row)``: raise ``NotAllowed`` unless ``actor`` may close it early. The two texts
    are refusals, translated when raised.
    """

    model: type[Model]
    open: Q
    lock: Callable[[Any], Any]
    close: Callable[[Any, Any, str], Any]
    may_close: Callable[[Any, Any], None]
    already_closed: str
    reason_needed: str

    def _close_if_due(self, row) -> bool:
        """Close the locked ``row`` at its time if that has passed; whether it did."""
        if is_due(row):
            self.close(row, None, "")
            return True
        return False

    def close_if_due(self, row):
        """``row``, closed first if its time has passed (locked and read again then)."""
        if not is_due(row):
            return row
        with transaction.atomic():
            row = self.lock(row)
            self._close_if_due(row)
        return row

    def close_each_if_due(self, rows: list) -> list:
        """``rows`` in their order, each closed first if its time has passed; no query when
        none is due."""
        return [self.close_if_due(row) for row in rows]

    def close_all_due(self) -> int:
        """Close every row past its closing time, each in its own transaction; returns how
        many closed (a row closed meanwhile by someone else is not counted)."""
        closed = 0
        due = self.model.objects.filter(self.open, closes_at__lte=clock.now())
        for row in due.only("pk"):
            with transaction.atomic():
                if self._close_if_due(self.lock(row)):
                    closed += 1
        return closed

    def close_early(self, row, *, actor, reason: str):
        """Close ``row`` before its time as ``actor``, with ``reason`` (one line, published,
        cut to 300 characters); or raise and change nothing. A row whose time has passed is
        closed at its time instead, without actor or reason."""
        with transaction.atomic():
            row = self.lock(row)
            self.may_close(actor, row)
            if not row.is_open:
                raise InvalidMove(str(self.already_closed))
            if self._close_if_due(row):
                return row  # its time came first: closed at its time, not early
            if not reason.strip():
                raise InvalidMove(str(self.reason_needed))
            refuse_line_breaks(reason)
            return self.close(row, actor, reason.strip()[:REASON_MAX])
