"""A Redis server of a test's own, on a free port, that the test can stop and start again,
pause (a hung server) or configure to refuse writes (the shared one must never be touched).
Skips the test when ``redis-server`` is missing."""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed")
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="weishi-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections are still accepted by the kernel, but
        nothing is ever answered — a hung Redis, not a stopped one."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def command(self, *args):
        """Run one command on the server (``CONFIG SET …``, ``REPLICAOF …``)."""
        with redis.Redis.from_url(self.url, socket_timeout=5) as client:
            return client.execute_command(*args)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()  # a paused server would never act on TERM
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def production_settings(redis_url: str) -> dict:
    """The CACHES and CHANNEL_LAYERS that config.settings makes for ``REDIS_URL`` in
    production: on the database ``redis_url`` names, even in a parallel test worker (which
    config.settings otherwise moves to a database of its own)."""
    changes = {"REDIS_URL": redis_url, "PYTEST_XDIST_WORKER": None}
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            _set_environ(name, value)
        module = runpy.run_path(str(ROOT / "config" / "settings.py"))
    finally:
        for name, value in saved.items():
            _set_environ(name, value)
    return {"CACHES": module["CACHES"], "CHANNEL_LAYERS": module["CHANNEL_LAYERS"]}


def _set_environ(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
