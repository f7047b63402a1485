"""One dead worker does not take the site down: ``bin/serve`` starts it again alone.

``bin/serve 2`` runs two daphne workers and the minute scheduler on a fresh PostgreSQL database
and one Redis, behind nginx with ``deploy/nginx.conf`` (the helpers of
``test_two_processes.py``). While pages are requested without pause from the other worker
directly and through nginx, one worker is killed with ``kill -9``: the other answers every
request, nginx answers every page (it passes what it could not send to the dead worker to the
live one), the dead worker answers again within 10 s, and its restart ran neither ``migrate``
nor ``collectstatic`` (``PY`` is a wrapper that writes down every ``manage.py`` command
``bin/serve`` runs). The scheduler, killed the same way, is started again too.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from psycopg import sql

from tests.load.test_two_processes import (
    PYTHON,
    ROOT,
    _admin_connection,
    _request,
    _start_nginx,
    _stop,
    _two_free_ports,
    _wait_until_up,
    _with_database,
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
class Site:
    proc: subprocess.Popen
    ports: tuple[int, int]
    log: Path
    calls: Path
    tmp: Path
    proxy_port: int

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
def site() -> Iterator[Site]:
    base_url = os.environ["DATABASE_URL"]
    name = f"weishi_restart_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix="weishi-restart-"))
    with _admin_connection(base_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    proc = proxy = None
    try:
        calls = tmp / "calls.txt"
        wrapper = tmp / "python"
        wrapper.write_text(WRAPPER.format(calls=calls, python=PYTHON))
        wrapper.chmod(0o755)
        env = os.environ.copy()
        env.pop("SECURE_SSL_REDIRECT", None)  # production default: on (requests say https)
        env.update(
            DATABASE_URL=_with_database(base_url, name),
            DEBUG="0",
            SECRET_KEY="worker-restart-test-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            STATIC_ROOT=str(tmp / "static"),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            PY=str(wrapper),
            DAPHNE=str(Path(PYTHON).parent / "daphne"),
        )
        first = _two_free_ports()
        ports = (first, first + 1)
        log = tmp / "serve.log"
        with log.open("w") as log_file:
            proc = subprocess.Popen(
                [str(ROOT / "bin" / "serve"), "2", str(first)],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the daphnes die with it
            )
        _wait_until_up(ports, proc, log)
        proxy, proxy_port, _ = _start_nginx(ports, tmp)
        yield Site(proc, ports, log, calls, tmp, proxy_port)
    finally:
        if proxy is not None:
            _stop(proxy)
        if proc is not None:
            _stop(proc)
        with _admin_connection(base_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        shutil.rmtree(tmp, ignore_errors=True)


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
                status = str(_request(self.port, "GET", "/", cookies={}, tls=self.tls).status)
            except OSError as error:
                status = repr(error)
            self.answers.append((time.monotonic(), status))
            time.sleep(0.05)


def _answers_again(port: int, deadline: float) -> float | None:
    """When the worker on ``port`` first answered 200, or None by ``deadline``."""
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", "/", cookies={}).status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    return None


def test_a_killed_worker_is_restarted_alone_while_the_other_and_nginx_keep_answering(
    site: Site,
) -> None:
    live_port, dead_port = site.ports
    victim = site.pid_of(f"worker 2 of 2 on http://127.0.0.1:{dead_port}/")
    survivor = site.pid_of(f"worker 1 of 2 on http://127.0.0.1:{live_port}/")
    tls = ssl.create_default_context(cafile=str(site.tmp / "cert.pem"))
    pollers = [Poller(live_port), Poller(site.proxy_port, tls)]
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
    assert site.proc.poll() is None, f"bin/serve exited ({site.proc.returncode}):\n{log}"
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


def test_a_killed_minute_scheduler_is_restarted_without_migrating(site: Site) -> None:
    assert site.calls_of("minutely") == 1, site.calls.read_text()
    os.kill(site.pid_of("minute scheduler"), signal.SIGKILL)
    deadline = time.monotonic() + RECOVERY_SECONDS
    while site.calls_of("minutely") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert site.calls_of("minutely") == 2, f"not restarted:\n{site.log.read_text()}"
    assert site.proc.poll() is None
    assert site.calls_of("migrate") == 1
    for port in site.ports:
        assert _request(port, "GET", "/", cookies={}).status == 200
