"""The README's "Deploying" section, run: ``bin/serve`` starts two daphne workers and the minute
scheduler on one PostgreSQL database and one Redis, behind nginx with ``deploy/nginx.conf``.

A message posted over the WebSocket of one process reaches a reader connected to the other,
and the reader sees the poster in the presence list. Through nginx (TLS, the committed config
with only its ports, name and certificate changed) pages, hashed static files, sign-in and a
thread's WebSocket work. The scheduler ``bin/serve`` keeps running closes a ballot whose time
has passed without anyone opening a page. The servers run on a fresh database created for the
module and dropped afterwards. The pytest process never touches that database through the ORM: the
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
import re
import secrets
import shutil
import signal
import socket
import ssl
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
class Servers:
    ports: tuple[int, int]
    thread_id: int
    display_name: str
    log: Path
    env: dict[str, str]
    overdue_ballot: int
    proxy_port: int  # nginx over TLS, deploy/nginx.conf
    redirect_port: int  # nginx's plain-HTTP server, redirecting to TLS
    cafile: Path  # the self-signed certificate nginx presents


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
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str],
    body: bytes | None = None,
    tls: ssl.SSLContext | None = None,
) -> http.client.HTTPResponse:
    """One HTTP request; Set-Cookie lands in cookies. Without ``tls`` it goes straight to a
    worker as the reverse proxy would forward it; with ``tls``, to nginx over HTTPS."""
    headers = {"Host": f"127.0.0.1:{port}"}
    if tls is None:
        headers["X-Forwarded-Proto"] = "https"
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"https://127.0.0.1:{port}"
        headers["Referer"] = f"https://127.0.0.1:{port}{path}"
    if tls is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    else:
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=tls)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    for header in response.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            cookies[name] = morsel.value
    return response


def _sign_in(port: int, tls: ssl.SSLContext | None = None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    page = _request(port, "GET", "/accounts/login/", cookies=cookies, tls=tls)
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
    answer = _request(port, "POST", "/accounts/login/", cookies=cookies, body=form, tls=tls)
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


NGINX_MAIN = """\
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/weishi.conf;
}}
"""


def _nginx_site(
    ports: tuple[int, int],
    tls_port: int,
    http_port: int,
    tmp: Path,
    read_timeout: str | None = None,
) -> str:
    """deploy/nginx.conf with this test's ports, host name and certificate, and the error
    pages of this checkout: nothing else (but ``read_timeout``, for ``location /``, if
    given)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = [
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports[0]} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{ports[1]} "),
        ("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("server_name weishi.example.cn;", "server_name 127.0.0.1;"),
        ("/etc/ssl/weishi/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/ssl/weishi/privkey.pem", str(tmp / "key.pem")),
        ("alias /srv/weishi/deploy/errors/;", f"alias {ROOT / 'deploy' / 'errors'}/;"),
    ]
    if read_timeout is not None:
        replacements.append(
            (
                "    location / {\n",
                f"    location / {{\n        proxy_read_timeout {read_timeout};\n",
            )
        )
    for old, new in replacements:
        assert old in conf, f"deploy/nginx.conf no longer has {old!r}: update this test"
        conf = conf.replace(old, new)
    return conf


def _start_nginx(
    ports: tuple[int, int], tmp: Path, read_timeout: str | None = None
) -> tuple[subprocess.Popen, int, int]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: `make test` installs it (apt-get install nginx)")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    tls_port, http_port = _two_free_ports(), _two_free_ports() + 1
    (tmp / "weishi.conf").write_text(_nginx_site(ports, tls_port, http_port, tmp, read_timeout))
    (tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=tmp))
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if checked.returncode != 0:
        pytest.fail(f"nginx -t refused the configuration:\n{checked.stderr}", pytrace=False)
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", tls_port), 1):
            return proc, tls_port, http_port
        time.sleep(0.1)
    pytest.fail(f"nginx did not listen:\n{(tmp / 'nginx-error.log').read_text()}")


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    base_url = os.environ["DATABASE_URL"]
    name = f"weishi_two_{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix="weishi-two-"))
    with _admin_connection(base_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    proc = proxy = None
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
        overdue = json.loads(_manage(env, "shell", "-c", OVERDUE_BALLOT).strip().splitlines()[-1])
        assert overdue["ballot"], "no xiling proposal in consultation could be put to a ballot"

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
        proxy, tls_port, http_port = _start_nginx(ports, tmp)
        yield Servers(
            ports,
            int(found["thread"]),
            found["name"],
            log,
            env,
            int(overdue["ballot"]),
            tls_port,
            http_port,
            tmp / "cert.pem",
        )
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


def _tls(servers: Servers) -> ssl.SSLContext:
    """Trusts the test's self-signed certificate, and checks it names 127.0.0.1."""
    return ssl.create_default_context(cafile=str(servers.cafile))


def test_pages_static_files_and_sign_in_go_through_nginx_over_tls(servers: Servers) -> None:
    tls, port = _tls(servers), servers.proxy_port
    home = _request(port, "GET", "/", cookies={}, tls=tls)
    assert home.status == 200, f"GET / through nginx answered {home.status}"
    page = home.body.decode()
    # The stylesheet under its hashed name (collectstatic + WhiteNoise), cached for ever.
    css = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert css, "the home page links no hashed stylesheet"
    sheet = _request(port, "GET", css.group(1), cookies={}, tls=tls)
    assert sheet.status == 200, f"{css.group(1)} answered {sheet.status}"
    assert "max-age=315360000" in (sheet.headers["Cache-Control"] or "")
    # Plain HTTP is sent to HTTPS.
    plain = _request(servers.redirect_port, "GET", "/proposals/", cookies={})
    assert plain.status == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1:"), plain.headers["Location"]
    # Signing in works through the proxy (CSRF's origin check, secure cookies).
    cookies = _sign_in(port, tls)
    me = _request(port, "GET", "/notifications/", cookies=cookies, tls=tls)
    assert me.status == 200, f"a signed-in page through nginx answered {me.status}"


async def _post_through_proxy(servers: Servers, cookies: dict[str, str]) -> None:
    tid, port = servers.thread_id, servers.proxy_port
    body = "经反向代理发出的消息"
    seen: list[str] = []
    async with connect(
        f"wss://127.0.0.1:{port}/ws/threads/{tid}/",
        ssl=_tls(servers),
        origin=f"https://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={cookies['sessionid']}"},
        open_timeout=15,
    ) as ws:
        await ws.send(json.dumps({"action": "post", "body": body}))
        await _frame_matching(
            ws, lambda f: body in f and "data-message-id" in f, f"the message {body!r}", seen
        )


def test_a_thread_message_goes_through_nginx_over_a_secure_websocket(servers: Servers) -> None:
    cookies = _sign_in(servers.proxy_port, _tls(servers))
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, _post_through_proxy(servers, cookies)).result(timeout=120)
    except (ConnectionClosed, InvalidStatus, OSError) as error:
        pytest.fail(f"websocket through nginx failed: {error!r}", pytrace=False)


def test_the_scheduler_bin_serve_runs_closes_an_overdue_ballot_nobody_opens(
    servers: Servers,
) -> None:
    script = BALLOT_STATE.replace("BALLOT", str(servers.overdue_ballot))
    deadline = time.monotonic() + 90
    while True:
        state = json.loads(_manage(servers.env, "shell", "-c", script).strip().splitlines()[-1])
        if state["status"] == "closed" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert state["status"] == "closed", (
        f"the overdue ballot is still open; bin/serve's log:\n{servers.log.read_text()[-3000:]}"
    )
    # Closed by the system (no person), and the evidence log says so.
    assert state["closed_by"] is None
    assert state["event"] and state["event_actor"] is None
