"""The README's "Deploying" section, run: ``bin/serve`` starts two page workers (gunicorn), two
WebSocket workers (daphne) and the minute scheduler on one PostgreSQL database and one Redis,
behind nginx with ``deploy/nginx.conf`` (``/ws/`` to the WebSocket workers, the rest to the
page workers).

A message posted over the WebSocket of one daphne reaches a reader connected to the other,
and the reader sees the poster in the presence list; one posted with the plain form, through a
page worker, reaches a reader on a WebSocket worker. Through nginx (TLS, the committed config
with only its ports, name and certificate changed) pages, hashed static files, sign-in, an
open data file (streamed) and a thread's WebSocket work, and sign-in throttling counts the
address nginx saw, not one the client wrote. The scheduler ``bin/serve`` keeps running closes a
ballot whose time has passed without anyone opening a page. The servers run on a fresh
database created for the module and dropped afterwards. The pytest process never touches that
database through the ORM: the ``db`` fixture is not used, everything goes through
``manage.py`` and the network.

HTTP requests carry ``X-Forwarded-Proto: https``, as the reverse proxy's would: the settings
then treat them as secure (no SSL redirect, secure cookies), and the cookies are handled here
by hand (a cookie jar would not send secure cookies over plain HTTP).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.load.servers import (
    PYTHON,
    Site,
    database_temporary,
    http_request,
    manage,
    production_env,
    shell_json,
    sign_in,
    site_start,
)

USERNAME = "donghu-resident16"
PASSWORD = "weishi-demo-2026"
BODY = "来自进程一的消息"
FRAME_TIMEOUT = 20  # seconds to wait for one expected frame
ADDRESS_FAILURES = 3  # the site's SIGNIN_ADDRESS_FAILURES here

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

# A ballot that closed an hour ago and is still open: opened yesterday (the clock moved back
# for this process only) on a xiling proposal put to the vote. Nobody opens its page, so only
# the minute scheduler can close it.
OVERDUE_BALLOT = """\
import datetime as dt, json
from council import clock
from council.models import RoleKind
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from voting.services import ballot_open
found = None
with clock.travel(-dt.timedelta(days=1)):
    for proposal in Proposal.objects.filter(community__slug="xiling", stage=Stage.CONSULTATION):
        staff = proposal.community.roles.filter(kind=RoleKind.STAFF).first().user
        try:
            proposal = proposal_move(actor=staff, proposal=proposal, move=Move.OPEN_VOTING)
            ballot = ballot_open(actor=staff, proposal=proposal,
                                 closes_at=clock.now() + dt.timedelta(hours=23))
        except Exception:
            continue
        found = ballot.pk
        break
print(json.dumps({"ballot": found}))
"""

BALLOT_STATE = """\
import json
from council.models import EvidenceEvent
from voting.models import Ballot
ballot = Ballot.objects.get(pk=BALLOT)
closing = EvidenceEvent.objects.filter(
    action="ballot.closed", object_type="voting.ballot", object_id=str(ballot.pk)
).first()
print(json.dumps({
    "status": ballot.status,
    "closed_by": ballot.closed_by_id,
    "event": closing is not None,
    "event_actor": closing.actor_id if closing else None,
}))
"""

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(280)]


@dataclass
class Servers(Site):
    env: dict[str, str]
    thread_id: int
    display_name: str
    overdue_ballot: int


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with contextlib.ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="weishi-two-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        _, url = stack.enter_context(database_temporary(os.environ["DATABASE_URL"], "weishi_two"))
        env = production_env(
            url,
            tmp / "static",
            "two-processes-test-secret-key-not-for-production-0123456789",
            SIGNIN_ADDRESS_FAILURES=str(ADDRESS_FAILURES),
        )
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "seed_demo")
        found = shell_json(env, THREAD_QUERY)
        assert found["thread"], "seed_demo made no donghu proposal in consultation with a thread"
        overdue = shell_json(env, OVERDUE_BALLOT)
        assert overdue["ballot"], "no xiling proposal in consultation could be put to a ballot"
        site = stack.enter_context(site_start({**env, "PY": PYTHON}, tmp / "serve.log", tmp))
        yield Servers(
            **vars(site),
            env=env,
            thread_id=int(found["thread"]),
            display_name=found["name"],
            overdue_ballot=int(overdue["ballot"]),
        )


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
    port_a, port_b = servers.ws_ports
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
    cookies = sign_in(servers.ports[0], USERNAME, PASSWORD)
    try:
        # A thread of its own: an earlier test (Playwright's sync API) may have left an event
        # loop running in this one, where asyncio.run() would refuse to start.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _exchange(servers, cookies)).result(timeout=180)
    except (ConnectionClosed, InvalidStatus, OSError) as error:
        log = servers.log.read_text()[-6000:]
        pytest.fail(f"websocket failed: {error!r}\nbin/serve's log (end):\n{log}", pytrace=False)


def test_pages_static_files_and_sign_in_go_through_nginx_over_tls(servers: Servers) -> None:
    tls, port = servers.nginx.tls(), servers.nginx.tls_port
    home = http_request(port, "GET", "/", tls=tls)
    assert home.status == 200, f"GET / through nginx answered {home.status}"
    page = home.body.decode()
    # The stylesheet under its hashed name (collectstatic + WhiteNoise), cached for ever.
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert css, "the home page links no hashed stylesheet"
    sheet = http_request(port, "GET", css.group(1), tls=tls)
    assert sheet.status == 200, f"{css.group(1)} answered {sheet.status}"
    assert "max-age=315360000" in (sheet.headers["Cache-Control"] or "")
    # Plain HTTP is sent to HTTPS.
    plain = http_request(servers.nginx.http_port, "GET", "/proposals/")
    assert plain.status == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1:"), plain.headers["Location"]
    # Signing in works through the proxy (CSRF's origin check, secure cookies).
    cookies = sign_in(port, USERNAME, PASSWORD, tls)
    me = http_request(port, "GET", "/notifications/", cookies=cookies, tls=tls)
    assert me.status == 200, f"a signed-in page through nginx answered {me.status}"


async def _post_through_proxy(servers: Servers, cookies: dict[str, str]) -> None:
    tid, port = servers.thread_id, servers.nginx.tls_port
    body = "经反向代理发出的消息"
    seen: list[str] = []
    async with connect(
        f"wss://127.0.0.1:{port}/ws/threads/{tid}/",
        ssl=servers.nginx.tls(),
        origin=f"https://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={cookies['sessionid']}"},
        open_timeout=15,
    ) as ws:
        await ws.send(json.dumps({"action": "post", "body": body}))
        await _frame_matching(
            ws, lambda f: body in f and "data-message-id" in f, f"the message {body!r}", seen
        )


def test_a_thread_message_goes_through_nginx_over_a_secure_websocket(servers: Servers) -> None:
    nginx = servers.nginx
    cookies = sign_in(nginx.tls_port, USERNAME, PASSWORD, nginx.tls())
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _post_through_proxy(servers, cookies)).result(timeout=120)
    except (ConnectionClosed, InvalidStatus, OSError) as error:
        pytest.fail(f"websocket through nginx failed: {error!r}", pytrace=False)


async def _form_post_reaches_a_socket(servers: Servers, cookies: dict[str, str]) -> None:
    tid, port = servers.thread_id, servers.ws_ports[1]
    body = "用表单发出的消息"
    seen: list[str] = []
    async with connect(
        f"ws://127.0.0.1:{port}/ws/threads/{tid}/", origin=f"http://127.0.0.1:{port}",
        open_timeout=15,
    ) as reader:  # fmt: skip
        form = urlencode(
            {"csrfmiddlewaretoken": cookies["csrftoken"], "body": body, "next": "/"}
        ).encode()
        nginx = servers.nginx
        answer = await asyncio.to_thread(
            http_request, nginx.tls_port, "POST", f"/threads/{tid}/post/",
            cookies=cookies, body=form, tls=nginx.tls(),
        )  # fmt: skip
        assert answer.status == 302, (answer.status, answer.body[:500])
        await _frame_matching(
            reader, lambda f: body in f and "data-message-id" in f, f"the message {body!r}", seen
        )


def test_a_message_posted_through_a_page_worker_reaches_a_websocket_worker(
    servers: Servers,
) -> None:
    nginx = servers.nginx
    cookies = sign_in(nginx.tls_port, USERNAME, PASSWORD, nginx.tls())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _form_post_reaches_a_socket(servers, cookies)).result(120)


def test_an_open_data_file_streams_from_a_page_worker_through_nginx(servers: Servers) -> None:
    tls, port = servers.nginx.tls(), servers.nginx.tls_port
    answer = http_request(port, "GET", "/open-data/proposals.csv", tls=tls)
    assert answer.status == 200, answer.body[:500]
    lines = answer.body.decode("utf-8-sig").splitlines()
    assert len(lines) > 1 and "," in lines[0]
    # Sent as it was written (no length known beforehand), not read whole first.
    direct = http_request(servers.ports[0], "GET", "/open-data/proposals.csv")
    assert direct.status == 200 and direct.headers["Content-Length"] is None
    assert direct.body.splitlines()[0] == answer.body.splitlines()[0]


def _sign_in_status(port: int, username: str, password: str, **options) -> int:
    cookies: dict[str, str] = {}
    http_request(port, "GET", "/accounts/login/", cookies=cookies, **options)
    form = {"csrfmiddlewaretoken": cookies["csrftoken"], "username": username}
    form |= {"password": password, "next": "/"}
    answer = http_request(
        port, "POST", "/accounts/login/", cookies=cookies, body=urlencode(form).encode(),
        **options,
    )  # fmt: skip
    return answer.status


def test_sign_in_throttling_counts_the_address_nginx_saw_not_the_one_a_client_wrote(
    servers: Servers,
) -> None:
    nginx, worker = servers.nginx, servers.ports[1]
    spoofed = {"X-Forwarded-For": "203.0.113.77"}
    # Straight to a page worker from 127.0.0.1 (a trusted proxy's address, as nginx's is):
    # the last X-Forwarded-For entry is the client. Wrong passwords, each for another name,
    # lock that address …
    # (The failure that reaches the limit is answered with the lock already.)
    failures = [
        _sign_in_status(worker, f"nobody-{n}", "wrong", headers=spoofed)
        for n in range(ADDRESS_FAILURES)
    ]
    assert failures[:-1] == [200] * (ADDRESS_FAILURES - 1), failures
    assert _sign_in_status(worker, USERNAME, PASSWORD, headers=spoofed) == 429
    # … but through nginx the header a client sends is replaced by the address nginx saw:
    # the same header changes nothing, and the right password signs in.
    status = _sign_in_status(nginx.tls_port, USERNAME, PASSWORD, headers=spoofed, tls=nginx.tls())
    assert status == 302


def test_the_scheduler_bin_serve_runs_closes_an_overdue_ballot_nobody_opens(
    servers: Servers,
) -> None:
    script = BALLOT_STATE.replace("BALLOT", str(servers.overdue_ballot))
    deadline = time.monotonic() + 90
    while True:
        state = shell_json(servers.env, script)
        if state["status"] == "closed" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert state["status"] == "closed", (
        f"the overdue ballot is still open; bin/serve's log:\n{servers.log.read_text()[-3000:]}"
    )
    # Closed by the system (no person), and the evidence log says so.
    assert state["closed_by"] is None
    assert state["event"] and state["event_actor"] is None
