"""``deploy/nginx.conf`` while a worker is down: nginx keeps sending to the one that is up, and
what nginx answers itself (413, 502, 504) is the site's own bilingual page.

nginx runs the committed configuration (only its ports, name, certificate and error pages'
folder changed, as in ``test_two_processes.py``) in front of two stand-in workers: one port
where nothing listens (a worker ``bin/serve`` is restarting) and a small HTTP server. No
database is involved.

``bench/faults.py`` saw the failure this guards against: with nginx's default ``max_fails=1``,
one failed request on the live worker (a WebSocket handshake reset while PostgreSQL refused
connections) marked it down too, and for the next seconds nginx answered every request "502 no
live upstreams" without asking anyone.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.servers import free_port, http_request, nginx_installed, nginx_start, processes_stop


class _Worker(socketserver.ThreadingTCPServer):
    """Answers 200 "ok", except that it resets the connection of the first ``resets``
    requests without answering (a worker failing one request). ``/slow`` answers after
    ``SLOW`` seconds (a worker stuck on a request); ``/own-413`` answers with a 413 page of
    its own (the app's, in the reader's language)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, resets: int):
        self.resets = resets
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)


SLOW = 5  # seconds; more than the read timeout the 504 test gives nginx
OWN_413 = "应用自己的 413 页面".encode()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        path = self.rfile.readline().split(b" ")[1:2]
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the rest of the request's head; the tests send no body
        if path == [b"/slow"]:
            time.sleep(SLOW)
        if path == [b"/own-413"]:
            self.wfile.write(
                b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/html; "
                b"charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (len(OWN_413), OWN_413)
            )
            return
        with self.server.lock:
            reset = self.server.resets > 0
            self.server.resets -= reset
        if reset:  # RST, not FIN: linger on, timeout 0
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")


@pytest.fixture
def read_timeout() -> str | None:
    """``proxy_read_timeout`` added to ``location /`` (None: the committed configuration's)."""
    return None


@pytest.fixture
def proxy(read_timeout) -> Iterator[tuple[int, ssl.SSLContext, _Worker]]:
    if not nginx_installed():
        pytest.skip("nginx is missing (`make test` installs it)")
    tmp = Path(tempfile.mkdtemp(prefix="weishi-proxy-"))
    live = free_port(2)  # live, and live + 1 where nothing listens: the dead worker
    worker = _Worker(live, resets=1)
    threading.Thread(target=worker.serve_forever, daemon=True).start()
    nginx = None
    try:
        nginx = nginx_start((live, live + 1), tmp, read_timeout=read_timeout)
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


# --- nginx's own answers ------------------------------------------------------------------


def _is_our_page(answer, status: int, chinese: str, english: str) -> None:
    """The site's static page for ``status``: Chinese first, then English, UTF-8."""
    assert answer.status == status
    assert answer.getheader("Content-Type") == "text/html; charset=utf-8"
    text = answer.body.decode("utf-8")
    assert '<html lang="zh-CN">' in text and '<section class="error-page" lang="en"' in text
    assert "微实" in text and "民生微实事" in text  # the site's header
    assert text.index(chinese) < text.index(english)
    # One page serves the three statuses: it shows this one's words only, and no SSI left over.
    assert f"<title>{chinese} · {english} · 微实</title>" in text
    others = {"提交的内容过多", "网站暂时无法响应", "网站响应超时"} - {chinese}
    assert not any(other in text for other in others) and "<!--#" not in text


def test_a_post_to_a_worker_that_died_gets_the_bilingual_502_page(proxy) -> None:
    port, tls, _worker = proxy
    # The live worker drops it (reset, as a worker killed mid-request); a POST already sent is
    # not passed on to another worker.
    answer = http_request(port, "POST", "/", cookies={}, body=b"body=x", tls=tls)
    _is_our_page(answer, 502, "网站暂时无法响应", "The site could not answer just now")
    assert "可能没有保存成功" in answer.body.decode()


def test_a_body_over_the_limit_gets_the_bilingual_413_page(proxy) -> None:
    port, tls, _worker = proxy
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=tls)
    connection.putrequest("POST", "/proposals/new/")
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(21 * 1024 * 1024))  # over the 20 MB limit
    connection.endheaders()  # nginx answers on the head alone, before any of the body
    answer = connection.getresponse()
    answer.body = answer.read()
    connection.close()
    _is_our_page(answer, 413, "提交的内容过多", "Too much sent at once")
    assert "20 MB" in answer.body.decode()


@pytest.mark.parametrize("read_timeout", ["2s"])
def test_a_worker_too_slow_to_answer_a_post_gets_the_bilingual_504_page(proxy) -> None:
    port, tls, _worker = proxy
    answer = http_request(port, "POST", "/slow", cookies={}, body=b"body=x", tls=tls)
    _is_our_page(answer, 504, "网站响应超时", "The site took too long to answer")


def test_error_pages_the_app_answers_itself_pass_through_unchanged(proxy) -> None:
    port, tls, worker = proxy
    worker.resets = 0
    answer = http_request(port, "GET", "/own-413", cookies={}, tls=tls)
    assert answer.status == 413 and answer.body == OWN_413


def test_the_error_pages_cannot_be_asked_for_directly(proxy) -> None:
    port, tls, worker = proxy
    worker.resets = 0
    answer = http_request(port, "GET", "/_weishi_errors/error.html", cookies={}, tls=tls)
    assert answer.status == 404
