"""The connection pool, served: 200 requests at once through nginx never make a worker hold more
than its pool's size of PostgreSQL connections, and those that find its pool empty wait or get
the busy page (503), never an error (500).

``bin/serve 2`` (two page workers, two WebSocket workers, the scheduler) runs behind nginx with
``deploy/nginx.conf`` on a fresh PostgreSQL database, each process's pool capped at
``POOL_MAX`` connections, waiting at most 1 s for one. ``bin/serve`` names each process's
connections (``application_name``: "weishi page PORT", "weishi websocket PORT",
"weishi scheduler"), so ``pg_stat_activity`` says who holds how many. While the communities'
table is locked (every page and every thread's socket reads it), 150 page requests and 50
thread WebSockets are sent at once, so that every request in flight holds or waits for a
connection; the lock is released after a few seconds.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.load.servers import (
    PYTHON,
    Site,
    database_temporary,
    http_request,
    manage,
    production_env,
    shell_json,
    site_start,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(280)]

POOL_MAX = 3
PAGES, SOCKETS = 150, 50  # 200 at once
LOCKED_FOR = 4  # seconds: longer than the pool's timeout (1 s)
WATCHER = "weishi-pool-test"

THREAD = """\
import json
from council.threads import thread_create
from tests.factories import CommunityFactory
thread = thread_create(community=CommunityFactory(name="东湖社区"), title="更换小区路灯")
print(json.dumps({"thread": thread.pk}))
"""


@dataclass
class Pooled(Site):
    url: str
    database: str
    thread_id: int


@pytest.fixture(scope="module")
def site() -> Iterator[Pooled]:
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="weishi-pool-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        name, url = stack.enter_context(
            database_temporary(os.environ["DATABASE_URL"], "weishi_pool")
        )
        env = production_env(
            url,
            tmp / "static",
            "pool-test-secret-key-not-for-production-0123456789abcdef",
            DATABASE_POOL_MAX=str(POOL_MAX),
            DATABASE_POOL_MIN="1",
            DATABASE_POOL_TIMEOUT="1",
            PY=PYTHON,
        )
        manage(env, "migrate", "--no-input", "-v0")
        thread = shell_json(env, THREAD)["thread"]
        site = stack.enter_context(
            site_start(env, tmp / "serve.log", tmp, connections=2048, access_log=False)
        )
        yield Pooled(**vars(site), url=url, database=name, thread_id=thread)


def _held(watcher: psycopg.Connection, database: str) -> Counter:
    """The site's connections to its database, by process (application_name)."""
    rows = watcher.execute(
        "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s"
        " AND backend_type = 'client backend' AND application_name <> %s"
        " GROUP BY application_name",
        [database, WATCHER],
    ).fetchall()
    return Counter(dict(rows))


def _page(site: Pooled, n: int) -> str:
    path = ("/", "/disclosures/")[n % 2]
    try:
        return str(http_request(site.nginx.tls_port, "GET", path, tls=site.nginx.tls()).status)
    except OSError as error:
        return repr(error)


async def _socket(site: Pooled) -> str:
    """How a thread's socket through nginx went: "open" (it was served a first frame, or
    stayed open), "closed CODE" (closed by the server), or the handshake's refusal."""
    port = site.nginx.tls_port
    try:
        async with connect(
            f"wss://127.0.0.1:{port}/ws/threads/{site.thread_id}/",
            ssl=site.nginx.tls(),
            origin=f"https://127.0.0.1:{port}",
            open_timeout=60,
        ) as ws:
            try:
                async with asyncio.timeout(LOCKED_FOR + 20):
                    await ws.recv()
            except TimeoutError:
                pass
            return "open"
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}"
    except InvalidStatus as refused:
        return f"refused {refused.response.status_code}"
    except (OSError, TimeoutError) as error:
        return repr(error)


async def _sockets(site: Pooled) -> list[str]:
    return await asyncio.gather(*(_socket(site) for _ in range(SOCKETS)))


def test_200_requests_at_once_hold_at_most_the_pool_per_worker_and_none_fails(
    site: Pooled,
) -> None:
    assert _page(site, 1) == "200"
    with (
        psycopg.connect(site.url, application_name=WATCHER) as locker,
        psycopg.connect(site.url, application_name=WATCHER, autocommit=True) as watcher,
    ):
        seen: list[Counter] = []
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                seen.append(_held(watcher, site.database))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            locker.execute("LOCK TABLE council_community IN ACCESS EXCLUSIVE MODE")
            with concurrent.futures.ThreadPoolExecutor(max_workers=PAGES + 1) as pool:
                sockets = pool.submit(asyncio.run, _sockets(site))
                pages = list(pool.map(lambda n: pool.submit(_page, site, n), range(PAGES)))
                time.sleep(LOCKED_FOR)
                locker.commit()  # the lock goes: the requests in hand finish, the rest follow
                page_answers = [f.result(timeout=180) for f in pages]
                socket_answers = sockets.result(timeout=180)
        finally:
            sampling.set()
            sampler.join()

    log = site.log.read_text()
    statuses = Counter(page_answers)
    assert set(statuses) <= {"200", "503"}, (statuses, log[-3000:])
    assert statuses["200"] >= PAGES // 2, statuses
    # A socket is served, or told to try again later (4013) if no connection came in time.
    outcomes = Counter(socket_answers)
    assert set(outcomes) <= {"open", "closed 4013"}, (outcomes, log[-3000:])
    assert outcomes["open"], outcomes
    # Each process held at most its pool's size, however many requests it had in hand.
    peak: Counter = Counter()
    for sample in seen:
        peak |= sample
    assert seen and peak, "no connection of the site was ever seen"
    assert set(peak) <= {f"weishi page {p}" for p in site.ports} | {
        f"weishi websocket {p}" for p in site.ws_ports
    } | {"weishi scheduler"}, peak
    assert max(peak.values()) <= POOL_MAX, peak
    assert any(name.startswith("weishi page") for name in peak), peak
    assert any(name.startswith("weishi websocket") for name in peak), peak
    assert "Traceback" not in log and "too many clients" not in log, log[-3000:]
