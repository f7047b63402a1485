"""A real daphne at its limits: the database connection pool under many concurrent requests,
PostgreSQL out of reach, and a WebSocket frame over daphne's size limit.

Each server runs ``config.asgi`` with DEBUG off (so errors go through the site's error pages)
in a process of its own, on a database made for the module (SQLite, or a fresh PostgreSQL
database dropped afterwards); the pytest process reaches it only through the network and
``manage.py``. Static files are served from the apps' folders (no collectstatic needed).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.client
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.load.servers import (
    HOST,
    ROOT,
    daphne_start,
    database_admin,
    database_temporary,
    manage,
    shell_json,
)

POOL_MAX = 2

SETTINGS = """\
from config.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
"""

# A community and a public thread, for the WebSocket.
THREAD = """\
import json
from council.threads import thread_create
from tests.factories import CommunityFactory
thread = thread_create(community=CommunityFactory(name="东湖社区"), title="更换小区路灯")
print(json.dumps({"thread": thread.pk}))
"""


@dataclass
class Server:
    port: int
    env: dict[str, str]
    log: Path
    thread_id: int
    database: str = ""  # PostgreSQL: the database's name


def _get(port: int, path: str = "/", language: str = "zh-hans") -> tuple[int, dict, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1", "Accept-Language": language})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@contextlib.contextmanager
def _daphne(env: dict[str, str], tmp: Path) -> Iterator[tuple[int, Path]]:
    log = tmp / "daphne.log"
    with daphne_start(env, log) as port:
        yield port, log


def _environment(tmp: Path, **extra: str) -> dict[str, str]:
    (tmp / "weishi_limits_settings.py").write_text(SETTINGS)
    env = os.environ.copy()
    for name in ("DATABASE_URL", "REDIS_URL", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    env.update(
        DEBUG="0",
        SECRET_KEY="limits-test-secret-key-not-for-production-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        DJANGO_SETTINGS_MODULE="weishi_limits_settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(tmp), str(ROOT), env.get("PYTHONPATH")])),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


# --- A frame over daphne's limit ------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_server() -> Iterator[Server]:
    tmp = Path(tempfile.mkdtemp(prefix="weishi-limits-"))
    try:
        env = _environment(tmp, SQLITE_PATH=str(tmp / "db.sqlite3"))
        manage(env, "migrate", "--no-input", "-v0")
        thread = shell_json(env, THREAD)
        with _daphne(env, tmp) as (port, log):
            yield Server(port, env, log, thread["thread"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _oversized_frame(server: Server) -> tuple[int | None, str]:
    url = f"ws://127.0.0.1:{server.port}/ws/threads/{server.thread_id}/"
    origin = f"http://127.0.0.1:{server.port}"
    async with connect(url, origin=origin, max_size=None, open_timeout=15) as ws:
        try:
            await ws.send("x" * 10 * 1024 * 1024)
            async with asyncio.timeout(15):
                while True:
                    await ws.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
            code = received.code if received is not None else None
    # A new connection is served as usual, and a frame under the limit gets an error frame.
    async with connect(url, origin=origin, open_timeout=15) as ws:
        await ws.send("y" * 100 * 1024)
        async with asyncio.timeout(15):
            while 'data-code="too_large"' not in (frame := await ws.recv()):
                pass
    return code, frame


async def _socket_closing(server: Server) -> tuple[int | None, list[str]]:
    """Open the thread's socket and read until the server closes it: (close code, frames)."""
    url = f"ws://{HOST}:{server.port}/ws/threads/{server.thread_id}/"
    frames = []
    headers = {"Accept-Language": "zh-hans"}
    origin = f"http://{HOST}:{server.port}"
    async with connect(url, origin=origin, additional_headers=headers, open_timeout=15) as socket:
        try:
            while True:
                frames.append(await asyncio.wait_for(socket.recv(), timeout=30))
        except ConnectionClosed as closed:
            return (closed.rcvd.code if closed.rcvd else None), frames
    return None, frames


def test_a_frame_over_daphnes_limit_is_closed_with_1009_not_dropped(sqlite_server):
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        code, frame = pool.submit(asyncio.run, _oversized_frame(sqlite_server)).result(90)
    assert code == 1009, "the connection was dropped without a close frame"
    assert "您发送的内容过大" in frame  # the error frame, in the reader's language


# --- The connection pool (PostgreSQL) -------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Server]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    tmp = Path(tempfile.mkdtemp(prefix="weishi-limits-"))
    try:
        with database_temporary(base, "weishi_limits") as (name, url):
            env = _environment(
                tmp,
                DATABASE_URL=url,
                DATABASE_POOL_MAX=str(POOL_MAX),
                DATABASE_POOL_MIN="1",
                DATABASE_POOL_TIMEOUT="1",
            )
            manage(env, "migrate", "--no-input", "-v0")
            thread = shell_json(env, THREAD)
            with _daphne(env, tmp) as (port, log):
                yield Server(port, env, log, thread["thread"], name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _their_connections(watcher: psycopg.Connection, database: str) -> int:
    """The server's connections to its database (not this test's own)."""
    return watcher.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        " AND application_name <> 'weishi-limits-test'",
        [database],
    ).fetchone()[0]


def _test_connection(server: Server) -> psycopg.Connection:
    return psycopg.connect(
        server.env["DATABASE_URL"], application_name="weishi-limits-test", connect_timeout=10
    )


def _many_at_once(port: int, n: int) -> list[tuple[int, dict, str]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda _: _get(port), range(n)))


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_many_concurrent_requests_share_the_pool_and_the_excess_gets_503(postgres_server):
    server = postgres_server
    with _test_connection(server) as locker, _test_connection(server) as watcher:
        watcher.autocommit = True
        seen, sampling = [], threading.Event()

        def sample():
            while not sampling.is_set():
                seen.append(_their_connections(watcher, server.database))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            # Every page reads the communities: while they are locked, the requests that got
            # a connection hold it, and the others find the pool empty.
            locker.execute("LOCK TABLE council_community IN ACCESS EXCLUSIVE MODE")
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
                answers = background.submit(_many_at_once, server.port, 40)
                time.sleep(4)  # the pool's 1 s timeout passes for the waiting requests
                locker.commit()  # the lock goes: the first requests finish
                locked = answers.result(timeout=120)
            free = _many_at_once(server.port, 20)
        finally:
            sampling.set()
            sampler.join()

    statuses = [status for status, _, _ in locked + free]
    assert 500 not in statuses, server.log.read_text()[-3000:]
    assert set(statuses) <= {200, 503}, statuses
    # The pool lent its connections, the others waited and got the 503 page …
    unavailable = [(h, body) for status, h, body in locked if status == 503]
    assert unavailable and any(status == 200 for status, _, _ in locked)
    for headers, body in unavailable:
        assert headers.get("Retry-After") == "10"
        assert "网站繁忙" in body and 'class="site-header"' in body
    # … and never "too many clients": the server held at most POOL_MAX connections.
    assert not any("too many clients" in body for _, _, body in locked + free)
    assert seen and max(seen) <= POOL_MAX, max(seen)
    assert any(status == 200 for status, _, _ in free)
    # Each busy page is one line of the log, not a traceback.
    log = server.log.read_text()
    assert "Service Unavailable: / (the database could not lend a connection in time)" in log
    assert "PoolTimeout" not in log and "Traceback" not in log, log[-3000:]


@pytest.mark.postgres
@pytest.mark.timeout(240)
def test_with_its_database_out_of_reach_the_site_answers_503_then_recovers(postgres_server):
    server = postgres_server
    base = os.environ["DATABASE_URL"]
    name = sql.Identifier(server.database)
    with database_admin(base) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [server.database],
        )
    try:
        for language, heading in (("zh-hans", "网站繁忙"), ("en", "Busy right now")):
            status, headers, body = _get(server.port, "/", language)
            assert status == 503, body[:500]
            assert heading in body and headers.get("Retry-After") == "10"
            assert "Traceback" not in body and "psycopg" not in body
        # A thread's socket is told and closed with "try again later" (the page reconnects
        # later), not crashed with 1011.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            code, frames = pool.submit(asyncio.run, _socket_closing(server)).result(90)
        assert code == 4013, (code, server.log.read_text()[-3000:])
        assert any("实时更新暂时中断" in frame for frame in frames), frames
    finally:
        with database_admin(base) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
    # The pool opens new connections by itself once the database takes them again.
    deadline = time.monotonic() + 30
    while (status := _get(server.port)[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status == 200
