"""How fast ``tools/weishi_verify.py --audit`` checks a large log: it builds a static log of
``--entries`` entries (default 1,000,000) in a temporary folder with the tests' own writer
(tests/tools/static_log.py), serves it over HTTP from this process, runs the checker as a
subprocess and prints its CPU time (user + system, of the checker's process only) and wall
time, and the entries per second of each.

    .venv/bin/python bench/verify_audit.py [--entries N] [--runs R]

The goal is at most 10 s of CPU for a million entries. Building the log takes longer than
checking it (the writer is not optimised); the figures cover the check alone.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from tests.tools.static_log import StaticLog, canonical, make_entry, serving  # noqa: E402

TOOL = REPO_DIR / "tools" / "weishi_verify.py"


def entries(count: int) -> list[bytes]:
    """``count`` entries shaped like the log's: submissions, votes with commitments, and a
    disclosure now and then."""
    made = []
    for index in range(count):
        kind = index % 10
        if kind < 6:
            fields = {
                "action": "vote.cast",
                "object": f"voting.ballot:{index // 500}",
                "actor": None,
                "role": "council_member",
                "payload": {"receipt": hashlib.sha256(index.to_bytes(8, "big")).hexdigest()},
            }
        elif kind < 9:
            fields = {}
        else:
            fields = {
                "action": "disclosure.published",
                "object": f"disclosure.disclosure:{index}",
                "payload": {
                    "content_sha256": hashlib.sha256(b"c%d" % index).hexdigest(),
                    "pdf_sha256": hashlib.sha256(b"p%d" % index).hexdigest(),
                },
            }
        made.append(canonical(make_entry(index, **fields)))
    return made


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
            made = entries(args.entries)
            log.publish(made)
            size = sum(map(len, made))
            del made
            print(
                f"built a log of {args.entries:,} entries ({size / 1e6:.0f} MB of entries) "
                f"in {time.perf_counter() - started:.1f} s"
            )
            command = [sys.executable, str(TOOL), url, "--audit", "--log-key", log.log.vkey]
            for witness in log.witnesses:
                command += ["--witness-key", witness.vkey]
            print(
                f"{'run':>4} {'exit':>4} {'CPU s':>7} {'wall s':>7} {'entries/s CPU':>14} "
                f"{'entries/s wall':>15}"
            )
            for run in range(1, args.runs + 1):
                cpu, wall = cpu_of_children(), time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                cpu, wall = cpu_of_children() - cpu, time.perf_counter() - wall
                print(
                    f"{run:>4} {done.returncode:>4} {cpu:>7.2f} {wall:>7.2f} "
                    f"{args.entries / cpu:>14,.0f} {args.entries / wall:>15,.0f}"
                )
                if done.returncode != 0:
                    print(done.stdout + done.stderr)
                    sys.exit(1)


if __name__ == "__main__":
    main()
