"""The one place the app reads the time.

Collection windows, ballots and publicity periods are all judged against ``clock.now()``.
Tests and the demo move it with ``clock.travel()`` instead of patching ``timezone.now``.
"""

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    """The current time, aware, shifted by any ``travel`` in force."""
    return timezone.now() + _offset


def today() -> dt.date:
    """Today's date in the active time zone (Asia/Shanghai by default)."""
    return timezone.localdate(now())


@contextlib.contextmanager
def travel(delta: dt.timedelta) -> Iterator[None]:
    """Shift ``now()`` by ``delta`` for the duration of the block (this process only)."""
    global _offset
    before = _offset
    _offset = before + delta
    try:
        yield
    finally:
        _offset = before
