"""A circuit breaker for a shared service (Redis) that a request must not wait on while it is
away: after a failure, callers skip the service for a few seconds instead of each paying for
the failure again, and the outage is logged once when it starts and once when it ends — not
once per call."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("weishi.outage")


class Outage:
    """The state of one service in this process, shared by its threads.

    ``available()`` is False for ``retry_after`` seconds after ``failed()``; then one caller
    tries the service again (the others still skip it until that try reports back, or until
    another ``retry_after`` has passed). ``succeeded()`` ends the outage.
    """

    def __init__(self, name: str, *, retry_after: float = 5.0):
        self.name = name
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._down = False
        self._skip_until = 0.0

    @property
    def down(self) -> bool:
        return self._down

    def available(self) -> bool:
        if not self._down:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._skip_until:
                return False
            # This caller tries; the others keep skipping while it does.
            self._skip_until = now + self.retry_after
            return True

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + self.retry_after
            if self._down:
                return
            self._down = True
        logger.warning(
            "%s is unreachable (%s: %s); carrying on without it, trying again every %g s",
            self.name,
            type(error).__name__,
            error,
            self.retry_after,
        )

    def succeeded(self) -> None:
        if not self._down:
            return
        with self._lock:
            if not self._down:
                return
            self._down = False
            self._skip_until = 0.0
        logger.warning("%s answers again", self.name)
