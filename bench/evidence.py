"""Evidence log benchmark: the Merkle tree log at a city's size (1,000,000 entries).

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weishi_bench \\
    REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/evidence.py [--events 1000000] [--writers 8] [--appends 200] \\
        [--reuse]

It empties the PostgreSQL database named by ``DATABASE_URL`` (its name must contain
``bench``), migrates it and writes ``--events`` entries through the bulk path an upgrade takes
(entries, tiles and the signed checkpoint written directly, as the migration from the hash
chain does), timed. Beside them it fills a copy of the earlier hash chain's two tables with as
many rows (``bench_chain_*``, raw SQL), so that both write paths run on tables of one size.

Then, in one run:

- **appends**: ``--writers`` processes each record ``--appends`` events, one committed
  transaction each, through ``evidence_append`` as every service does (the sequencer runs
  alongside every 0.25 s, as the scheduler runs it), then the same through the hash chain's
  write path (lock the head row, hash over the previous hash, insert, move the head: the code
  this log replaced), alternating, twice each; appends per second of each and their ratio
  (goal: the tree ≥ 5× the chain). Each path does what one append needs: the tree's is one
  INSERT, its own transaction; the chain's three statements under its lock in a transaction.
  The tree's INSERT inside BEGIN … COMMIT (two round trips more, which a service pays for its
  own work anyway) is timed too and printed beside them. Then each with one writer alone (how
  each scales with writers), and how long until each event is in a signed checkpoint;
- **proofs**: inclusion and consistency proofs at random places, computed from the tiles
  (read from the database, and again with the tiles already read), their size and time (goal:
  an inclusion proof ≤ 1 ms once its tiles are read);
- **the evidence page** through ``django.test.Client``: p50 / p95 and its query count (goal:
  ≤ 50 ms: no request walks the log);
- **the checker** (``tools/weishi_verify.py``, its own process) against one daphne serving the
  log: ``--audit`` of every entry (goal: ≤ 10 s), then ``--since`` a checkpoint saved before the
  last 1,000 and before the last 100,000 entries (its time follows the new entries' tiles, not
  the log's size).

Exits 1 if a goal is missed or a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path

from _harness import (
    BENCH_DIR,
    PYTHON,
    REPO_DIR,
    bench_database,
    bench_env,
    database_description,
    fail,
    progress,
    quantile,
    site_start,
    table,
    verdict,
)

TREE_OVER_CHAIN = 5.0
INCLUSION_MS = 1.0
PAGE_MS = 50.0
AUDIT_S = 10.0
ACTIONS = ("vote.cast", "proposal.submitted", "message.posted", "cosign.added", "ballot.opened")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="entries (1,000,000)")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers (8)")
    parser.add_argument("--appends", type=int, default=200, help="appends per writer (200)")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="bench/out")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database a previous run seeded if it holds --events entries already",
    )
    return parser.parse_args()


def payload(rng: random.Random, n: int) -> dict:
    return {
        "thread": rng.randrange(1, 60_000),
        "message": n,
        "words": rng.randrange(5, 500),
        "note": "更换小区路灯" if n % 3 else "",
    }


def seed(count: int) -> float:
    """Write ``count`` entries, their tiles, the head and a signed checkpoint in bulk."""
    from django.db import connection

    from council.evidence.checkpoints import checkpoint_sign
    from council.evidence.entries import entry_bytes
    from council.models import EvidenceEvent, EvidenceHead, LogTile
    from council.tlog.merkle import leaf_hash, tree_root
    from council.tlog.tiles import HASH_SIZE, TileReader, tiles_append

    started = time.perf_counter()
    rng = random.Random(2026)
    tiles: dict[tuple[int, int], bytes] = {}
    base = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    size, chunk = 0, 10_000
    while size < count:
        rows = []
        for n in range(size, min(count, size + chunk)):
            event = EvidenceEvent(
                seq=n + 1,
                created_at=base + dt.timedelta(seconds=n * 150),
                salt=secrets.token_bytes(32),
                actor_role="resident" if n % 4 else "staff",
                action=ACTIONS[n % len(ACTIONS)],
                object_type="proposals.proposal",
                object_id=str(n // 17 + 1),
                payload=payload(rng, n),
            )
            event.entry = entry_bytes(event)
            rows.append(event)
        EvidenceEvent.objects.bulk_create(rows, batch_size=2000)
        leaves = [leaf_hash(bytes(e.entry)) for e in rows]
        tiles.update(tiles_append(lambda lv, ix: tiles.get((lv, ix), b""), size, leaves))
        size += len(rows)
        if size % 100_000 == 0:
            progress(f"{size:,} entries written ({time.perf_counter() - started:.0f} s)")
    LogTile.objects.bulk_create(
        [LogTile(level=lv, index=ix, hashes=data) for (lv, ix), data in tiles.items()],
        batch_size=1000,
    )
    root = tree_root(
        TileReader(lambda lv, ix, w: tiles[lv, ix][: w * HASH_SIZE], size).hash_at, size
    )
    EvidenceHead.objects.update_or_create(id=1, defaults={"seq": size, "hash": root.hex()})
    checkpoint_sign(size, root)
    with connection.cursor() as cursor:
        # The chain's tables, as many rows, so that both write paths insert into tables of one
        # size (and one index depth).
        cursor.execute("DROP TABLE IF EXISTS bench_chain_event, bench_chain_head")
        cursor.execute(
            "CREATE TABLE bench_chain_head (id int PRIMARY KEY, seq bigint, hash char(64))"
        )
        cursor.execute(
            "CREATE TABLE bench_chain_event (seq bigint PRIMARY KEY, prev_hash char(64) UNIQUE,"
            " hash char(64) UNIQUE, created_at timestamptz, actor_role varchar(20),"
            " action varchar(60), object varchar(110), payload jsonb)"
        )
        cursor.execute(
            "INSERT INTO bench_chain_event SELECT g, lpad(to_hex(g - 1), 64, '0'),"
            " lpad(to_hex(g), 64, '0'), now(), 'resident', 'seed', 'x:1', '{}'::jsonb"
            " FROM generate_series(1, %s) g",
            [count],
        )
        cursor.execute(
            "INSERT INTO bench_chain_head VALUES (1, %s, lpad(to_hex(%s), 64, '0'))",
            [count, count],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


_chain_models: tuple | None = None


def chain_models():
    """The hash chain's two tables as the models the earlier code wrote through (its
    ``EvidenceHead`` and ``EvidenceEvent``, on tables of the bench's own)."""
    global _chain_models
    if _chain_models is None:
        from django.db import models

        class ChainHead(models.Model):
            id = models.PositiveSmallIntegerField(primary_key=True, default=1)
            seq = models.PositiveBigIntegerField(default=0)
            hash = models.CharField(max_length=64)

            class Meta:
                app_label = "council"
                db_table = "bench_chain_head"
                managed = False

            def __str__(self) -> str:
                return f"#{self.seq}"

        class ChainEvent(models.Model):
            seq = models.PositiveBigIntegerField(primary_key=True)
            prev_hash = models.CharField(max_length=64, unique=True)
            hash = models.CharField(max_length=64, unique=True)
            created_at = models.DateTimeField()
            actor_role = models.CharField(max_length=20)
            action = models.CharField(max_length=60)
            object = models.CharField(max_length=110)
            payload = models.JSONField(default=dict)

            class Meta:
                app_label = "council"
                db_table = "bench_chain_event"
                managed = False

            def __str__(self) -> str:
                return f"#{self.seq}"

        _chain_models = (ChainHead, ChainEvent)
    return _chain_models


def chain_append(rng: random.Random, n: int) -> None:
    """The hash chain's write path as ``evidence_append`` was before the tree (the same ORM
    calls): lock the head row, hash the event over the previous hash, insert it, move the
    head — the lock held until the transaction commits."""
    import hashlib

    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import transaction

    from council import clock

    head_model, event_model = chain_models()
    data = json.loads(json.dumps(payload(rng, n), cls=DjangoJSONEncoder, sort_keys=True))
    with transaction.atomic():
        head, _ = head_model.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": "0" * 64}
        )
        event = event_model(
            seq=head.seq + 1,
            prev_hash=head.hash,
            created_at=clock.now(),
            actor_role="resident",
            action="bench.append",
            object=f"bench:{n}",
            payload=data,
        )
        document = {
            "seq": event.seq, "prev": event.prev_hash,
            "time": event.created_at.isoformat(timespec="microseconds"), "actor": None,
            "role": event.actor_role, "action": event.action, "object": event.object,
            "community": None, "payload": event.payload,
        }  # fmt: skip
        event.hash = hashlib.sha256(
            json.dumps(
                document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                cls=DjangoJSONEncoder,
            ).encode()
        ).hexdigest()  # fmt: skip
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])


def tree_append(rng: random.Random, n: int) -> None:
    """The tree's write path: ``evidence_append``'s one INSERT, which needs no transaction
    of its own. Alone (autocommit) it is its own transaction, committed when it returns; the
    chain's needs three statements under a lock and so a transaction around them. Each path
    runs what appending one event needs, and no more."""
    from council.evidence import evidence_append

    evidence_append(
        actor=None, actor_role="resident", action="bench.append", obj=("bench", n),
        payload=payload(rng, n),
    )  # fmt: skip


def tree_append_in_transaction(rng: random.Random, n: int) -> None:
    """The same INSERT in a transaction of its own (BEGIN, INSERT, COMMIT: two round trips
    more), as in a service, where the transaction is the service's and does its work too."""
    from django.db import transaction

    with transaction.atomic():
        tree_append(rng, n)


APPENDS = {"tree": tree_append, "tree_tx": tree_append_in_transaction, "chain": chain_append}


def _writer(name: str, w: int, each: int, barrier, failures) -> None:
    """One writer process: its own connection, one warm-up append, then ``each`` timed."""
    from django.db import connection

    append = APPENDS[name]
    rng = random.Random(w)
    try:
        append(rng, -1 - w)  # connect, warm up
        barrier.wait()
        for i in range(each):
            append(rng, w * each + i)
    except BaseException as error:  # noqa: BLE001 - reported by the parent
        failures.put(repr(error))
    finally:
        connection.close()


def appends_per_second(name: str, writers: int, each: int) -> float:
    """Appends per second of ``writers`` processes (as a site's workers are: no shared GIL)
    each recording ``each`` events, one transaction each."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = multiprocessing.get_context("fork")
    barrier, failures = context.Barrier(writers + 1), context.Queue()
    processes = [
        context.Process(target=_writer, args=(name, w, each, barrier, failures))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if not failures.empty():
        fail(f"an append failed: {failures.get()}")
    return writers * each / elapsed


def _sequencer(stop) -> None:
    """The scheduler's sequencer, as ``manage.py minutely --loop`` runs it."""
    from django.db import connection

    from council.evidence.sequencer import SEQUENCER_INTERVAL, evidence_integrate

    try:
        while not stop.is_set():
            evidence_integrate(wait=False)
            time.sleep(SEQUENCER_INTERVAL)
    finally:
        connection.close()


def measure_appends(writers: int, each: int) -> dict:
    import bisect
    import multiprocessing

    from django.db import connections

    from council.evidence import evidence_integrate
    from council.models import Checkpoint, EvidenceEvent

    rates = {name: [] for name in APPENDS}
    alone = {}
    first = EvidenceEvent.objects.order_by("-id").values_list("id", flat=True).first()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    sequencer = context.Process(target=_sequencer, args=(stop,))
    sequencer.start()
    try:
        for _round in range(2):
            for name in APPENDS:
                rates[name].append(appends_per_second(name, writers, each))
                progress(f"{name}: {rates[name][-1]:.0f} appends/s")
        # One writer alone: how each scales with writers (the chain cannot: its lock serialises
        # them; the tree's writers run side by side until the cores are busy).
        for name in ("tree", "chain"):
            alone[name] = appends_per_second(name, 1, each)
            progress(f"{name}, one writer: {alone[name]:.0f} appends/s")
        time.sleep(1)  # the sequencer's last run
    finally:
        stop.set()
        sequencer.join()
    leftover = evidence_integrate()
    # How long after it was recorded each new event was in a signed checkpoint.
    checkpoints = list(Checkpoint.objects.order_by("size").values_list("size", "signed_at"))
    sizes = [size for size, _signed in checkpoints]
    delays = []
    for seq, created_at in EvidenceEvent.objects.filter(id__gt=first).values_list(
        "seq", "created_at"
    ):
        signed_at = checkpoints[bisect.bisect_left(sizes, seq)][1]
        delays.append((signed_at - created_at).total_seconds())
    return {
        **{name: max(rates[name]) for name in APPENDS},
        "alone": alone,
        "leftover": leftover,
        "to_checkpoint": delays,
    }


def measure_proofs(samples: int = 2000) -> dict:
    from council.evidence.sequencer import log_head, tile_read
    from council.tlog.merkle import (
        consistency_proof,
        inclusion_proof,
        tree_root,
        verify_consistency,
        verify_inclusion,
    )
    from council.tlog.tiles import HASH_SIZE, TileReader

    size, root = log_head()
    rng = random.Random(7)
    cold, warm, sizes = [], [], []
    for _ in range(samples // 10):
        index = rng.randrange(size)
        reader = TileReader(lambda lv, ix, w: tile_read(lv, ix)[: w * HASH_SIZE], size)
        started = time.perf_counter()
        proof = inclusion_proof(reader.hash_at, index, size)
        cold.append((time.perf_counter() - started) * 1000)
        sizes.append(len(proof))
        leaf = reader.hash_at(0, index)
        verify_inclusion(index, size, leaf, proof, root)
    # Tiles already read (as a server or a checker holding them would): the proof itself.
    held: dict = {}

    def read(lv, ix, w):
        if (lv, ix) not in held:
            held[lv, ix] = tile_read(lv, ix)
        return held[lv, ix][: w * HASH_SIZE]

    reader = TileReader(read, size)
    indices = [rng.randrange(size) for _ in range(samples)]
    for index in indices:
        inclusion_proof(reader.hash_at, index, size)  # read the tiles
    for index in indices:
        started = time.perf_counter()
        inclusion_proof(reader.hash_at, index, size)
        warm.append((time.perf_counter() - started) * 1000)
    consistency = []
    for _ in range(200):
        old = rng.randrange(1, size)
        started = time.perf_counter()
        proof = consistency_proof(reader.hash_at, old, size)
        consistency.append((time.perf_counter() - started) * 1000)
        old_root = tree_root(TileReader(read, old).hash_at, old)
        verify_consistency(old, size, old_root, root, proof)
    return {
        "hashes": max(sizes),
        "cold": cold,
        "warm": warm,
        "consistency": consistency,
    }


def measure_page(requests: int = 60) -> dict:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client()
    times, queries = [], 0
    with override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        for n in range(requests):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get("/evidence/", secure=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
                elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                fail(f"/evidence/ answered {response.status_code}")
            if n >= 10:  # after warming up
                times.append(elapsed)
                queries = len(captured)
    return {"times": times, "queries": queries}


def run_checker(site: str, *args: str, env: dict | None = None):
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "tools/weishi_verify.py", site, "--lang", "en", *args],
        cwd=REPO_DIR, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return time.perf_counter() - started, done


def measure_checker(env: dict, out_dir: Path, vkey: str) -> dict:
    """The production shape (``bin/serve``: two workers and the scheduler, nginx in front with
    ``deploy/nginx.conf``): ``--audit`` over HTTPS, then ``--since`` from checkpoints taken
    1,000 and 100,000 entries back."""
    import tempfile

    from django.conf import settings

    from council.evidence.checkpoints import checkpoint_sign, log_signer
    from council.evidence.sequencer import log_head, tile_files_write, tile_read
    from council.tlog.merkle import tree_root
    from council.tlog.note import checkpoint_text, sign_note
    from council.tlog.tiles import HASH_SIZE, TileReader

    size, _root = log_head()
    saved = {}
    for back in (1_000, 100_000):
        old = max(1, size - back)
        root = tree_root(
            TileReader(lambda lv, ix, w: tile_read(lv, ix)[: w * HASH_SIZE], old).hash_at, old
        )
        path = out_dir / f"checkpoint-{back}.txt"
        path.write_text(sign_note(checkpoint_text(log_signer().name, old, root), [log_signer()]))
        saved[back] = path
    checkpoint_sign(size, log_head()[1])
    results = {}
    tmp = Path(tempfile.mkdtemp(prefix="weishi-bench-evidence-"))
    # The files the sequencer writes as tiles fill (here all at once, for the seeded log).
    settings.LOG_TILES_ROOT = tmp / "log-tiles"
    started = time.perf_counter()
    files = tile_files_write(size)
    results["files"] = (files, time.perf_counter() - started)
    progress(f"{files:,} tile files written in {results['files'][1]:.0f} s")
    with site_start(env, out_dir / "evidence-serve.log", tmp) as site:
        url = f"https://127.0.0.1:{site.nginx.tls_port}"
        trust = {"SSL_CERT_FILE": str(site.nginx.cafile)}
        for name, args in (
            ("audit", ["--audit"]),
            ("since 1,000 back", ["--since", str(saved[1_000])]),
            ("since 100,000 back", ["--since", str(saved[100_000])]),
        ):
            seconds, done = run_checker(url, "--log-key", vkey, *args, env=trust)
            if done.returncode != 0:
                fail(f"the checker's {name} failed:\n{done.stdout}{done.stderr}")
            results[name] = seconds
            progress(f"checker {name}: {seconds:.1f} s")
    return results


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        fail("set DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    # Writers are forked processes: each must open its own connection, not share a pool's.
    os.environ["DATABASE_POOL_MAX"] = "0"
    bench_database(out_dir, "evidence")

    import django

    django.setup()
    from django.core.management import call_command

    from council.evidence.checkpoints import log_signer

    print("Weishi evidence log benchmark (bench/evidence.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"database: {database_description()}"
    )
    call_command("migrate", interactive=False, verbosity=0)
    from council.evidence import evidence_integrate, log_head

    if args.reuse and log_head()[0] >= args.events:
        evidence_integrate()  # what an earlier run appended
        seeded = float("nan")
        progress(f"reusing the {log_head()[0]:,} entries already there")
    else:
        call_command("flush", interactive=False, verbosity=0)
        progress(f"writing {args.events:,} entries in bulk…")
        seeded = seed(args.events)
        progress(f"seeded in {seeded:.0f} s")

    appends = measure_appends(args.writers, args.appends)
    proofs = measure_proofs()
    page = measure_page()
    env = bench_env(
        os.environ["DATABASE_URL"], out_dir / "static",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
    )  # fmt: skip
    checker = measure_checker(env, out_dir, log_signer().vkey)

    ratio = appends["tree"] / appends["chain"]
    print()
    table(
        ("measure", "value", "goal"),
        [
            ("entries", f"{args.events:,}", ""),
            (
                "bulk write (entries, tiles, checkpoint) s",
                "reused" if args.reuse and seeded != seeded else f"{seeded:.0f}",
                "",
            ),
            (f"appends/s, {args.writers} writers: tree", f"{appends['tree']:.0f}", ""),
            (f"appends/s, {args.writers} writers: chain", f"{appends['chain']:.0f}", ""),
            (
                f"appends/s, {args.writers} writers: tree, each in BEGIN … COMMIT",
                f"{appends['tree_tx']:.0f}",
                "",
            ),
            ("appends/s, 1 writer: tree", f"{appends['alone']['tree']:.0f}", ""),
            ("appends/s, 1 writer: chain", f"{appends['alone']['chain']:.0f}", ""),
            (f"CPU cores (the tree's {args.writers} writers share them)", str(os.cpu_count()), ""),
            ("tree / chain", f"{ratio:.1f}×", f"≥ {TREE_OVER_CHAIN:.0f}×"),
            (
                "append → signed checkpoint p95 s",
                f"{quantile(appends['to_checkpoint'], 95):.2f}",
                "",
            ),
            ("append → signed checkpoint max s", f"{max(appends['to_checkpoint']):.2f}", "≤ 2"),
            ("left for the last sequencer run", str(appends["leftover"]), "0"),
            ("inclusion proof hashes", str(proofs["hashes"]), ""),
            ("inclusion proof, tiles read, p50 ms", f"{quantile(proofs['warm'], 50):.3f}", ""),
            (
                "inclusion proof, tiles read, p95 ms",
                f"{quantile(proofs['warm'], 95):.3f}",
                f"≤ {INCLUSION_MS:.0f}",
            ),  # fmt: skip
            ("inclusion proof, reading tiles, p95 ms", f"{quantile(proofs['cold'], 95):.2f}", ""),
            ("consistency proof p95 ms", f"{quantile(proofs['consistency'], 95):.3f}", ""),
            ("evidence page p50 ms", f"{quantile(page['times'], 50):.1f}", ""),
            ("evidence page p95 ms", f"{quantile(page['times'], 95):.1f}", f"≤ {PAGE_MS:.0f}"),
            ("evidence page queries", str(page["queries"]), ""),
            ("tile files written (seeded log) s", f"{checker['files'][1]:.0f}", ""),
            ("checker --audit (nginx, TLS) s", f"{checker['audit']:.1f}", f"≤ {AUDIT_S:.0f}"),
            ("checker --since 1,000 back s", f"{checker['since 1,000 back']:.2f}", ""),
            ("checker --since 100,000 back s", f"{checker['since 100,000 back']:.2f}", ""),
        ],
    )
    failures = []
    if ratio < TREE_OVER_CHAIN:
        failures.append(
            f"the tree appends {ratio:.1f}× the chain's rate (goal ≥ {TREE_OVER_CHAIN}×)"
        )
    if max(appends["to_checkpoint"]) > 2 or appends["leftover"]:
        failures.append("an append waited over 2 s for a signed checkpoint")
    if quantile(proofs["warm"], 95) > INCLUSION_MS:
        failures.append("an inclusion proof takes over 1 ms")
    if quantile(page["times"], 95) > PAGE_MS:
        failures.append("the evidence page's p95 is over 50 ms")
    if checker["audit"] > AUDIT_S:
        failures.append(f"--audit took {checker['audit']:.1f} s (goal ≤ {AUDIT_S:.0f} s)")
    return verdict(failures, "OK: every goal met")


if __name__ == "__main__":
    sys.exit(main())
