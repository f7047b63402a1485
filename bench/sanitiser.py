"""Sanitiser benchmark: what keeping bleach's cleaner out of other threads' hands costs.

Run from the repository root::

    .venv/bin/python bench/sanitiser.py [--calls N] [--threads T]

bleach's ``Cleaner`` keeps its parser's state between calls, so one cleaner shared by threads
mangles text or raises. Four ways to call it are timed on the same text (a description with a
heading, a list, a table and links — what a page cleans again each time it shows stored HTML):

- ``shared``: one cleaner for the whole process, as before (wrong under threads: the figure is
  only the floor the others are compared with; its wrong outputs are counted too);
- ``per call``: a new cleaner for every call;
- ``per thread``: one cleaner per thread (``threading.local``) — what ``council.sanitiser`` does;
- ``locked``: the one shared cleaner behind a lock.

For each: microseconds per call on one thread, and the wall time of ``--calls`` calls spread over
``--threads`` threads, with the number of outputs that differ from the single-threaded one.
Needs no database.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")

import django  # noqa: E402

django.setup()

import bleach  # noqa: E402

from council import sanitiser  # noqa: E402

TEXT = (
    "# 方案\n\n见 [方案](https://example.org/plan) 和 https://example.org/b。\n\n"
    + "\n".join(f"- 第 {j} 项 **要点** https://a{j}.example.org" for j in range(10))
    + "\n\n| 号 | 链接 |\n|---|---|\n"
    + "\n".join(f"| {j} | https://t{j}.example.org |" for j in range(8))
)


def _new_cleaner():
    return sanitiser._new_cleaner()


def strategies():
    shared = _new_cleaner()
    lock = threading.Lock()
    local = threading.local()

    def per_thread(html):
        cleaner = getattr(local, "cleaner", None)
        if cleaner is None:
            cleaner = local.cleaner = _new_cleaner()
        return cleaner.clean(html)

    def locked(html):
        with lock:
            return shared.clean(html)

    return {
        "shared": shared.clean,
        "per call": lambda html: _new_cleaner().clean(html),
        "per thread": per_thread,
        "locked": locked,
    }


def run(calls: int, threads: int) -> list[dict]:
    html = str(sanitiser.render_markdown(TEXT))
    expected = str(sanitiser.sanitised_again(html))
    figures = []
    for name, clean in strategies().items():
        clean(html)  # warm: a per-thread cleaner exists after this on the main thread
        started = time.perf_counter()
        for _ in range(200):
            clean(html)
        single = (time.perf_counter() - started) / 200

        barrier = threading.Barrier(threads)

        def worker(count, clean=clean, barrier=barrier):
            barrier.wait()
            wrong = 0
            for _ in range(count):
                try:
                    wrong += clean(html) != expected
                except Exception:  # noqa: BLE001 - a crash is a wrong output
                    wrong += 1
            return wrong

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            wrong = sum(pool.map(worker, [calls // threads] * threads))
        wall = time.perf_counter() - started
        figures.append(
            {"way": name, "us_per_call": single * 1e6, "threaded_s": wall, "wrong": wrong}
        )
    started = time.perf_counter()
    for _ in range(200):
        _new_cleaner()
    construct = (time.perf_counter() - started) / 200
    figures.append({"way": "construct only", "us_per_call": construct * 1e6})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3200)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    print(f"bleach {bleach.__version__}; {args.calls} calls over {args.threads} threads")
    print(f"{'way':<16}{'µs/call, 1 thread':>20}{'wall s, threads':>18}{'wrong':>8}")
    for row in run(args.calls, args.threads):
        threaded = f"{row['threaded_s']:.2f}" if "threaded_s" in row else "-"
        wrong = str(row["wrong"]) if "wrong" in row else "-"
        print(f"{row['way']:<16}{row['us_per_call']:>20.0f}{threaded:>18}{wrong:>8}")


if __name__ == "__main__":
    main()
