"""``deploy/nginx.conf`` while a worker is down: nginx keeps sending to the one that is up.

nginx runs the committed configuration (only its ports, name and certificate changed, as in
``test_two_processes.py``) in front of two stand-in workers: one port where nothing listens (a
worker ``bin/serve`` is restarting) and a small HTTP server. No database is involved.

``bench/faults.py`` saw the failure this guards against: with nginx's default ``max_fails=1``,
one failed request on the live worker (a WebSocket handshake reset while PostgreSQL refused
connections) marked it down too, and for the next seconds nginx answered every request "502 no
live upstreams" without asking anyone.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.servers import free_port, http_request, nginx_installed, nginx_start, processes_stop


class _Worker(socketserver.ThreadingTCPServer):
    """Answers 200 "ok", except that it resets the connection of the first ``resets``
    requests without answering (a worker failing one request)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, resets: int):
        self.resets = resets
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's head; nginx sends GETs without a body
        with self.server.lock:
            reset = self.server.resets > 0
            self.server.resets -= reset
        if reset:  # RST, not FIN: linger on, timeout 0
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def proxy() -> Iterator[tuple[int, ssl.SSLContext, _Worker]]:
    if not nginx_installed():
        pytest.skip("nginx is missing (`make test` installs it)")
    tmp = Path(tempfile.mkdtemp(prefix="weishi-proxy-"))
    live = free_port(2)  # live, and live + 1 where nothing listens: the dead worker
    worker = _Worker(live, resets=1)
    threading.Thread(target=worker.serve_forever, daemon=True).start()
    nginx = None
    try:
        nginx = nginx_start((live, live + 1), tmp)
        yield nginx.tls_port, nginx.tls(), worker
    finally:
        if nginx is not None:
            processes_stop([nginx.proc])
        worker.shutdown()
        worker.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


def test_one_failed_request_on_the_live_worker_does_not_take_it_out_of_rotation(proxy) -> None:
    port, tls, worker = proxy
    # The live worker resets this one; the other is down: nothing can answer it.
    first = http_request(port, "GET", "/", tls=tls)
    assert first.status == 502
    assert worker.resets == 0
    # Every request after it is answered by the live worker, at once.
    answers = [http_request(port, "GET", "/", tls=tls) for _ in range(6)]
    assert [a.status for a in answers] == [200] * 6
    assert all(a.body == b"ok" for a in answers)


def test_requests_go_to_the_live_worker_while_the_other_is_down(proxy) -> None:
    port, tls, worker = proxy
    worker.resets = 0
    with (
        contextlib.suppress(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", _port_after(worker)), timeout=1),
    ):
        pytest.fail("something listens where the dead worker should be")
    answers = [http_request(port, "GET", "/", tls=tls) for _ in range(6)]
    assert [a.status for a in answers] == [200] * 6


def _port_after(worker: _Worker) -> int:
    return worker.server_address[1] + 1
