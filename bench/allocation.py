"""Allocation benchmark: time of the yearly round's funding rules on large, seeded instances.

Run from the repository root::

    .venv/bin/python bench/allocation.py

It needs no database and no settings: ``voting.allocation`` is pure Python. Two seeded random
instances, each with a budget of ¥2,000,000 and project costs between ¥10,000 and ¥500,000:

- a district-wide vote, 10,000 voters × 100 projects, some projects far more popular than
  others; timed for greedy, Equal Shares with Add1 completion, and plain Equal Shares;
- a council vote, 30 members × 20 projects: few voters and a large envelope, where Add1 would
  rerun Equal Shares tens of thousands of times if it raised the share one yuan at a time.

Each figure is the best of ``--repeat`` runs (default 3), in seconds. ``run()`` returns the
figures, for another bench script to print.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from voting.allocation import Project, equal_shares, greedy  # noqa: E402

SEED = 20240601
BUDGET = Decimal(2_000_000)


def instance(
    num_voters: int, num_projects: int, seed: int
) -> tuple[list[Project], list[set[str]], Decimal]:
    """A random approval election: costs ¥10,000–¥500,000 (whole yuan, some with fen), each
    project's popularity drawn from a skewed distribution, each voter approving 1 to 10
    projects drawn by popularity."""
    rng = random.Random(seed)
    projects = []
    for order in range(num_projects):
        cost = Decimal(rng.randint(10_000, 500_000))
        if rng.random() < 0.3:
            cost += Decimal(rng.randint(1, 99)) / 100
        projects.append(Project(id=str(order + 1), cost=cost, order=order))
    ids = [p.id for p in projects]
    weights = [rng.paretovariate(1.2) for _ in projects]
    ballots = []
    for _ in range(num_voters):
        wanted = rng.randint(1, min(10, num_projects))
        ballots.append(set(rng.choices(ids, weights=weights, k=wanted)))
    return projects, ballots, BUDGET


def best_of(repeat: int, rule, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        rule(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def run(repeat: int = 3) -> list[tuple[str, float]]:
    """The figures, as (label, seconds) pairs."""
    large = instance(10_000, 100, SEED)
    council = instance(30, 20, SEED + 1)
    return [
        ("10,000 voters × 100 projects: greedy", best_of(repeat, greedy, *large)),
        (
            "10,000 voters × 100 projects: Equal Shares + Add1",
            best_of(repeat, equal_shares, *large, "add1"),
        ),
        (
            "10,000 voters × 100 projects: Equal Shares, plain",
            best_of(repeat, equal_shares, *large, "none"),
        ),
        ("30 voters × 20 projects: greedy", best_of(repeat, greedy, *council)),
        (
            "30 voters × 20 projects: Equal Shares + Add1",
            best_of(repeat, equal_shares, *council, "add1"),
        ),
        (
            "30 voters × 20 projects: Equal Shares, plain",
            best_of(repeat, equal_shares, *council, "none"),
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per figure, best kept (default 3)"
    )
    args = parser.parse_args()
    figures = run(args.repeat)
    width = max(len(label) for label, _ in figures)
    print(f"{'rule (budget ¥2,000,000)':{width}}  seconds")
    for label, seconds in figures:
        print(f"{label:{width}}  {seconds:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
