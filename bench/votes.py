"""Vote-casting benchmark: council members voting at once on one ballot, across two daphnes.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weishi_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/votes.py [--members 60] [--requests-per-member 5] \\
        [--concurrency 32]

It (re)creates the PostgreSQL database named by ``DATABASE_URL`` (the name must contain
``bench``), migrates it and loads ``seed_demo``. Then, in the app's environment
(``manage.py shell -c``): it closes the demo's open donghu ballot early (``ballot_close``), seats
more council members in donghu through the services (``resident_sign_up``, ``resident_confirm``,
``role_assign``) until ``--members`` may vote, opens a fresh ballot on the donghu proposal in
voting (``ballot_open``) and creates one signed-in session per member (no logins timed).

It starts the production shape, two daphne workers through ``bin/serve`` sharing Redis, and
fires ``--members`` × ``--requests-per-member`` htmx vote POSTs (seeded random yes / no /
abstain, alternating between the workers, ``--concurrency`` in flight). Each answer must be 200
with the "vote is recorded" message in the fragment. Afterwards it checks, through the ORM:
one stored vote per member, and that each member's evidence (one ``vote.cast`` plus one
``vote.changed`` per change) ends with the choice stored, that the log passes the operator's
check, and that every vote was in a signed checkpoint within 2 s of being recorded (printed:
p50, p95 and the slowest).

Then, with the servers stopped, it prints the timings of ``bench/allocation.py``'s ``run()``.

Exits 1 if any request failed, if stored votes differ from the members, if the evidence does
not match the votes, or on any set-up failure.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from _harness import (
    BENCH_DIR,
    PYTHON,
    bench_env,
    database_name,
    database_recreate,
    fail,
    http_request,
    main_run,
    manage,
    progress,
    quantile,
    serve_start,
    server_errors,
    settings_and_out_arguments,
    shell_json,
    table,
    verdict,
)

CLOSE_REASON = "性能测试：换一轮新的表决（bench/votes.py）"
CHOICES = ("yes", "no", "abstain")
FLOOR_PATH = "/__bench__/floor/"  # bench/served_urls.py's

# Printed by `manage.py shell -c`: close the demo's ballot, seat the members, open the ballot,
# one session per member.
SETUP = """\
import datetime as dt
import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model

from council import clock
from council.demo import DEMO_PASSWORD, demo_id_number, demo_phone
from council.errors import InvalidMove, NotAllowed
from council.models import Community, Grid, HouseholdStatus, RoleKind, SeatCategory
from council.selectors import council_seats
from council.services import resident_confirm, resident_sign_up, role_assign
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from voting.models import Ballot, BallotStatus, Recusal
from voting.services.ballots import ballot_close, ballot_open

User = get_user_model()
WANTED = __MEMBERS__
BACKEND = "django.contrib.auth.backends.ModelBackend"
if BACKEND not in settings.AUTHENTICATION_BACKENDS:
    raise SystemExit(f"{BACKEND} is not in AUTHENTICATION_BACKENDS")
community = Community.objects.get(slug="donghu")
clerk = User.objects.get(username="donghu-staff1")

# The demo leaves a ballot open on the proposal in voting, with two votes: closing it early
# misses the quorum, so the proposal stays in voting and may be put to a new ballot.
closed = []
for open_ballot in Ballot.objects.filter(community=community, status=BallotStatus.OPEN):
    open_ballot = ballot_close(actor=clerk, ballot=open_ballot, reason=__REASON__)
    closed.append({"id": open_ballot.pk, "outcome": open_ballot.outcome})
proposal = Proposal.objects.filter(community=community, stage=Stage.VOTING).order_by("pk").first()
if proposal is None:  # the closed ballot decided it: put a proposal in consultation to the vote
    candidates = Proposal.objects.filter(community=community, stage=Stage.CONSULTATION)
    for candidate in candidates.order_by("pk"):
        try:
            proposal = proposal_move(actor=clerk, proposal=candidate, move=Move.OPEN_VOTING)
        except (InvalidMove, NotAllowed):
            continue
        break
if proposal is None:
    raise SystemExit("no donghu proposal in voting, and none could be put to the vote")

recused = {proposal.proposer_id} | set(
    Recusal.objects.filter(proposal=proposal).values_list("member_id", flat=True)
)
voters = sum(1 for seat in council_seats(community) if seat.user_id not in recused)
grids = list(Grid.objects.filter(community=community).order_by("pk"))
seats = list(SeatCategory.values)
seated, n = 0, 0
while voters < WANTED:
    n += 1
    username = f"donghu-bench{n:03d}"
    if User.objects.filter(username=username).exists():
        continue
    residency = resident_sign_up(
        username=username,
        password=DEMO_PASSWORD,
        display_name=f"基准议事员{n:03d}",
        email="",
        community=community,
        grid=grids[n % len(grids)] if grids else None,
        phone=demo_phone(5000 + n),
        id_number=demo_id_number(5000 + n),
        address=f"东湖社区基准路{n}号",
        household_status=HouseholdStatus.REGISTERED if n % 3 else HouseholdStatus.NON_REGISTERED,
        consent=True,
    )
    resident_confirm(actor=clerk, residency=residency)
    role_assign(
        actor=clerk,
        user=residency.user,
        kind=RoleKind.COUNCIL_MEMBER,
        community=community,
        seat_category=seats[n % len(seats)],
    )
    voters += 1
    seated += 1

ballot = ballot_open(actor=clerk, proposal=proposal, closes_at=clock.now() + dt.timedelta(hours=2))
lines = ballot.eligible.filter(recused=False).select_related("member").order_by("pk")[:WANTED]
store = import_module(settings.SESSION_ENGINE).SessionStore
members = []
for line in lines:
    user = line.member
    session = store()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    members.append({"id": user.pk, "username": user.username, "session": session.session_key})
print(json.dumps({
    "ballot": ballot.pk,
    "base": ballot.base,
    "proposal": proposal.pk,
    "title": proposal.title,
    "closed": closed,
    "seated": seated,
    "members": members,
    "session_cookie": settings.SESSION_COOKIE_NAME,
    "csrf_cookie": settings.CSRF_COOKIE_NAME,
}, ensure_ascii=False))
"""

# A recorded vote must be in a signed checkpoint within this many seconds (issue 15).
CHECKPOINT_WITHIN = 2.0

# Printed by `manage.py shell -c` after the run: the votes and their evidence.
CHECK = """\
import json
from collections import Counter

import bisect

from council.evidence import evidence_verify
from council.models import Checkpoint, EvidenceEvent
from voting.models import Ballot

ballot = Ballot.objects.get(pk=__BALLOT__)
votes = {vote.member_id: vote for vote in ballot.votes.all()}
last, casts, changes = {}, Counter(), Counter()
events = EvidenceEvent.objects.filter(
    object_type=Ballot._meta.label_lower,
    object_id=str(ballot.pk),
    action__in=["vote.cast", "vote.changed"],
).order_by("seq")
for event in events:
    last[event.actor_id] = event.payload.get("choice")
    (casts if event.action == "vote.cast" else changes)[event.actor_id] += 1
chain = evidence_verify()
# How long after it was recorded each vote was in a signed checkpoint (the sequencer's delay).
checkpoints = list(Checkpoint.objects.order_by("size").values_list("size", "signed_at"))
sizes = [size for size, _signed in checkpoints]
to_checkpoint, unplaced = [], 0
for event in events:
    at = bisect.bisect_left(sizes, event.seq) if event.seq else len(sizes)
    if at == len(sizes):
        unplaced += 1
        continue
    to_checkpoint.append((checkpoints[at][1] - event.created_at).total_seconds())
print(json.dumps({
    "status": ballot.status,
    "voters": sorted(votes),
    "choices": Counter(vote.choice for vote in votes.values()),
    "changes": sum(vote.changes for vote in votes.values()),
    "events": sum(casts.values()) + sum(changes.values()),
    "last_matches": sorted(m for m, vote in votes.items() if last.get(m) == vote.choice),
    "miscounted": sorted(
        m for m, vote in votes.items() if casts[m] != 1 or changes[m] != vote.changes
    ),
    "strays": sorted(m for m in last if m not in votes),
    "chain_ok": chain.ok,
    "chain_checked": chain.checked,
    "chain_reason": "" if chain.ok else f"event #{chain.broken_at}: {chain.reason}",
    "to_checkpoint": sorted(to_checkpoint),
    "unplaced": unplaced,
}))
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--members", type=int, default=60, help="council members who vote (default 60)"
    )
    parser.add_argument(
        "--requests-per-member",
        type=int,
        default=5,
        help="vote POSTs per member; after the first, each may change the vote (default 5)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight at once (default 32)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the choices (default 2026)")
    settings_and_out_arguments(parser, "the server log, static files and votes.json")
    args = parser.parse_args()
    if args.members < 1 or args.requests_per_member < 1 or args.concurrency < 1:
        parser.error("need --members, --requests-per-member and --concurrency >= 1")
    return args


def environment(out_dir: Path, settings_module: str) -> dict[str, str]:
    # The site's settings plus the floor's URL (bench/served_settings.py), unless a variant
    # is compared.
    if settings_module == "config.settings":
        settings_module = "served_settings"
    env = bench_env(
        os.environ.get("DATABASE_URL", ""),
        out_dir / "votes-static",
        settings_module,
        PYTHONPATH=os.pathsep.join([str(BENCH_DIR), str(BENCH_DIR.parent)]),
    )
    if not os.environ.get("REDIS_URL"):
        fail("set REDIS_URL (e.g. redis://127.0.0.1:6379/9): the two workers share it")
    return env


# --- The votes ----------------------------------------------------------------------------------


@dataclass
class Member:
    id: int
    username: str
    cookies: dict[str, str]
    csrf: str = ""


@dataclass
class Result:
    member: int
    choice: str
    port: int
    latency_s: float
    ok: bool
    detail: str = ""


def fetch_csrf(members: list[Member], ports: list[int], path: str, cookie: str) -> None:
    """GET the ballot page once per member (spread over the workers, which warms both): the
    answer sets the CSRF cookie and must show the member the vote form."""
    for n, member in enumerate(members):
        answer = http_request(
            ports[n % len(ports)], "GET", path, cookies=member.cookies, timeout=60
        )  # the cookies it sets land in member.cookies
        if answer.status != 200:
            fail(f"GET {path} as {member.username} answered {answer.status}")
        if f'hx-post="{path}vote/"' not in answer.body.decode("utf-8", "replace"):
            fail(f"GET {path} as {member.username} shows no vote form (signed in? on the list?)")
        member.csrf = member.cookies.get(cookie, "")
        if not member.csrf:
            fail(f"GET {path} as {member.username} set no {cookie} cookie")


def _post(member: Member, choice: str, port: int, path: str):
    """POST ``choice`` to ``path`` as an htmx vote is sent (the member's session and CSRF
    token, a new connection): (the answer or None, the latency in s, what failed)."""
    headers = {"X-CSRFToken": member.csrf, "HX-Request": "true", "HX-Target": "vote-box"}
    body = urlencode({"choice": choice}).encode()
    start = time.perf_counter()
    try:
        answer = http_request(
            port, "POST", path, cookies=dict(member.cookies), body=body, headers=headers, timeout=60
        )
    except (OSError, http.client.HTTPException) as error:
        return None, time.perf_counter() - start, repr(error)
    return answer, time.perf_counter() - start, ""


def cast(member: Member, choice: str, port: int, path: str) -> Result:
    answer, latency, failed = _post(member, choice, port, path)
    if answer is None:
        return Result(member.id, choice, port, latency, False, failed)
    if answer.status != 200:
        return Result(member.id, choice, port, latency, False, f"HTTP {answer.status}")
    text = answer.body.decode("utf-8", "replace")
    if 'class="message success"' not in text or 'class="message error"' in text:
        snippet = text.split('class="message', 1)[-1][:200].replace("\n", " ")
        return Result(member.id, choice, port, latency, False, "refused: " + snippet)
    return Result(member.id, choice, port, latency, True)


def floor_post(member: Member, choice: str, port: int, path: str) -> Result:
    """The floor: the same POST as a vote to ``HttpResponse("ok")`` behind the site's whole
    middleware."""
    answer, latency, failed = _post(member, choice, port, path)
    if answer is None:
        return Result(member.id, choice, port, latency, False, failed)
    return Result(member.id, choice, port, latency, answer.status == 200, f"HTTP {answer.status}")


def fire(
    members: list[Member],
    args: argparse.Namespace,
    ports: list[int],
    path: str,
    send=None,
) -> tuple[list[Result], float]:
    """Every member's requests in a seeded random order, alternating between the workers
    (``send``: ``cast`` unless given)."""
    send = send or cast
    rng = random.Random(args.seed)
    plan = [(m, rng.choice(CHOICES)) for m in members for _ in range(args.requests_per_member)]
    rng.shuffle(plan)
    results: list[Result] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        member, choice = plan[n]
        result = send(member, choice, ports[n % len(ports)], path)
        with lock:
            results.append(result)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(one, range(len(plan))))
    return results, time.perf_counter() - start


# --- Allocation (bench/allocation.py) -----------------------------------------------------------


def allocation_figures() -> tuple[list[tuple[str, float]] | None, str]:
    """``run()`` of bench/allocation.py, imported by path; (None, why) if unavailable."""
    path = BENCH_DIR / "allocation.py"
    if not path.exists():
        return None, "bench/allocation.py is not there"
    spec = importlib.util.spec_from_file_location("bench_allocation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = getattr(module, "run", None)
    if run is None:
        return None, "bench/allocation.py has no run()"
    figures = run()
    try:
        return [(str(label), float(seconds)) for label, seconds in figures], ""
    except (TypeError, ValueError):
        return None, f"run() returned {figures!r}"


# --- Report -------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment(out_dir, args.settings)

    import django

    print("Weishi vote-casting benchmark (bench/votes.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"{os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    database_recreate(env["DATABASE_URL"])
    manage(env, "migrate", "--no-input", "-v0")
    progress(f"database re-created and migrated ({time.perf_counter() - started:.0f} s)")
    manage(env, "seed_demo")
    progress(f"seed_demo loaded ({time.perf_counter() - started:.0f} s)")
    setup = shell_json(
        env,
        SETUP.replace("__MEMBERS__", str(args.members)).replace("__REASON__", repr(CLOSE_REASON)),
    )
    progress(f"members seated, ballot open, sessions made ({time.perf_counter() - started:.0f} s)")
    ballot_path = f"/c/donghu/ballots/{setup['ballot']}/"
    vote_path = ballot_path + "vote/"
    members = [
        Member(m["id"], m["username"], {setup["session_cookie"]: m["session"]})
        for m in setup["members"]
    ]
    if len(members) != args.members:
        fail(f"asked for {args.members} members, the ballot lists {len(members)} voters")

    log = out_dir / "votes-serve.log"
    with serve_start({**env, "PY": PYTHON}, log) as (serve, ports, _ws_ports):
        progress(f"bin/serve: both workers answer ({time.perf_counter() - started:.0f} s)")
        fetch_csrf(members, ports, ballot_path, setup["csrf_cookie"])
        closed = ", ".join(f"ballot {c['id']} ({c['outcome']})" for c in setup["closed"])
        print(
            f"database {database_name(env['DATABASE_URL'])} (PostgreSQL), Redis "
            f"{env['REDIS_URL']}; set-up took {time.perf_counter() - started:.1f} s"
            + ("" if args.settings == "config.settings" else f"; app settings: {args.settings}")
        )
        print(
            f"ballot {setup['ballot']} on proposal {setup['proposal']} “{setup['title']}”: "
            f"{len(members)} members vote (base {setup['base']}; {setup['seated']} seated for "
            f"the run); demo's open ballot closed early: {closed or 'none'}"
        )
        print(
            f"bin/serve workers on ports {ports[0]} and {ports[1]}; "
            f"{len(members) * args.requests_per_member} htmx vote POSTs "
            f"({len(members)} members × {args.requests_per_member}), {args.concurrency} in "
            f"flight, alternating between the workers, choices seeded {args.seed}"
        )
        # The floor, in the same shape, just before and just after the votes: the run's
        # noise hits both alike (bench/README.md, "Reading the figures").
        floor = fire(members, args, ports, FLOOR_PATH, send=floor_post)[0]
        results, elapsed = fire(members, args, ports, vote_path)
        floor += fire(members, args, ports, FLOOR_PATH, send=floor_post)[0]
        if serve.poll() is not None:
            fail(f"bin/serve exited ({serve.returncode}) during the run; see {log}")
        # The scheduler's sequencer runs a few times a second: leave it the time to place the
        # last votes before the servers stop (the check then says how long each one waited).
        time.sleep(CHECKPOINT_WITHIN)

    check = shell_json(env, CHECK.replace("__BALLOT__", str(setup["ballot"])))
    errors = [r for r in results if not r.ok]
    latencies = [r.latency_s * 1000 for r in results if r.ok]
    expected = {m.id for m in members}
    stored = set(check["voters"])
    matches = len(set(check["last_matches"]) & expected)
    throughput = len(results) / elapsed if elapsed else float("nan")
    per_worker = {port: sum(1 for r in results if r.port == port) for port in ports}
    signed_after = check["to_checkpoint"]
    floor_ms = [r.latency_s * 1000 for r in floor if r.ok]
    p50_ratio = quantile(latencies, 50) / quantile(floor_ms, 50) if floor_ms else float("nan")
    p95_ratio = quantile(latencies, 95) / quantile(floor_ms, 95) if floor_ms else float("nan")

    print()
    table(
        ("votes", "value"),
        [
            ("requests sent", str(len(results))),
            ("per worker", " / ".join(str(per_worker[p]) for p in ports)),
            ("HTTP errors", str(len(errors))),
            ("votes stored / expected", f"{len(stored & expected)}/{len(expected)}"),
            ("stored choices", ", ".join(f"{k} {v}" for k, v in sorted(check["choices"].items()))),
            ("vote changes stored", str(check["changes"])),
            ("evidence events (cast + changed)", str(check["events"])),
            ("last evidence event = stored vote", f"{matches}/{len(expected)}"),
            ("evidence count = 1 cast + changes", f"{len(expected) - len(check['miscounted'])}"),
            ("evidence log (operator's check)", f"{'OK' if check['chain_ok'] else 'BROKEN'}"),
            ("votes not in a signed checkpoint", str(check["unplaced"])),
            ("recorded → signed checkpoint p50 ms", f"{quantile(signed_after, 50) * 1000:.1f}"),
            ("recorded → signed checkpoint p95 ms", f"{quantile(signed_after, 95) * 1000:.1f}"),
            ("recorded → signed checkpoint max ms", f"{max(signed_after, default=0) * 1000:.1f}"),
            ("elapsed s", f"{elapsed:.2f}"),
            ("throughput req/s", f"{throughput:.1f}"),
            ("latency p50 ms", f"{quantile(latencies, 50):.1f}"),
            ("latency p95 ms", f"{quantile(latencies, 95):.1f}"),
            ("latency max ms", f"{max(latencies):.1f}" if latencies else "-"),
            ("floor p50 / p95 ms", f"{quantile(floor_ms, 50):.1f} / {quantile(floor_ms, 95):.1f}"),
            ("vote p50 / p95 x floor", f"{p50_ratio:.1f} / {p95_ratio:.1f}"),
            ("floor errors", str(sum(1 for r in floor if not r.ok))),
        ],
    )
    print(
        "latency: from sending a POST to reading its whole answer, new connection each time, "
        "over the successful requests; the client threads share the cores with the servers."
    )

    print()
    print("Allocation (bench/allocation.py run(), best of its repeats, servers stopped)")
    try:
        allocation, why = allocation_figures()
    except Exception as error:  # another script's failure: reported, and the run exits 1
        allocation, why = None, f"run() failed: {error!r}"
        allocation_failed = True
    else:
        allocation_failed = False
    if allocation is None:
        print(f"  not timed: {why}")
    else:
        table(("rule (budget ¥2,000,000)", "seconds"), [(k, f"{v:.3f}") for k, v in allocation])

    print()
    summary = [
        ("vote POSTs", f"{len(results)} ({len(errors)} errors)"),
        ("votes stored / expected", f"{len(stored & expected)}/{len(expected)}"),
        ("evidence matches votes", f"{matches}/{len(expected)}"),
        ("throughput", f"{throughput:.1f} req/s"),
        ("latency p50 / p95", f"{quantile(latencies, 50):.0f} / {quantile(latencies, 95):.0f} ms"),
        ("x floor p50 / p95", f"{p50_ratio:.1f} / {p95_ratio:.1f}"),
    ]
    summary += [(label.replace(" projects:", ":"), f"{s:.3f} s") for label, s in allocation or []]
    table(("summary", "value"), summary)

    results_file = out_dir / "votes.json"
    results_file.write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "django": django.get_version(),
                "members": len(members),
                "requests_per_member": args.requests_per_member,
                "concurrency": args.concurrency,
                "seed": args.seed,
                "settings": args.settings,
                "requests": len(results),
                "errors": len(errors),
                "stored": len(stored & expected),
                "expected": len(expected),
                "evidence_matches": matches,
                "throughput_rps": round(throughput, 1),
                "p50_ms": round(quantile(latencies, 50), 1),
                "p95_ms": round(quantile(latencies, 95), 1),
                "floor_p50_ms": round(quantile(floor_ms, 50), 1),
                "floor_p95_ms": round(quantile(floor_ms, 95), 1),
                "allocation": dict(allocation or []),
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n"
    )
    print(f"figures also written to {results_file}")

    failures = []
    if errors:
        failures.append(
            "\n".join(
                [f"{len(errors)} of {len(results)} vote POSTs failed, e.g.:"]
                + [f"  member {e.member} on :{e.port}: {e.detail}" for e in errors[:5]]
                + [
                    f"  server log, {count}×: {line}"
                    for line, count in server_errors(out_dir / "votes-serve.log")
                ]
            )
        )
    if stored != expected:
        failures.append(
            f"{len(stored)} votes stored for {len(expected)} members "
            f"(missing {sorted(expected - stored)[:10]}, extra {sorted(stored - expected)[:10]})"
        )
    if matches != len(expected) or check["miscounted"] or check["strays"]:
        failures.append(
            f"evidence does not match the votes: last event = vote for {matches} of "
            f"{len(expected)}; miscounted {check['miscounted'][:10]}, "
            f"strays {check['strays'][:10]}"
        )
    if not check["chain_ok"]:
        failures.append(f"evidence log broken at {check['chain_reason']}")
    if check["unplaced"] or max(check["to_checkpoint"], default=0) > CHECKPOINT_WITHIN:
        failures.append(
            f"{check['unplaced']} votes not in a signed checkpoint, slowest "
            f"{max(check['to_checkpoint'], default=0):.2f} s (goal: every one within "
            f"{CHECKPOINT_WITHIN:.0f} s)"
        )
    if allocation_failed:
        failures.append(f"allocation: {why}")
    return verdict(
        failures, "OK: every vote was recorded once per member, and its evidence matches."
    )


if __name__ == "__main__":
    sys.exit(main_run(main))
