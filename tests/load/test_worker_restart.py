"""One dead worker does not take the site down: ``bin/serve`` starts it again alone.

``bin/serve 2`` runs two page workers (gunicorn), two WebSocket workers (daphne) and the minute
scheduler on a fresh PostgreSQL database and one Redis, behind nginx with ``deploy/nginx.conf``
(``tests/load/servers.py``, as ``test_two_processes.py`` runs them). While the other worker of
the same kind is asked without pause, directly and through nginx, one worker is killed with
``kill -9`` (a page worker: gunicorn's master and its worker process both, the port gone): the
other answers every request, nginx answers every one (it passes what it could not send to the
dead worker to the live one: pages to a page worker, ``/ws/`` to a WebSocket worker), the dead
worker answers again within 10 s, and its restart ran neither ``migrate`` nor
``collectstatic`` (``PY`` is a wrapper that writes down every ``manage.py`` command
``bin/serve`` runs). The scheduler, killed the same way, is started again too.
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
            GUNICORN=str(Path(PYTHON).parent / "gunicorn"),
        )
        site = stack.enter_context(site_start(env, tmp / "serve.log", tmp))
        yield Restarts(**vars(site), calls=calls)


@dataclass
class Poller:
    """Requests ``path`` again and again, straight from a worker or through nginx over TLS."""

    port: int
    tls: object = None
    path: str = "/"
    answers: list[tuple[float, str]] = field(default_factory=list)  # (time, status or error)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = str(http_request(self.port, "GET", self.path, tls=self.tls).status)
            except OSError as error:
                status = repr(error)
            self.answers.append((time.monotonic(), status))
            time.sleep(0.05)


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


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


# A page asked of a WebSocket worker through nginx: /ws/ goes to one, and a plain GET there is
# answered by the app's 404 page (a dead worker's would be nginx's 502).
WS_PATH, WS_STATUS = "/ws/not-a-socket/", "404"


@pytest.mark.parametrize("kind", ["page worker", "websocket worker"])
def test_a_killed_worker_is_restarted_alone_while_the_other_and_nginx_keep_answering(
    site: Restarts, kind: str
) -> None:
    live_port, dead_port = site.ports if kind == "page worker" else site.ws_ports
    path, expected = ("/", "200") if kind == "page worker" else (WS_PATH, WS_STATUS)
    victim = site.pid_of(f"{kind} 2 of 2 on http://127.0.0.1:{dead_port}/")
    survivor = site.pid_of(f"{kind} 1 of 2 on http://127.0.0.1:{live_port}/")
    pollers = [Poller(live_port), Poller(site.nginx.tls_port, site.nginx.tls(), path)]
    threads = [threading.Thread(target=p.run, daemon=True) for p in pollers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        killed_at = time.monotonic()
        for pid in [victim, *_children(victim)]:  # gunicorn's worker too: the port is gone
            os.kill(pid, signal.SIGKILL)
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
    for poller, where, ok in zip(
        pollers, ("the other worker", "nginx"), ("200", expected), strict=True
    ):
        during = [a for a in poller.answers if killed_at <= a[0] <= back_at]
        assert during, f"{where} was not asked anything while the worker was down"
        failed = [status for _, status in poller.answers if status != ok]
        assert not failed, f"{where} failed {len(failed)} of {len(poller.answers)}: {failed[:5]}"
    assert site.pid_of(f"{kind} 1 of 2 on http://127.0.0.1:{live_port}/") == survivor
    assert site.pid_of(f"{kind} 2 of 2 on http://127.0.0.1:{dead_port}/") != victim
    assert f"{kind} 2 of 2 on http://127.0.0.1:{dead_port}/ was killed by signal 9" in log
    # The restart path is the worker alone: migrate and collectstatic ran once, at start.
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
    for port in site.ports + site.ws_ports:
        assert http_request(port, "GET", "/").status == 200
