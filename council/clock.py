"""The one place the app reads the time.

Collection windows, ballots and publicity periods are all judged against ``clock.now()``.
Tests and the demo move it with ``clock.travel()`` instead of patching ``timezone.now``.

A test server whose clock must move while it runs (the browser journey: publicity periods
and evaluation windows last days) sets ``CLOCK_OFFSET_FILE`` in its settings module: a file
holding an offset in seconds that ``now()`` adds, read again whenever the file changes, so
the server and every later management command share the moved clock. The setting is never
read from the environment: production cannot turn it on.
"""

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

_offset = dt.timedelta(0)

# (path, inode, mtime_ns, size) of the offset file last read, and the offset it held.
_file_key: tuple[str, int, int, int] | None = None
_file_offset = dt.timedelta(0)


def _offset_from_file() -> dt.timedelta:
    """The offset in ``settings.CLOCK_OFFSET_FILE`` (0 when unset or missing), cached by mtime."""
    global _file_key, _file_offset
    path = getattr(settings, "CLOCK_OFFSET_FILE", None)
    if not path:
        return dt.timedelta(0)
    path = os.fspath(path)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return dt.timedelta(0)
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if key != _file_key:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except FileNotFoundError:
            return dt.timedelta(0)
        _file_offset = dt.timedelta(seconds=float(text or 0))
        _file_key = key
    return _file_offset


def now() -> dt.datetime:
    """The current time, aware, shifted by any ``travel`` in force (and the offset file)."""
    return timezone.now() + _offset + _offset_from_file()


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
