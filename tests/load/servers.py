"""The production shape on this machine, for the load tests and the benchmarks alike: a
PostgreSQL database of a run's own, ``bin/serve``'s page workers (gunicorn) and WebSocket
workers (daphne) on free ports, nginx running ``deploy/nginx.conf`` in front of them over TLS
(only its ports, name and certificate changed), and the HTTP requests that reach them as the
reverse proxy's or a browser's would.

The tests under ``tests/load/`` and the scripts under ``bench/`` use these same helpers, so a
benchmark measures the very set-up the tests check. Nothing here uses pytest: what does not
start or answer raises ``ServerError`` saying why (with the end of the server's log), which a
test shows as its error and a benchmark prints before it exits 1.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
HOST = "127.0.0.1"
SERVE = ROOT / "bin" / "serve"


class ServerError(Exception):
    """A server did not start or answer, or a command it needs failed; the message says why."""


def _tail(log: Path, size: int = 6000) -> str:
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace")[-size:]
    return "(no log)"


def free_port(count: int = 1) -> int:
    """A port p such that p … p + count - 1 are free (bin/serve's workers take consecutive
    ports)."""
    for _ in range(100):
        with contextlib.ExitStack() as stack:
            first = stack.enter_context(socket.socket())
            first.bind((HOST, 0))
            port = first.getsockname()[1]
            try:
                for offset in range(1, count):
                    stack.enter_context(socket.socket()).bind((HOST, port + offset))
            except (OSError, OverflowError):  # taken, or past 65535
                continue
            return port
    raise ServerError(f"found no {count} consecutive free ports")


# --- The app's commands ---------------------------------------------------------------------


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """``manage.py ARGS`` in ``env``; its standard output."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ServerError(
            f"manage.py {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def shell_json(env: dict[str, str], code: str):
    """Run ``code`` in the app's environment (``manage.py shell -c``); its last printed line
    is JSON."""
    return json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])


def production_env(database_url: str, static_root: Path, secret_key: str, **extra) -> dict:
    """This process's environment as ``bin/serve`` gets it in production (``DEBUG`` off) on
    ``database_url``, with ``extra`` on top. Requests say ``X-Forwarded-Proto: https`` as the
    proxy's do, so the production redirect to HTTPS is left at its default (on)."""
    env = os.environ.copy()
    env.pop("SECURE_SSL_REDIRECT", None)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


# --- Databases ------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_url(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def database_admin(url: str) -> psycopg.Connection:
    """A connection to the server's maintenance database, for CREATE and DROP DATABASE."""
    return psycopg.connect(database_url(url, "postgres"), autocommit=True, connect_timeout=10)


def database_recreate(url: str) -> None:
    """Drop the database ``url`` names and create it empty (refused while anyone is connected
    to it)."""
    name = sql.Identifier(database_name(url))
    try:
        with database_admin(url) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    except psycopg.Error as error:
        raise ServerError(
            f"could not re-create database {database_name(url)!r}: {error}".strip()
        ) from error


@contextlib.contextmanager
def database_temporary(base_url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """A new empty database ``<prefix>_<random>`` on ``base_url``'s server: (name, url). It
    is dropped afterwards, whoever is still connected."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with database_admin(base_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name, database_url(base_url, name)
    finally:
        with database_admin(base_url) as admin:
            # A test may have shut it to new connections; DROP … WITH (FORCE) needs them.
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name))
            )
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- Processes ------------------------------------------------------------------------------


def process_start(command: list[str], env: dict[str, str] | None, log: Path) -> subprocess.Popen:
    """``command`` in a process group of its own (stopped as a whole), its output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def processes_stop(procs: list[subprocess.Popen], grace: float = 20) -> None:
    """TERM to each process group still running (bin/serve stops its workers on TERM), then,
    after at most ``grace`` seconds, KILL to whatever is left of each group (a daphne left
    behind)."""
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


# --- HTTP -----------------------------------------------------------------------------------


def http_request(
    port: int,
    method: str,
    path: str,
    *,
    cookies: dict[str, str] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 30,
) -> http.client.HTTPResponse:
    """One request on a connection of its own; the answer's bytes are in ``.body``.

    Without ``tls`` it goes straight to a worker as the reverse proxy forwards it
    (``X-Forwarded-Proto: https``); with ``tls``, to nginx over HTTPS. ``cookies`` are sent,
    and each Set-Cookie of the answer lands in them (by hand: a cookie jar would not send
    secure cookies over plain HTTP). A form body gets the type, origin and referer a browser
    gives it."""
    sent = {"Host": f"{HOST}:{port}"}
    if tls is None:
        sent["X-Forwarded-Proto"] = "https"
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
        sent["Origin"] = f"https://{HOST}:{port}"
        sent["Referer"] = f"https://{HOST}:{port}{path}"
    sent.update(headers or {})
    if tls is None:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    else:
        connection = http.client.HTTPSConnection(HOST, port, timeout=timeout, context=tls)
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.body = response.read()
    finally:
        connection.close()
    if cookies is not None:
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                cookies[name] = morsel.value
    return response


def wait_until_up(
    ports, servers: list[tuple[subprocess.Popen, Path]], seconds: float = 180
) -> None:
    """Until each of ``ports`` answers ``GET /`` with 200. ``ServerError`` if one of
    ``servers`` (a process and its log) exits first, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    waiting = set(ports)
    while True:
        for proc, log in servers:
            if proc.poll() is not None:
                raise ServerError(
                    f"{proc.args[0]} exited ({proc.returncode}); {log}:\n{_tail(log)}"
                )
        for port in sorted(waiting):
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_request(port, "GET", "/").status == 200:
                    waiting.discard(port)
        if not waiting:
            return
        if time.monotonic() > deadline:
            logs = ", ".join(str(log) for _, log in servers)
            raise ServerError(
                f"ports {sorted(waiting)} did not answer within {seconds:.0f} s; {logs}"
            )
        time.sleep(0.25)


def sign_in(port: int, username: str, password: str, tls: ssl.SSLContext | None = None) -> dict:
    """Sign in with the login form, as a browser does; the cookies it ends with."""
    cookies: dict[str, str] = {}
    page = http_request(port, "GET", "/accounts/login/", cookies=cookies, tls=tls)
    if page.status != 200 or "csrftoken" not in cookies:
        raise ServerError(f"GET /accounts/login/ answered {page.status} (CSRF cookie: {cookies})")
    form = {
        "csrfmiddlewaretoken": cookies["csrftoken"],
        "username": username,
        "password": password,
        "next": "/",
    }
    body = urlencode(form).encode()
    answer = http_request(port, "POST", "/accounts/login/", cookies=cookies, body=body, tls=tls)
    if answer.status != 302 or "sessionid" not in cookies:
        raise ServerError(f"signing in as {username} answered {answer.status}, no session cookie")
    return cookies


# --- bin/serve and nginx --------------------------------------------------------------------


@contextlib.contextmanager
def daphne_start(env: dict[str, str], log: Path, seconds: float = 60) -> Iterator[int]:
    """One daphne serving ``config.asgi`` in ``env`` on a free port, alone (no ``bin/serve``,
    no nginx), its output in ``log``; its port, once it answers. Stopped on exit."""
    port = free_port()
    daphne = str(Path(PYTHON).parent / "daphne")
    proc = process_start([daphne, "-b", HOST, "-p", str(port), "config.asgi:application"], env, log)
    try:
        wait_until_up([port], [(proc, log)], seconds=seconds)
        yield port
    finally:
        # A test's daphne has nothing to finish: after many sockets it can sit 15 s and more
        # on TERM waiting for consumers, which only delays the run.
        processes_stop([proc], grace=3)


@contextlib.contextmanager
def serve_start(
    env: dict[str, str], log: Path, workers: int = 2, ws_workers: int = 2
) -> Iterator[tuple]:
    """``bin/serve`` with ``env`` (its output in ``log``): ``workers`` page workers and
    ``ws_workers`` WebSocket workers, each kind on free consecutive ports: (the process, the
    page workers' ports, the WebSocket workers' ports), once every worker answers. Stopped
    afterwards."""
    first = free_port(workers)
    ports = tuple(range(first, first + workers))
    while True:  # apart from the page workers' (free_port may find the same again)
        ws_first = free_port(ws_workers)
        ws_ports = tuple(range(ws_first, ws_first + ws_workers))
        if not set(ports) & set(ws_ports):
            break
    env = {**env, "WS_WORKERS": str(ws_workers), "WS_FIRST_PORT": str(ws_first)}
    proc = process_start([str(SERVE), str(workers), str(first)], env, log)
    try:
        wait_until_up(ports + ws_ports, [(proc, log)])
        yield proc, ports, ws_ports
    finally:
        processes_stop([proc])


NGINX_MAIN = """\
user root;
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log {access_log};
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/weishi.conf;
}}
"""


def nginx_site(
    ports,
    ws_ports,
    tls_port: int,
    http_port: int,
    tmp: Path,
    read_timeout: str | None = None,
    tiles_root: Path | None = None,
) -> str:
    """``deploy/nginx.conf`` with these ports (the page workers', the WebSocket workers'; two
    of each), host name and certificate, and the error pages of this checkout: nothing else
    (but ``read_timeout`` for ``location /``, if given)."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = [
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports[0]} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{ports[1]} "),
        ("server 127.0.0.1:8101 ", f"server 127.0.0.1:{ws_ports[0]} "),
        ("server 127.0.0.1:8102 ", f"server 127.0.0.1:{ws_ports[1]} "),
        ("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("server_name weishi.example.cn;", "server_name 127.0.0.1;"),
        ("/etc/ssl/weishi/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/ssl/weishi/privkey.pem", str(tmp / "key.pem")),
        ("alias /srv/weishi/deploy/errors/;", f"alias {ROOT / 'deploy' / 'errors'}/;"),
        ("root /srv/weishi/var/log-tiles;", f"root {tiles_root or tmp / 'log-tiles'};"),
    ]
    if read_timeout is not None:
        replacements.append(
            (
                "    location / {\n",
                f"    location / {{\n        proxy_read_timeout {read_timeout};\n",
            )
        )
    for old, new in replacements:
        if old not in conf:
            raise ServerError(f"deploy/nginx.conf no longer has {old!r}: update {__name__}")
        conf = conf.replace(old, new)
    return conf


@dataclass
class Nginx:
    proc: subprocess.Popen
    tls_port: int  # deploy/nginx.conf's TLS server
    http_port: int  # its plain-HTTP server, redirecting to TLS
    cafile: Path  # the self-signed certificate it presents

    def tls(self) -> ssl.SSLContext:
        """Trusts the certificate, and checks it names 127.0.0.1."""
        return ssl.create_default_context(cafile=str(self.cafile))


def nginx_installed() -> bool:
    return bool(shutil.which("nginx")) or Path("/usr/sbin/nginx").exists()


def nginx_start(
    ports,
    tmp: Path,
    *,
    ws_ports=None,
    connections: int = 256,
    access_log: bool = True,
    read_timeout: str | None = None,
    tiles_root: Path | None = None,
) -> Nginx:
    """nginx with ``deploy/nginx.conf`` in front of the page workers on ``ports`` and the
    WebSocket workers on ``ws_ports`` (the same as ``ports`` if None), over TLS with a
    self-signed certificate for 127.0.0.1, its files (logs included) in ``tmp``; returns once
    it listens. ``connections``: its worker_connections; ``access_log``: whether to log every
    request; ``read_timeout``: how long nginx waits for a worker's answer (its default, 60 s,
    if None). The caller stops ``.proc``."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise ServerError("nginx is missing: `bin/ensure-debs nginx` installs it (`make test` too)")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    first = free_port(2)
    tls_port, http_port = first, first + 1
    site = nginx_site(ports, ws_ports or ports, tls_port, http_port, tmp, read_timeout, tiles_root)
    (tmp / "weishi.conf").write_text(site)
    main = NGINX_MAIN.format(
        tmp=tmp,
        connections=connections,
        access_log=f"{tmp}/nginx-access.log" if access_log else "off",
    )
    (tmp / "nginx.conf").write_text(main)
    command = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    checked = subprocess.run(
        [*command[:1], "-t", *command[1:]], capture_output=True, text=True, timeout=30, check=False
    )
    if checked.returncode != 0:
        raise ServerError(f"nginx -t refused the configuration:\n{checked.stderr}")
    proc = process_start(command, None, tmp / "nginx.out")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, tls_port), 1):
            return Nginx(proc, tls_port, http_port, tmp / "cert.pem")
        time.sleep(0.1)
    processes_stop([proc])
    raise ServerError(f"nginx did not listen:\n{_tail(tmp / 'nginx-error.log')}")


@dataclass
class Site:
    """``bin/serve``'s workers behind nginx."""

    serve: subprocess.Popen
    ports: tuple[int, ...]  # the page workers'
    ws_ports: tuple[int, ...]  # the WebSocket workers'
    log: Path  # bin/serve's
    nginx: Nginx


@contextlib.contextmanager
def site_start(env: dict[str, str], log: Path, tmp: Path, **nginx_options) -> Iterator[Site]:
    """``serve_start`` with two page workers and two WebSocket workers, then ``nginx_start``
    in front of them (its files in ``tmp``); both stopped afterwards."""
    # The site's own tile files, which its nginx serves: never another site's.
    env = {**env, "LOG_TILES_ROOT": str(tmp / "log-tiles")}
    with serve_start(env, log) as (serve, ports, ws_ports):
        nginx = nginx_start(
            ports, tmp, ws_ports=ws_ports, tiles_root=tmp / "log-tiles", **nginx_options
        )
        try:
            yield Site(serve, ports, ws_ports, log, nginx)
        finally:
            processes_stop([nginx.proc])
