"""How fast ``tools/weishi_verify.py --audit`` checks a large log and recounts its ballots
and rounds: it builds a static log of ``--entries`` entries (default 1,000,000) and the open
data they are the evidence of, in a temporary folder, with the tests' own writers
(tests/tools/static_log.py, tests/tools/decisions.py), serves them over HTTP from this
process, runs the checker as a subprocess and prints its CPU time (user + system, of the
checker's process only) and wall time, and the entries per second of each.

    .venv/bin/python bench/verify_audit.py [--entries N] [--runs R]

The goal is at most 10 s of CPU for a million entries. Building the log takes longer than
checking it (the writer is not optimised); the figures cover the check alone.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from tests.tools.decisions import Decisions, write_open_data  # noqa: E402
from tests.tools.static_log import StaticLog, canonical, make_entry, serving  # noqa: E402

TOOL = REPO_DIR / "tools" / "weishi_verify.py"


def entries(count: int) -> tuple[list[bytes], dict[str, list[dict]]]:
    """``count`` entries shaped like the log's, and the open data they are the evidence of:
    about 60% of them the entries of ballots of a 20-member council (opened, a vote from
    each member and two changes, closed; every third one secret, with a show of hands), a
    yearly round now and then (20 projects, 30 members, ¥2,000,000 under Equal Shares with
    Add1), and submissions and disclosures in between."""
    record = Decisions()
    made: list[dict] = []
    ballots = 0
    while len(made) < count:
        ballots += 1
        if ballots % 2000 == 0:
            rng = random.Random(ballots)
            slate = {1000 * ballots + i: f"{rng.randint(10_000, 500_000)}.00" for i in range(20)}
            votes = [(m, {pk for pk in slate if rng.random() < 0.3}) for m in range(30)]
            record.round(ballots, slate, votes, money="2000000.00", rule="mes", base=30)
        else:
            secret = ballots % 3 == 0
            choices = [(m, ("yes", "no", "abstain", "yes")[(m + ballots) % 4]) for m in range(20)]
            choices += [(3, "no"), (7, "yes")]  # two members change their vote
            record.ballot(
                ballots,
                choices,
                secret=secret,
                hands=(1, 0, 0) if secret else (0, 0, 0),
                base=21 if secret else 20,
            )
        made += record.entries
        record.entries = []
        for n in range(16):
            made.append(
                {
                    "action": "disclosure.published",
                    "object": f"disclosure.disclosure:{ballots * 16 + n}",
                    "payload": {
                        "content_sha256": hashlib.sha256(b"c%d" % (ballots * 16 + n)).hexdigest(),
                        "pdf_sha256": hashlib.sha256(b"p%d" % (ballots * 16 + n)).hexdigest(),
                    },
                }
                if n % 4 == 0
                else {}
            )
    return [canonical(make_entry(i, **fields)) for i, fields in enumerate(made[:count])], (
        record.open_data
    )


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="weishi-audit-") as folder:
        root = Path(folder)
        with serving(root) as url:
            started = time.perf_counter()
            log = StaticLog(root, url.removeprefix("http://") + "/log")
            made, open_data = entries(args.entries)
            log.publish(made)
            write_open_data(root, open_data)
            size = sum(map(len, made))
            del made
            print(
                f"built a log of {args.entries:,} entries ({size / 1e6:.0f} MB of entries; "
                f"{len(open_data['ballots']):,} ballots, {len(open_data['rounds'])} rounds, "
                f"{len(open_data['ballot_receipts']):,} published votes) "
                f"in {time.perf_counter() - started:.1f} s"
            )
            command = [sys.executable, str(TOOL), url, "--audit", "--log-key", log.log.vkey]
            for witness in log.witnesses:
                command += ["--witness-key", witness.vkey]
            print(
                f"{'run':>4} {'jobs':>5} {'exit':>4} {'CPU s':>7} {'wall s':>7} "
                f"{'entries/s CPU':>14} {'entries/s wall':>15}"
            )
            # The checker alone in one process, then as it runs by default (a worker process
            # per core; their CPU counts too).
            for run in range(1, args.runs + 1):
                for jobs in ("1", "auto"):
                    extra = ["--jobs", jobs] if jobs != "auto" else []
                    cpu, wall = cpu_of_children(), time.perf_counter()
                    done = subprocess.run(
                        command + extra, capture_output=True, text=True, check=False
                    )
                    cpu, wall = cpu_of_children() - cpu, time.perf_counter() - wall
                    print(
                        f"{run:>4} {jobs:>5} {done.returncode:>4} {cpu:>7.2f} {wall:>7.2f} "
                        f"{args.entries / cpu:>14,.0f} {args.entries / wall:>15,.0f}"
                    )
                    if done.returncode != 0:
                        print(done.stdout + done.stderr)
                        sys.exit(1)


if __name__ == "__main__":
    main()
