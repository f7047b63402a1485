"""One dead worker does not take the site down: ``bin/serve`` starts it again alone.

``bin/serve 2`` runs two daphne workers and the minute scheduler on a fresh PostgreSQL database
and one Redis, behind nginx with ``deploy/nginx.conf`` (``tests/load/servers.py``, as
``test_two_processes.py`` runs them). While pages are requested without pause from the other
worker directly and through nginx, one worker is killed with ``kill -9``: the other answers
every request, nginx answers every page (it passes what it could not send to the dead worker to
the live one), the dead worker answers again within 10 s, and its restart ran neither
``migrate`` nor ``collectstatic`` (``PY`` is a wrapper that writes down every ``manage.py``
command ``bin/serve`` runs). The scheduler, killed the same way, is started again too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.load.servers import (
    PYTHON,
    Site,
    database_temporary,
    http_request,
    production_env,
    site_start,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(280)]

RECOVERY_SECONDS = 10  # the bound: the dead worker answers again within this
WRAPPER = """\
#!/bin/sh
# Writes down each command bin/serve runs with PY, then runs it.
printf '%s\\n' "$*" >> {calls}
exec {python} "$@"
"""


@dataclass
class Restarts(Site):
    calls: Path  # each manage.py command bin/serve ran, a line each

    def calls_of(self, command: str) -> int:
        """How many times bin/serve ran ``manage.py COMMAND``."""
        lines = self.calls.read_text().splitlines() if self.calls.exists() else []
        return sum(1 for line in lines if line.startswith(f"manage.py {command}"))

    def pid_of(self, name: str) -> int:
        """The pid bin/serve last logged for ``name`` ("worker 2 of 2 on …", "minute …")."""
        found = re.findall(rf"bin/serve: {re.escape(name)}.*\(pid (\d+)\)", self.log.read_text())
        assert found, f"bin/serve logged no pid for {name!r}:\n{self.log.read_text()}"
        return int(found[-1])


@pytest.fixture(scope="module")
def site() -> Iterator[Restarts]:
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="weishi-restart-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        _, url = stack.enter_context(
            database_temporary(os.environ["DATABASE_URL"], "weishi_restart")
        )
        calls = tmp / "calls.txt"
        wrapper = tmp / "python"
        wrapper.write_text(WRAPPER.format(calls=calls, python=PYTHON))
        wrapper.chmod(0o755)
        env = production_env(
            url,
            tmp / "static",
            "worker-restart-test-secret-key-not-for-production-0123456789",
            PY=str(wrapper),
            DAPHNE=str(Path(PYTHON).parent / "daphne"),
        )
        site = stack.enter_context(site_start(env, tmp / "serve.log", tmp))
        yield Restarts(**vars(site), calls=calls)


@dataclass
class Poller:
    """Requests ``/`` again and again, straight from a worker or through nginx over TLS."""

    port: int
    tls: object = None
    answers: list[tuple[float, str]] = field(default_factory=list)  # (time, "200" or error)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = str(http_request(self.port, "GET", "/", tls=self.tls).status)
            except OSError as error:
                status = repr(error)
            self.answers.append((time.monotonic(), status))
            time.sleep(0.05)


def _answers_again(port: int, deadline: float) -> float | None:
    """When the worker on ``port`` first answered 200, or None by ``deadline``."""
    while time.monotonic() < deadline:
        try:
            if http_request(port, "GET", "/").status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    return None


def test_a_killed_worker_is_restarted_alone_while_the_other_and_nginx_keep_answering(
    site: Restarts,
) -> None:
    live_port, dead_port = site.ports
    victim = site.pid_of(f"worker 2 of 2 on http://127.0.0.1:{dead_port}/")
    survivor = site.pid_of(f"worker 1 of 2 on http://127.0.0.1:{live_port}/")
    pollers = [Poller(live_port), Poller(site.nginx.tls_port, site.nginx.tls())]
    threads = [threading.Thread(target=p.run, daemon=True) for p in pollers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        back_at = _answers_again(dead_port, killed_at + 30)
        time.sleep(1)  # the other worker and nginx, a moment after the restart too
    finally:
        for poller in pollers:
            poller.stop.set()
        for thread in threads:
            thread.join(timeout=40)

    log = site.log.read_text()
    assert site.serve.poll() is None, f"bin/serve exited ({site.serve.returncode}):\n{log}"
    assert back_at is not None, f"the killed worker did not answer again within 30 s:\n{log}"
    assert back_at - killed_at <= RECOVERY_SECONDS, (
        f"the killed worker answered again after {back_at - killed_at:.1f} s"
    )
    for poller, where in zip(pollers, ("the other worker", "nginx"), strict=True):
        during = [a for a in poller.answers if killed_at <= a[0] <= back_at]
        assert during, f"{where} was not asked anything while the worker was down"
        failed = [status for _, status in poller.answers if status != "200"]
        assert not failed, f"{where} failed {len(failed)} of {len(poller.answers)}: {failed[:5]}"
    assert site.pid_of(f"worker 1 of 2 on http://127.0.0.1:{live_port}/") == survivor
    assert site.pid_of(f"worker 2 of 2 on http://127.0.0.1:{dead_port}/") != victim
    assert "was killed by signal 9" in log
    # The restart path is daphne alone: migrate and collectstatic ran once, at start.
    assert site.calls_of("migrate") == 1, site.calls.read_text()
    assert site.calls_of("collectstatic") == 1, site.calls.read_text()


def test_a_killed_minute_scheduler_is_restarted_without_migrating(site: Restarts) -> None:
    assert site.calls_of("minutely") == 1, site.calls.read_text()
    os.kill(site.pid_of("minute scheduler"), signal.SIGKILL)
    deadline = time.monotonic() + RECOVERY_SECONDS
    while site.calls_of("minutely") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert site.calls_of("minutely") == 2, f"not restarted:\n{site.log.read_text()}"
    assert site.serve.poll() is None
    assert site.calls_of("migrate") == 1
    for port in site.ports:
        assert http_request(port, "GET", "/").status == 200
