"""Realtime benchmark: delivery latency of thread messages across two daphne processes.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weishi_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/realtime.py [--clients N] [--messages M] [--out DIR]

It (re)creates the PostgreSQL database named by ``DATABASE_URL`` (the name must contain
``bench``), migrates it and loads ``seed_demo``, then starts the production shape: two daphne
workers through ``bin/serve`` sharing the Redis channel layer of ``REDIS_URL``. ``--clients``
anonymous readers connect to the donghu consultation thread, split across the two workers;
one signed-in resident posts ``--messages`` messages over the WebSocket of worker 1, one
every ``--interval`` seconds. For each message and each reader, the delay from send to receipt
is recorded (the message body carries a sequence number).

The floor, in the same run and with the same number of clients: a bare Channels consumer that
group-broadcasts every frame (``bench/echo_asgi.py``: no ORM, no templates), on two daphne
processes with the same Redis channel layer. The phases take turns, ``--rounds`` times
(floor, app, app, floor, …), so that the machine's load weighs on both alike; each phase's
figures are pooled over its rounds. The figures to quote are the app/floor ratios.

Exits 1 if any reader misses any message (delivered < expected), or on any set-up failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from _harness import (
    HOST,
    PYTHON,
    REPO_DIR,
    SERVE,
    bench_env,
    database_name,
    database_recreate,
    fail,
    free_port,
    main_run,
    manage,
    process_start,
    processes_stop,
    progress,
    quantile,
    settings_and_out_arguments,
    shell_json,
    sign_in,
    table,
    verdict,
    wait_until_up,
)

DAPHNE = str(Path(PYTHON).parent / "daphne")
POSTER = "donghu-resident16"
PASSWORD = "weishi-demo-2026"
HANDSHAKE_TRIES = 5

# Printed by `manage.py shell -c` in the app's environment: what the run needs to know.
LOOKUP = """\
import json
from django.core.cache import cache
from council.models import User
from proposals.models import Proposal
thread_id = (
    Proposal.objects.filter(stage="consultation", thread__isnull=False, community__slug="donghu")
    .values_list("thread_id", flat=True)
    .first()
)
poster = User.objects.get(username=POSTER)
print(json.dumps({
    "thread": thread_id,
    "poster": poster.pk,
    "rate_key": cache.make_key(f"thread-rate:{thread_id}:{poster.pk}"),
}))
""".replace("POSTER", repr(POSTER))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500, help="readers (default 500)")
    parser.add_argument("--messages", type=int, default=20, help="messages posted (default 20)")
    parser.add_argument(
        "--interval", type=float, default=0.2, help="seconds between messages (default 0.2)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of both phases, in the order floor, app, app, floor, … (default 2)",
    )
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=50,
        help="websocket handshakes in flight at once (default 50)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for deliveries after the last message (default 60)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=180.0,
        help="at most this many seconds for the connect-time traffic to calm down (default 180)",
    )
    settings_and_out_arguments(parser, "logs, static files and realtime.json")
    args = parser.parse_args()
    if (
        args.clients < 2
        or args.messages < 1
        or args.interval < 0
        or args.connect_concurrency < 1
        or args.rounds < 1
    ):
        parser.error("need --clients >= 2, --messages >= 1, --interval >= 0, --rounds >= 1")
    return args


def environment(out_dir: Path, settings_module: str) -> dict[str, str]:
    env = bench_env(
        os.environ.get("DATABASE_URL", ""), out_dir / "realtime-static", settings_module
    )
    if not os.environ.get("REDIS_URL"):
        fail("set REDIS_URL (e.g. redis://127.0.0.1:6379/0): two processes share its channel layer")
    return env


def raise_file_limit(clients: int) -> int:
    """Each client is a socket here and one in a daphne; raise the soft limit if needed."""
    needed = 2 * clients + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            fail(f"{clients} clients need about {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        soft = needed
    return soft


# --- One measured phase -----------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    urls: list[str]  # one per reader
    poster_url: str
    poster_headers: dict[str, str] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    received: list[dict[int, float]] = field(default_factory=list)
    other_frames: int = 0
    closed_early: int = 0
    poster_errors: list[str] = field(default_factory=list)
    retries: int = 0
    failed_connects: int = 0
    last_handshake_error: str = ""
    last_frame: float = 0.0
    connect_s: float = 0.0
    settle_s: float = 0.0
    settled: bool = True
    readers: int = 0
    messages: int = 0

    @property
    def expected(self) -> int:
        return self.readers * self.messages

    def latencies_ms(self) -> list[float]:
        return [
            (got[seq] - self.sent[seq]) * 1000
            for got in self.received
            for seq in self.sent
            if seq in got
        ]

    @property
    def delivered(self) -> int:
        return sum(1 for got in self.received for seq in self.sent if seq in got)


def origin_of(url: str) -> str:
    return "http://" + urlsplit(url).netloc


async def open_socket(
    phase: Phase, url: str, semaphore: asyncio.Semaphore, headers: dict[str, str]
):
    """A connected client, or None. A refused or dropped handshake is retried (as the page's
    script does) up to HANDSHAKE_TRIES times, a second apart; each retry is counted."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake

    for attempt in range(HANDSHAKE_TRIES):
        if attempt:
            phase.retries += 1
            await asyncio.sleep(1.0)
        try:
            async with semaphore:
                return await connect(
                    url,
                    origin=origin_of(url),
                    additional_headers=headers,
                    open_timeout=60,
                    close_timeout=5,
                    ping_interval=None,  # the run bounds itself; no keepalive closes under load
                    max_size=2**22,
                )
        except (InvalidHandshake, OSError, TimeoutError) as error:
            phase.last_handshake_error = repr(error)
    phase.failed_connects += 1
    return None


async def read_frames(phase: Phase, ws, got: dict[int, float] | None, pattern: re.Pattern) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        async for frame in ws:
            now = time.perf_counter()
            phase.last_frame = now
            text = frame if isinstance(frame, str) else frame.decode()
            found = False
            for match in pattern.finditer(text):
                found = True
                if got is not None:
                    got.setdefault(int(match.group(1)), now)
            if not found:
                phase.other_frames += 1
                if got is None and "data-code=" in text:
                    phase.poster_errors.append("error frame: " + text.strip()[:300])
    except ConnectionClosed:
        if got is not None:
            phase.closed_early += 1


async def run_phase(phase: Phase, args: argparse.Namespace, tag: str) -> None:
    """Connect the readers and the poster, let the connect traffic calm, post, collect."""
    pattern = re.compile(rf"bench {tag} seq (\d{{4}})")
    semaphore = asyncio.Semaphore(args.connect_concurrency)
    started = time.perf_counter()
    phase.readers = len(phase.urls)
    phase.messages = args.messages
    # The poster first: the run is about delivery, so it must not be the one left out.
    poster = await open_socket(phase, phase.poster_url, semaphore, phase.poster_headers)
    if poster is None:
        phase.poster_errors.append(f"could not connect: {phase.last_handshake_error}")
        phase.failed_connects -= 1  # counted as a poster failure, not a reader's
        progress(f"{phase.name}: the poster could not connect; nothing to measure")
        return
    sockets = await asyncio.gather(*(open_socket(phase, url, semaphore, {}) for url in phase.urls))
    phase.connect_s = time.perf_counter() - started
    readers = [ws for ws in sockets if ws is not None]
    phase.received = [{} for _ in readers]
    phase.last_frame = time.perf_counter()
    note = f", {phase.retries} handshake retries" if phase.retries else ""
    if phase.failed_connects:
        note += f", {phase.failed_connects} failed ({phase.last_handshake_error})"
    progress(f"{phase.name}: {len(readers)} readers connected in {phase.connect_s:.1f} s{note}")
    tasks = [
        asyncio.create_task(read_frames(phase, ws, got, pattern))
        for ws, got in zip(readers, phase.received, strict=True)
    ]
    tasks.append(asyncio.create_task(read_frames(phase, poster, None, pattern)))
    try:
        # Connecting causes traffic of its own (the app's presence updates): wait until no
        # frame has arrived for a second, so that the messages are not timed behind it.
        settle_start = time.perf_counter()
        while time.perf_counter() - phase.last_frame < 1.0:
            if time.perf_counter() - settle_start > args.settle:
                phase.settled = False
                break
            await asyncio.sleep(0.1)
        phase.settle_s = time.perf_counter() - settle_start
        progress(
            f"{phase.name}: quiet after {phase.settle_s:.1f} s "
            f"({phase.other_frames} frames while connecting); posting"
            + ("" if phase.settled else f" (still busy after --settle {args.settle:.0f} s)")
        )

        for seq in range(args.messages):
            tick = time.perf_counter()
            body = f"bench {tag} seq {seq:04d} 实时基准"
            phase.sent[seq] = time.perf_counter()
            await poster.send(json.dumps({"action": "post", "body": body}))
            await asyncio.sleep(max(0.0, args.interval - (time.perf_counter() - tick)))

        deadline = time.perf_counter() + args.timeout
        while phase.delivered < phase.expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        progress(f"{phase.name}: {phase.delivered}/{phase.expected} delivered")
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(
                    *(ws.close() for ws in [*readers, poster]), return_exceptions=True
                )
        await asyncio.gather(*tasks, return_exceptions=True)


# --- Report -----------------------------------------------------------------------------------


def summary(phases: list[Phase]) -> dict:
    """One phase's figures over its rounds: latencies and deliveries pooled, the median
    connect time, retries and frames added up."""
    latencies = [ms for phase in phases for ms in phase.latencies_ms()]
    return {
        "rounds": len(phases),
        "delivered": sum(phase.delivered for phase in phases),
        "expected": sum(phase.expected for phase in phases),
        "p50_ms": round(quantile(latencies, 50), 1),
        "p95_ms": round(quantile(latencies, 95), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
        "connect_s": round(statistics.median(phase.connect_s for phase in phases), 2),
        "settle_s": round(max(phase.settle_s for phase in phases), 2),
        "settled": all(phase.settled for phase in phases),
        "other_frames": sum(phase.other_frames for phase in phases),
        "closed_early": sum(phase.closed_early for phase in phases),
        "handshake_retries": sum(phase.retries for phase in phases),
        "failed_connects": sum(phase.failed_connects for phase in phases),
    }


def print_report(figures: dict[str, dict]) -> None:
    headers = (
        "phase",
        "delivered",
        "p50 ms",
        "p95 ms",
        "max ms",
        "connect s",
        "retries",
        "settle s",
        "other frames",
    )
    rows = [
        (
            name,
            f"{f['delivered']}/{f['expected']}",
            f"{f['p50_ms']:.1f}",
            f"{f['p95_ms']:.1f}",
            f"{f['max_ms']:.1f}" if f["max_ms"] is not None else "-",
            f"{f['connect_s']:.1f}",
            str(f["handshake_retries"])
            + (f" ({f['failed_connects']} failed)" if f["failed_connects"] else ""),
            f"{f['settle_s']:.1f}" + ("" if f["settled"] else " (cut)"),
            str(f["other_frames"]),
        )
        for name, f in figures.items()
    ]
    table(headers, rows)


async def measure(args, env, app_ports, echo_ports, lookup, session) -> dict[str, list[Phase]]:
    """``--rounds`` rounds of both phases, floor and app in turn (floor, app, app, floor, …),
    so that a machine growing busier or quieter during the run weighs on both alike."""
    import redis.asyncio as redis

    n = args.clients
    thread = lookup["thread"]
    phases: dict[str, list[Phase]] = {"floor": [], "app": []}

    async def floor_phase():
        tag = secrets.token_hex(4)
        phase = Phase(
            "floor",
            urls=[f"ws://{HOST}:{echo_ports[i % 2]}/ws/echo/{tag}/" for i in range(n)],
            poster_url=f"ws://{HOST}:{echo_ports[0]}/ws/echo/{tag}/",
        )
        phases["floor"].append(phase)
        await run_phase(phase, args, "f" + tag)

    async def app_phase():
        tag = secrets.token_hex(4)
        phase = Phase(
            "app",
            urls=[f"ws://{HOST}:{app_ports[i % 2]}/ws/threads/{thread}/" for i in range(n)],
            poster_url=f"ws://{HOST}:{app_ports[0]}/ws/threads/{thread}/",
            poster_headers={"Cookie": f"sessionid={session}"},
        )
        phases["app"].append(phase)
        # The app allows 5 messages per 30 s per person and thread; the benchmark measures
        # delivery, not that limit. The limit counts with Redis INCR on a key that expires,
        # so the poster's counter starts far below zero for the run (deleted afterwards).
        client = redis.from_url(env["REDIS_URL"])
        try:
            await client.set(lookup["rate_key"], -1_000_000, ex=3600)
            await run_phase(phase, args, "a" + tag)
        finally:
            await client.delete(lookup["rate_key"])
            await client.aclose()

    for round_ in range(args.rounds):
        order = (floor_phase, app_phase) if round_ % 2 == 0 else (app_phase, floor_phase)
        for run in order:
            await run()
    return phases


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment(out_dir, args.settings)
    files = raise_file_limit(args.clients)

    import django
    import websockets

    print("Weishi realtime benchmark (bench/realtime.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"websockets {websockets.__version__} · {os.cpu_count()} CPUs · open-file limit {files}"
    )
    started = time.perf_counter()
    database_recreate(env["DATABASE_URL"])
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "seed_demo")
    # Statistics for the planner, as autovacuum gathers them some time after a bulk load:
    # without them the first minutes would time the planner's guesses on fresh tables.
    manage(
        env,
        "shell",
        "-c",
        "from django.db import connection; connection.cursor().execute('ANALYZE')",
    )
    lookup = shell_json(env, LOOKUP)
    if not lookup["thread"]:
        fail("seed_demo made no donghu proposal in consultation with a thread")

    servers = []
    try:
        # The app's WebSocket workers (daphne) on app_ports; its page workers beside them.
        app_first = free_port(2)
        app_ports = [app_first, app_first + 1]
        page_first = free_port(2)
        while page_first in (app_first - 1, app_first, app_first + 1):
            page_first = free_port(2)
        page_ports = [page_first, page_first + 1]
        serve_log = out_dir / "realtime-serve.log"
        command = [str(SERVE), "2", str(page_first)]
        serve_env = {**env, "PY": PYTHON, "WS_WORKERS": "2", "WS_FIRST_PORT": str(app_first)}
        servers.append((process_start(command, serve_env, serve_log), serve_log))
        echo_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.echo_settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_DIR), env.get("PYTHONPATH")])),
        }
        echo_ports = [free_port() for _ in range(2)]
        for n, port in enumerate(echo_ports):
            log = out_dir / f"realtime-echo-{n + 1}.log"
            command = [DAPHNE, "-b", HOST, "-p", str(port), "bench.echo_asgi:application"]
            servers.append((process_start(command, echo_env, log), log))
        wait_until_up(app_ports + page_ports + echo_ports, servers, seconds=120)
        session = sign_in(page_ports[0], POSTER, PASSWORD)["sessionid"]
        print(
            f"database {database_name(env['DATABASE_URL'])} (PostgreSQL), channel layer "
            f"{env['REDIS_URL']}; set-up took {time.perf_counter() - started:.1f} s"
            + ("" if args.settings == "config.settings" else f"; app settings: {args.settings}")
        )
        print(
            f"app: bin/serve WebSocket workers on ports {app_ports[0]} and {app_ports[1]}, thread "
            f"{lookup['thread']}; floor: bench/echo_asgi.py on ports {echo_ports[0]} and "
            f"{echo_ports[1]}"
        )
        print(
            f"{args.clients} readers split across the two processes of each; "
            f"{args.messages} messages {args.interval * 1000:.0f} ms apart from one poster "
            f"({POSTER}, signed in, on the first process); {args.rounds} round(s) of both "
            "phases (floor, app, app, floor, …), figures pooled over the rounds"
        )
        phases = asyncio.run(measure(args, env, app_ports, echo_ports, lookup, session))
    finally:
        processes_stop([proc for proc, _ in servers])

    figures = {name: summary(rounds) for name, rounds in phases.items()}
    print()
    print_report(figures)
    app, floor = figures["app"], figures["floor"]
    ratio_p50 = app["p50_ms"] / floor["p50_ms"] if floor["p50_ms"] else float("nan")
    ratio_p95 = app["p95_ms"] / floor["p95_ms"] if floor["p95_ms"] else float("nan")
    ratio_connect = app["connect_s"] / floor["connect_s"] if floor["connect_s"] else float("nan")
    delivered_pct = 100 * app["delivered"] / app["expected"] if app["expected"] else 0.0
    print()
    print(
        f"app / floor: p50 x{ratio_p50:.2f}, p95 x{ratio_p95:.2f}, connect x{ratio_connect:.2f}; "
        f"app delivered {delivered_pct:.1f} %, {app['handshake_retries']} handshake retries"
    )
    print(
        "latency: from the poster's send to a reader's receipt, over every (reader, message); "
        "connect: opening every reader's socket; retries: handshakes retried (refused or "
        "dropped); settle: wait for connect-time frames (presence) to stop before posting; "
        "other frames: frames that were not a timed message (presence, composer)."
    )
    results = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "clients": args.clients,
        "messages": args.messages,
        "interval_s": args.interval,
        "rounds": args.rounds,
        "phases": figures,
        "ratio_p50": round(ratio_p50, 2),
        "ratio_p95": round(ratio_p95, 2),
        "ratio_connect": round(ratio_connect, 2),
        "delivered_pct": round(delivered_pct, 2),
    }
    results_file = out_dir / "realtime.json"
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures also written to {results_file}")

    failures = []
    for name, phase in ((name, phase) for name, rounds in phases.items() for phase in rounds):
        if phase.delivered < phase.expected:
            failures.append(
                f"{name}: {phase.delivered} of {phase.expected} deliveries within "
                f"{args.timeout:.0f} s after the last message"
                + (f"; {phase.closed_early} readers closed early" if phase.closed_early else "")
                + (
                    f"; {phase.failed_connects} readers never connected"
                    if phase.failed_connects
                    else ""
                )
            )
        failures += [f"{name}: poster: {error}" for error in phase.poster_errors[:3]]
    return verdict(failures, "OK: every reader received every message.")


if __name__ == "__main__":
    sys.exit(main_run(main))
