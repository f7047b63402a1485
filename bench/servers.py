"""Server benchmark: the same app, settings and database served by daphne, uvicorn, granian
and gunicorn's sync workers, in one interleaved run.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weishi_city_bench REDIS_URL=… \\
        .venv/bin/python bench/servers.py [--workers 2] [--requests 20] [--clients 4] \\
        [--seconds 3] [--servers daphne,uvicorn,…] [--seed]

The database is read, never written (GET requests of anonymous visitors; nothing is
migrated): a city seeded by ``bench/city.py`` as it is, or, with ``--seed``, the database is
migrated, emptied and given ``seed_demo`` first (its name must contain ``bench``).

Each server runs ``--workers`` processes of one worker each, on ports of their own (as
``bin/serve`` runs them), with DEBUG off and the production settings plus one floor URL
(``bench/served_settings.py``): daphne and uvicorn (uvloop, httptools) serve ``config.asgi``;
granian (WSGI interface) and gunicorn (sync worker) serve ``config.wsgi``; and gunicorn once
more with ``DATABASE_POOL_MAX=0`` (a new PostgreSQL connection for every request), to price
the connection pool. Static files are collected once (WhiteNoise serves them).

Pages: the floor (``HttpResponse("ok")`` behind the whole middleware), home, the proposal
list of the community with the longest thread, that proposal's page, the disclosure index, and
the project page of the latest published decision.

1. Latency: one request at a time, interleaved: each round asks every page of every server
   once (the servers' order turning each round, their worker ports in turn), after 2 warm-up
   requests of each page to each worker; ``--requests`` rounds (fewer past ``--budget``
   seconds). p50 and p95 per page and server, and each server's p50 against daphne's.
2. Throughput: ``--clients`` client threads requesting one page without pause from one
   server's workers, for ``--seconds`` a page and server, in 3 slices interleaved with the
   other servers': requests a second, and the CPU time the server's processes and the
   database's server processes (the backends connected to the database, read from ``/proc``;
   pooled servers only: without the pool a backend lives one request) spent a request, which
   say how many machines of workers one PostgreSQL carries.

Clients and servers share this machine's cores (2 here): a server's requests a second are a
lower bound, the same for each. 127.0.0.1 only; nginx is left out (the same for each).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    BENCH_DIR,
    HOST,
    PYTHON,
    bench_env,
    fail,
    free_port,
    http_request,
    main_run,
    manage,
    process_start,
    processes_stop,
    progress,
    quantile,
    shell_json,
    table,
    wait_until_up,
)

from tests.load.servers import database_name

BIN = Path(PYTHON).parent
TICKS = os.sysconf("SC_CLK_TCK")
WATCHER = "weishi-bench-servers"
FLOOR_PATH = "/__bench__/floor/"  # bench/served_urls.py

PAGES_QUERY = """\
import json
from django.db.models import Count
from council.models import Message
from disclosure.models import Disclosure
from proposals.models import Proposal
top = (Message.objects.values("thread_id").annotate(n=Count("id")).order_by("-n", "thread_id")
       .first())
proposal = (Proposal.objects.filter(thread_id=top["thread_id"]).select_related("community")
            .first() if top else None) or Proposal.objects.public().order_by("pk").first()
slug = proposal.community.slug
decision = (Disclosure.objects.filter(status="published", kind="decision", ballot__isnull=False)
            .select_related("community").order_by("-published_at", "-pk").first())
pages = [
    ["floor", "FLOOR"],
    ["home", "/"],
    ["proposal list", f"/c/{slug}/proposals/"],
    [f"proposal ({top['n'] if top else 0} messages)", f"/c/{slug}/proposals/{proposal.pk}/"],
    ["disclosure index", "/disclosures/"],
]
if decision:
    pages.append(["project", f"/c/{decision.community.slug}/projects/{decision.proposal_id}/"])
print(json.dumps(pages))
""".replace("FLOOR", FLOOR_PATH)


def _daphne(port) -> list[str]:
    return [str(BIN / "daphne"), "-b", HOST, "-p", str(port), "config.asgi:application"]


def _uvicorn(port) -> list[str]:
    return [
        str(BIN / "uvicorn"), "--host", HOST, "--port", str(port), "--loop", "uvloop",
        "--http", "httptools", "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        "config.asgi:application",
    ]  # fmt: skip


def _granian(port) -> list[str]:
    return [
        str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-ws", "--log-level", "warning", "config.wsgi:application",
    ]  # fmt: skip


def _gunicorn(port) -> list[str]:
    return [
        str(BIN / "gunicorn"), "--workers", "1", "--bind", f"{HOST}:{port}",
        "--no-control-socket", "--log-level", "warning", "config.wsgi:application",
    ]  # fmt: skip


# name: (command for one worker on a port, extra environment, whether it pools connections)
KINDS = {
    "daphne": (_daphne, {}, True),
    "uvicorn": (_uvicorn, {}, True),
    "granian": (_granian, {}, True),
    "gunicorn": (_gunicorn, {}, True),
    "gunicorn-no-pool": (_gunicorn, {"DATABASE_POOL_MAX": "0"}, False),
}


@dataclass
class Server:
    name: str
    ports: list[int]
    procs: list[subprocess.Popen]
    pooled: bool
    turn: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)  # page: ms, one at a time
    done: dict[str, int] = field(default_factory=dict)  # page: requests answered under load
    spent: dict[str, float] = field(default_factory=dict)  # page: seconds under load
    cpu: dict[str, float] = field(default_factory=dict)  # page: the server's CPU seconds
    db_cpu: dict[str, float] = field(default_factory=dict)  # page: the backends' CPU seconds
    errors: list[str] = field(default_factory=list)

    def port(self) -> int:
        self.turn += 1
        return self.ports[self.turn % len(self.ports)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes a server (2)")
    parser.add_argument("--requests", type=int, default=20, help="latency rounds (20)")
    parser.add_argument(
        "--budget", type=float, default=120, help="seconds for the latency rounds at most (120)"
    )
    parser.add_argument("--clients", type=int, default=4, help="client threads under load (4)")
    parser.add_argument(
        "--seconds", type=float, default=3, help="seconds under load a page and server (3)"
    )
    parser.add_argument(
        "--servers",
        default=",".join(KINDS),
        help=f"which, comma-separated ({','.join(KINDS)}); NAME:N runs N workers of it",
    )
    parser.add_argument("--seed", action="store_true", help="migrate, empty, seed_demo first")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="bench/out")
    args = parser.parse_args()
    args.kinds = [k.strip() for k in args.servers.split(",") if k.strip()]

    def known(kind: str) -> bool:
        name, _, count = kind.partition(":")
        return name in KINDS and (not count or (count.isdigit() and int(count) > 0))

    unknown = [k for k in args.kinds if not known(k)]
    if unknown or not args.kinds:
        parser.error(
            f"--servers: unknown {unknown}; choose among {', '.join(KINDS)} (NAME:N for N workers)"
        )
    if args.workers < 1 or args.requests < 2 or args.clients < 1 or args.seconds <= 0:
        parser.error("--workers, --clients ≥ 1, --requests ≥ 2, --seconds > 0")
    return args


# --- CPU time from /proc --------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process ``pid`` has used, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    pids.append(int(entry.name))
    return pids


def _group_rss_mb(pgid: int) -> float:
    total = 0
    for pid in _group_pids(pgid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


class Backends:
    """The database's server processes serving a server (all but this watcher's own)."""

    def __init__(self, url: str):
        import psycopg

        self.name = database_name(url)
        self.conn = psycopg.connect(url, autocommit=True, application_name=WATCHER)

    def pids(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            [self.name],
        ).fetchall()
        return [r[0] for r in rows]

    def cpu(self) -> dict[int, float]:
        return {pid: _cpu_seconds(pid) for pid in self.pids()}


# --- Servers --------------------------------------------------------------------------------


@contextlib.contextmanager
def servers_started(kinds: list[str], default_workers: int, env: dict, out: Path):
    started: list[Server] = []
    try:
        for kind in kinds:
            name, _, count = kind.partition(":")  # "gunicorn:4": that server with 4 workers
            command, extra, pooled = KINDS[name]
            workers = int(count or default_workers)
            first = free_port(workers)
            ports = list(range(first, first + workers))
            procs, logs = [], []
            for port in ports:
                log = out / f"servers-{name}-{port}.log"
                procs.append(process_start(command(port), {**env, **extra}, log))
                logs.append(log)
            started.append(Server(kind, ports, procs, pooled))
            wait_until_up(ports, list(zip(procs, logs, strict=True)))
            shown = " ".join([Path(command("PORT")[0]).name, *command("PORT")[1:]])
            progress(f"{kind}: {workers} worker(s) on ports {ports}: {shown}")
        yield started
    finally:
        processes_stop([p for s in started for p in s.procs], grace=5)


def get(port: int, path: str) -> tuple[float, str]:
    begin = time.perf_counter_ns()
    try:
        status = str(http_request(port, "GET", path, timeout=120).status)
    except Exception as error:  # noqa: BLE001 - counted as an error
        status = type(error).__name__
    return (time.perf_counter_ns() - begin) / 1e6, status


def latency(servers: list[Server], pages: list[tuple[str, str]], rounds: int, budget: float):
    for server in servers:
        for _name, path in pages:
            for port in server.ports:
                for _ in range(2):
                    get(port, path)
    started = time.perf_counter()
    for r in range(rounds):
        for name, path in pages:
            order = servers[r % len(servers) :] + servers[: r % len(servers)]
            for server in order:
                ms, status = get(server.port(), path)
                if status == "200":
                    server.times.setdefault(name, []).append(ms)
                else:
                    server.errors.append(f"{name}: {status}")
        if time.perf_counter() - started > budget and r >= 4:
            progress(f"latency: stopped after {r + 1} rounds (--budget)")
            break


def _hammer(server: Server, path: str, until: float, count: list[int], errors: list[str]):
    i = 0
    while time.perf_counter() < until:
        i += 1
        _ms, status = get(server.ports[i % len(server.ports)], path)
        if status == "200":
            count[0] += 1
        else:
            errors.append(status)


def throughput(servers, pages, clients: int, seconds: float, backends: Backends) -> None:
    slices = 3
    for name, path in pages:
        for s in range(slices):
            order = servers[s % len(servers) :] + servers[: s % len(servers)]
            for server in order:
                groups = [p.pid for p in server.procs]
                cpu0 = sum(_cpu_seconds(pid) for g in groups for pid in _group_pids(g))
                db0 = backends.cpu()
                count, errors = [0], []
                until = time.perf_counter() + seconds / slices
                begin = time.perf_counter()
                threads = [
                    threading.Thread(target=_hammer, args=(server, path, until, count, errors))
                    for _ in range(clients)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                spent = time.perf_counter() - begin
                cpu1 = sum(_cpu_seconds(pid) for g in groups for pid in _group_pids(g))
                db1 = backends.cpu()
                server.done[name] = server.done.get(name, 0) + count[0]
                server.spent[name] = server.spent.get(name, 0.0) + spent
                server.cpu[name] = server.cpu.get(name, 0.0) + max(0.0, cpu1 - cpu0)
                # Backends that lived through the slice (a pool's); others are not counted.
                used = sum(max(0.0, db1[p] - db0[p]) for p in db1.keys() & db0.keys())
                server.db_cpu[name] = server.db_cpu.get(name, 0.0) + used
                server.errors += [f"{name}: {e}" for e in errors]
        shown = ", ".join(f"{s.name} {s.done[name] / s.spent[name]:.0f}" for s in servers)
        progress(f"{name}: requests a second: {shown}")


# --- Report ---------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:,.{digits}f}"


def report(servers: list[Server], pages: list[tuple[str, str]]) -> None:
    base = servers[0]
    print(f"Latency, one request at a time (ms; × {base.name}: its p50 / this server's p50):")
    headers = ("page", *[f"{s.name} p50/p95" for s in servers[:]])
    headers += tuple(f"× {base.name}: {s.name}" for s in servers[1:])
    rows = []
    for name, _path in pages:
        cells = [name]
        for s in servers:
            t = s.times.get(name, [])
            cells.append(f"{fmt(quantile(t, 50))} / {fmt(quantile(t, 95))}")
        b50 = quantile(base.times.get(name, []), 50)
        for s in servers[1:]:
            cells.append(fmt(b50 / quantile(s.times.get(name, []), 50), 2))
        rows.append(tuple(cells))
    table(headers, rows)
    print()
    print("Throughput (requests a second under load; × daphne: this server's / daphne's):")
    headers = ("page", *[s.name for s in servers])
    headers += tuple(f"× {base.name}: {s.name}" for s in servers[1:])
    rows = []
    for name, _path in pages:
        rps = [s.done.get(name, 0) / s.spent[name] if s.spent.get(name) else None for s in servers]
        cells = [name, *[fmt(r, 0) for r in rps]]
        cells += [fmt(r / rps[0], 2) if r and rps[0] else "-" for r in rps[1:]]
        rows.append(tuple(cells))
    table(headers, rows)
    print()
    print(
        "CPU a request under load (ms): the server's processes / the database's backends "
        "(pooled servers only)"
    )
    headers = ("page", *[s.name for s in servers])
    rows = []
    for name, _path in pages:
        cells = [name]
        for s in servers:
            n = s.done.get(name, 0)
            app = 1000 * s.cpu.get(name, 0) / n if n else None
            db = 1000 * s.db_cpu.get(name, 0) / n if n and s.pooled else None
            cells.append(f"{fmt(app)} / {fmt(db, 2)}")
        rows.append(tuple(cells))
    table(headers, rows)


def main() -> int:
    args = parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        fail("set DATABASE_URL to a PostgreSQL database (a city from bench/city.py, or --seed)")
    env = bench_env(
        url,
        out / "servers-static",
        settings_module="served_settings",
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        PYTHONPATH=os.pathsep.join([str(BENCH_DIR), str(BENCH_DIR.parent)]),
    )
    if args.seed:
        progress("migrate, flush, seed_demo…")
        manage(env, "migrate", "--no-input", "-v0")
        manage(env, "flush", "--no-input", "-v0")
        manage(env, "seed_demo")
    manage(env, "collectstatic", "--no-input", "-v0")
    pages = [tuple(p) for p in shell_json(env, PAGES_QUERY)]
    size = shell_json(
        env,
        "import json; from council.models import Community, User; "
        "from proposals.models import Proposal; "
        "print(json.dumps([Community.objects.count(), User.objects.count(), "
        "Proposal.objects.count()]))",
    )
    print("Weishi server benchmark (bench/servers.py)")
    print(
        f"Python {platform.python_version()} · database {database_name(url)}: {size[0]:,} "
        f"communities, {size[1]:,} users, {size[2]:,} proposals · {args.workers} worker(s) a "
        f"server · {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    backends = Backends(url)
    with servers_started(args.kinds, args.workers, env, out) as servers:
        progress(f"latency: {args.requests} rounds of {len(pages)} pages × {len(servers)} servers")
        latency(servers, pages, args.requests, args.budget)
        progress(f"throughput: {args.clients} clients, {args.seconds:g} s a page and server")
        throughput(servers, pages, args.clients, args.seconds, backends)
        rss = {s.name: sum(_group_rss_mb(p.pid) for p in s.procs) for s in servers}
    print()
    report(servers, pages)
    print()
    print(
        "Memory after the run (MB, all workers of a server): "
        + ", ".join(f"{name} {mb:.0f}" for name, mb in rss.items())
    )
    for name, path in pages:
        print(f"  {name}: {path}")
    failed = [s for s in servers if s.errors]
    for server in failed:
        print(f"errors of {server.name}: {len(server.errors)}, e.g. {server.errors[:3]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_run(main))
