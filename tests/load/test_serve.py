"""``bin/serve`` as a supervisor, on its own: which processes it starts again, when, and how it
stops and refuses.

The processes it supervises are stand-ins here (a ``gunicorn`` and a ``daphne`` that sleep, or
fail at once on the ports they are told to; a ``python`` that writes down each ``manage.py``
command and sleeps for ``minutely --loop``), so these tests need no database and take seconds.
The real workers, killed under load behind nginx, are in ``test_worker_restart.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "bin" / "serve"
FIRST_PORT = 18701  # never bound: the stand-ins only read them
WS_FIRST_PORT = 18801

FAKE_DAPHNE = """\
#!/bin/sh
# daphne -b HOST -p PORT APP: fails at once on the ports listed in FAIL_PORTS, else sleeps.
case " $FAIL_PORTS " in *" $4 "*) echo "stand-in daphne on $4 fails"; exit 3;; esac
exec sleep 300
"""
FAKE_GUNICORN = """\
#!/bin/sh
# gunicorn --bind HOST:PORT …: fails at once on the ports listed in FAIL_PORTS, else sleeps.
case " $FAIL_PORTS " in *" ${2##*:} "*) echo "stand-in gunicorn on ${2##*:} fails"; exit 3;; esac
exec sleep 300
"""
FAKE_PYTHON = """\
#!/bin/sh
printf '%s\\n' "$*" >> "$CALLS"
case "$2" in minutely) exec sleep 300;; esac
exit 0
"""


@dataclass
class Serve:
    proc: subprocess.Popen
    log: Path
    calls: Path

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> list[re.Match]:
        """The log's matches of ``pattern`` once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = list(re.finditer(pattern, self.text()))
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                pytest.fail(f"no {count}× {pattern!r} in bin/serve's log:\n{self.text()}")
            time.sleep(0.05)

    def pid(self, name: str) -> int:
        return int(self.wait_for(rf"{re.escape(name)}.*\(pid (\d+)\)")[-1][1])

    def calls_of(self, command: str) -> int:
        lines = self.calls.read_text().splitlines() if self.calls.exists() else []
        return sum(1 for line in lines if line.startswith(f"manage.py {command}"))

    def wait_for_calls(self, command: str, count: int, timeout: float = 10) -> int:
        """The number of ``command`` calls once there are ``count`` (a process bin/serve has
        just logged as restarted may not have written its call down yet), or after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.calls_of(command) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.calls_of(command)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[callable]:
    (tmp_path / "daphne").write_text(FAKE_DAPHNE)
    (tmp_path / "gunicorn").write_text(FAKE_GUNICORN)
    (tmp_path / "python").write_text(FAKE_PYTHON)
    for name in ("daphne", "gunicorn", "python"):
        (tmp_path / name).chmod(0o755)
    started: list[subprocess.Popen] = []

    def start(*args: str, **env: str) -> Serve:
        log, calls = tmp_path / "serve.log", tmp_path / "calls.txt"
        base = {
            "PATH": os.environ["PATH"],
            "PY": str(tmp_path / "python"),
            "CALLS": str(calls),
            "SECRET_KEY": "serve-test-secret-key",
            "WS_FIRST_PORT": str(WS_FIRST_PORT),
            "REDIS_URL": "redis://127.0.0.1:1/0",  # never reached: the workers are stand-ins
            "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        }
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(SERVE), *args],
                cwd=ROOT,
                env={**base, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(proc)
        return Serve(proc, log, calls)

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("kind", "port"), [("page worker", FIRST_PORT), ("websocket worker", WS_FIRST_PORT)]
)
def test_a_killed_worker_is_started_again_alone_and_at_once(serve, kind, port) -> None:
    site = serve("2", str(FIRST_PORT), RESTART_STEADY="1")
    first = site.pid(f"{kind} 1 of 2 on http://127.0.0.1:{port}/")
    second = site.pid(f"{kind} 2 of 2 on http://127.0.0.1:{port + 1}/")
    other_kind = site.pid("websocket worker 1" if kind == "page worker" else "page worker 1")
    time.sleep(1.5)  # longer than RESTART_STEADY: it counts as having run steadily
    os.kill(first, signal.SIGKILL)
    site.wait_for(rf"{kind} 1 of 2 .* restarted \(pid \d+\)")
    log = site.text()
    assert f"{kind} 1 of 2 on http://127.0.0.1:{port}/ was killed by signal 9" in log
    assert "restarting it now, the others keep serving" in log
    assert site.pid(f"{kind} 1 of 2") != first
    assert _alive(second) and _alive(other_kind), "another worker was stopped"
    assert site.pid(f"{kind} 2 of 2") == second
    assert site.proc.poll() is None
    assert site.calls_of("migrate") == site.calls_of("collectstatic") == 1


def test_a_killed_scheduler_is_started_again_the_same_way(serve) -> None:
    site = serve("1", str(FIRST_PORT), RESTART_STEADY="1")
    worker = site.pid("page worker 1 of 1")
    time.sleep(1.5)
    os.kill(site.pid("minute scheduler"), signal.SIGKILL)
    site.wait_for(r"minute scheduler \(manage\.py minutely --loop\) restarted")
    assert site.wait_for_calls("minutely", 2) == 2
    assert site.calls_of("migrate") == 1
    assert _alive(worker)


def test_a_worker_that_fails_at_once_is_retried_with_growing_pauses_while_others_serve(
    serve,
) -> None:
    site = serve("2", str(FIRST_PORT), FAIL_PORTS=str(FIRST_PORT + 1))
    first = site.pid("page worker 1 of 2")
    pauses = site.wait_for(
        r"page worker 2 of 2 .* exited with status 3 after \d+ s, soon after starting; "
        r"restarting it in (\d+) s",
        count=3,
    )
    assert [int(m[1]) for m in pauses[:3]] == [1, 2, 4]
    assert _alive(first), "the healthy worker was stopped"
    assert site.proc.poll() is None
    assert site.calls_of("migrate") == site.calls_of("collectstatic") == 1


def test_term_stops_every_process_and_exits_0(serve) -> None:
    site = serve("2", str(FIRST_PORT))
    children = [
        site.pid("page worker 1 of 2"),
        site.pid("page worker 2 of 2"),
        site.pid("websocket worker 1 of 2"),
        site.pid("websocket worker 2 of 2"),
        site.pid("minute scheduler"),
    ]
    site.wait_for("Ctrl-C stops all")
    os.kill(site.proc.pid, signal.SIGTERM)  # bin/serve alone, not its process group
    assert site.proc.wait(timeout=30) == 0
    assert "stopping 5 process(es)" in site.text()
    assert not [pid for pid in children if _alive(pid)]
    assert "restarted" not in site.text()


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["0"], {}, "PAGE_WORKERS must be a positive whole number, not '0'"),
        (["two"], {}, "PAGE_WORKERS must be a positive whole number, not 'two'"),
        (["2", "65535"], {}, "FIRST_PORT must be a port number with room for 2 page workers"),
        (["1"], {"WS_WORKERS": "0"}, "WS_WORKERS must be a positive whole number"),
        (["1"], {"PAGE_THREADS": "x"}, "PAGE_THREADS must be a positive whole number"),
        (["1"], {"WS_FIRST_PORT": "x"}, "WS_FIRST_PORT must be a port number with room for 2"),
        (
            ["2", "8001"],
            {"WS_FIRST_PORT": "8002"},
            "the page workers' ports (8001–8002) and the WebSocket workers' (8002–8003) overlap",
        ),
        (["1"], {"SCHEDULER": "yes"}, "SCHEDULER must be 1"),
        (["1"], {"RESTART_STEADY": "0"}, "RESTART_STEADY must be a positive whole number"),
        (["1"], {"REDIS_URL": ""}, "REDIS_URL is not set"),
        (["1"], {"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        (["1"], {"DAPHNE": "/nonexistent/daphne"}, "/nonexistent/daphne is missing"),
        (["1"], {"GUNICORN": "/nonexistent/gunicorn"}, "/nonexistent/gunicorn is missing"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(serve, args, env, says) -> None:
    site = serve(*args, **env)
    assert site.proc.wait(timeout=30) == 2
    assert says in site.text()
    assert site.calls_of("migrate") == 0


def test_a_worker_starts_without_importing_weasyprint() -> None:
    """A restarted worker answers sooner when the ASGI app and every URL load without
    WeasyPrint (over a second of imports, more than half of a worker's start): PDFs import
    it when they are first rendered."""
    code = (
        "import sys, config.asgi; from django.urls import get_resolver; "
        "get_resolver().url_patterns; print(sorted(m for m in sys.modules if 'weasyprint' in m))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "[]", result.stdout
