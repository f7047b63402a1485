"""Two daphne processes, one Redis channel layer, one PostgreSQL database: the production shape.

A message posted over the WebSocket of one process reaches a reader connected to the other,
and the reader sees the poster in the presence list. The servers are started by ``bin/serve``
(migrate, collectstatic, two workers with DEBUG off) on a fresh database created for the test
and dropped afterwards. The pytest process never touches that database through the ORM: the
``db`` fixture is not used, everything goes through ``manage.py`` and the network.

HTTP requests carry ``X-Forwarded-Proto: https``, as the reverse proxy's would: the settings
then treat them as secure (no SSL redirect, secure cookies), and the cookies are handled here
by hand (a cookie jar would not send secure cookies over plain HTTP).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import dj_database_url
import psycopg
import pytest
from psycopg import sql
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
USERNAME = "donghu-resident16"
PASSWORD = "weishi-demo-2026"
BODY = "来自进程一的消息"
FRAME_TIMEOUT = 20  # seconds to wait for one expected frame

THREAD_QUERY = """\
import json
from council.models import User
from proposals.models import Proposal
thread_id = (
    Proposal.objects.filter(stage="consultation", thread__isnull=False, community__slug="donghu")
    .values_list("thread_id", flat=True)
    .first()
)
print(json.dumps({"thread": thread_id, "name": User.objects.get(username=USERNAME).display_name}))
""".replace("USERNAME", repr(USERNAME))

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(280)]


@dataclass
class Servers:
    ports: tuple[int, int]
    thread_id: int
    display_name: str
    log: Path


def _admin_connection(url: str) -> psycopg.Connection:
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    params = dj_database_url.parse(url)
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    )


def _with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _two_free_ports() -> int:
    """A port p such that p and p + 1 are both free (bin/serve uses consecutive ports)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no two consecutive free ports")


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def _request(
    port: int, method: str, path: str, *, cookies: dict[str, str], body: bytes | None = None
) -> http.client.HTTPResponse:
    """One HTTP request as the reverse proxy would forward it; Set-Cookie lands in cookies."""
    headers = {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://127.0.0.1:{port}"
        headers["Referer"] = f"https://127.0.0.1:{port}{path}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    for header in response.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value
    return response


def _sign_in(port: int) -> dict[str, str]:
    cookies: dict[str, str] = {}
    page = _request(port, "GET", "/accounts/login/", cookies=cookies)
    assert page.status == 200, f"GET /accounts/login/ answered {page.status}"
    assert "csrftoken" in cookies, "the sign-in page set no CSRF cookie"
    form = urlencode(
        {
            "csrfmiddlewaretoken": cookies["csrftoken"],
            "username": USERNAME,
            "password": PASSWORD,
            "next": "/",
        }
    ).encode()
    answer = _request(port, "POST", "/accounts/login/", cookies=cookies, body=form)
    assert answer.status == 302, f"sign-in answered {answer.status}, not a redirect"
    assert "sessionid" in cookies, "signing in set no session cookie"
    return cookies


def _wait_until_up(ports: tuple[int, ...], proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    waiting = set(ports)
    while waiting and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"bin/serve exited ({proc.returncode}):\n{log.read_text()}", pytrace=False)
        for port in sorted(waiting):
            try:
                if _request(port, "GET", "/", cookies={}).status == 200:
                    waiting.discard(port)
            except OSError:
                pass
        time.sleep(0.25)
    if waiting:
        pytest.fail(f"ports {sorted(waiting)} did not answer:\n{log.read_text()}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    """bin/serve stops its workers on TERM; its process group is killed if it lingers."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # any daphne left behind
    proc.wait(timeout=10)


@pytest.fixture
def servers() -> Iterator[Servers]:
    base_url = os.environ["DATABASE_URL"]
    name = f"weishi_two_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix="weishi-two-"))
    with _admin_connection(base_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    proc = None
    try:
        env = os.environ.copy()
        env.pop("SECURE_SSL_REDIRECT", None)  # production default: on (requests say https)
        env.update(
            DATABASE_URL=_with_database(base_url, name),
            DEBUG="0",
            SECRET_KEY="two-processes-test-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            STATIC_ROOT=str(tmp / "static"),
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
        )
        _manage(env, "migrate", "--no-input", "-v0")
        _manage(env, "seed_demo")
        found = json.loads(_manage(env, "shell", "-c", THREAD_QUERY).strip().splitlines()[-1])
        assert found["thread"], "seed_demo made no donghu proposal in consultation with a thread"

        first = _two_free_ports()
        log = tmp / "serve.log"
        with log.open("w") as log_file:
            proc = subprocess.Popen(
                [str(ROOT / "bin" / "serve"), "2", str(first)],
                cwd=ROOT,
                env={**env, "PY": PYTHON},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the daphnes die with it
            )
        ports = (first, first + 1)
        _wait_until_up(ports, proc, log)
        yield Servers(ports, int(found["thread"]), found["name"], log)
    finally:
        if proc is not None:
            _stop(proc)
        with _admin_connection(base_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        shutil.rmtree(tmp, ignore_errors=True)


async def _frame_matching(
    ws: ClientConnection, wanted: Callable[[str], bool], what: str, seen: list[str]
) -> str:
    """The first text frame satisfying ``wanted``; fails after FRAME_TIMEOUT seconds."""
    try:
        async with asyncio.timeout(FRAME_TIMEOUT):
            while True:
                frame = await ws.recv()
                text = frame if isinstance(frame, str) else frame.decode()
                seen.append(text)
                if wanted(text):
                    return text
    except TimeoutError:
        shown = "\n---\n".join(f[:600] for f in seen[-8:]) or "(no frame at all)"
        pytest.fail(f"no frame with {what} within {FRAME_TIMEOUT}s; last frames:\n{shown}")


async def _exchange(servers: Servers, cookies: dict[str, str]) -> None:
    port_a, port_b = servers.ports
    tid = servers.thread_id
    presence_id = f'id="thread-{tid}-presence"'
    name = html.escape(servers.display_name)

    def url(port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws/threads/{tid}/"

    session = f"sessionid={cookies['sessionid']}"
    seen_b: list[str] = []
    seen_a: list[str] = []
    # B first (process 2, anonymous reader of a public thread), then A (process 1, signed in).
    async with (
        connect(url(port_b), origin=f"http://127.0.0.1:{port_b}", open_timeout=15) as b,
        connect(
            url(port_a),
            origin=f"http://127.0.0.1:{port_a}",
            additional_headers={"Cookie": session},
            open_timeout=15,
        ) as a,
    ):
        # B (process 2, anonymous) learns that A (process 1, signed in) is viewing.
        await _frame_matching(
            b,
            lambda f: presence_id in f and name in f,
            f"presence naming {servers.display_name!r}",
            seen_b,
        )
        await a.send(json.dumps({"action": "post", "body": BODY}))
        # B gets the message through Redis, rendered by process 2.
        frame = await _frame_matching(
            b, lambda f: BODY in f and "data-message-id" in f, f"the message {BODY!r}", seen_b
        )
        assert f'id="thread-{tid}-messages"' in frame
        # A (process 1) gets it too, and no error frame came before it.
        await _frame_matching(
            a, lambda f: BODY in f and "data-message-id" in f, "its own message", seen_a
        )
        # (An errors div also comes with the composer reset, empty: a refusal has a data-code.)
        errors = [f for f in seen_a if f'id="thread-{tid}-errors"' in f and "data-code=" in f]
        assert not errors, f"the poster got an error frame: {errors[0][:600]}"


def test_message_and_presence_cross_processes(servers: Servers) -> None:
    cookies = _sign_in(servers.ports[0])
    try:
        # A thread of its own: an earlier test (Playwright's sync API) may have left an event
        # loop running in this one, where asyncio.run() would refuse to start.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _exchange(servers, cookies)).result(timeout=180)
    except (ConnectionClosed, InvalidStatus, OSError) as error:
        log = servers.log.read_text()[-6000:]
        pytest.fail(f"websocket failed: {error!r}\nbin/serve's log (end):\n{log}", pytrace=False)
