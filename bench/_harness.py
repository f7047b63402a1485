"""What the benchmarks share: the app's environment on a database of their own, how they
report (quantiles, tables), and, for those that run the production shape (``realtime.py``,
``votes.py``, ``faults.py``), the servers themselves, which come from ``tests/load/servers.py``
(re-exported here): a benchmark starts ``bin/serve`` and nginx exactly as the load tests do.
``pages.py`` and ``pdf.py`` run the app in their own process instead (``django_in_process``).

A script imports it as ``_harness`` (a script's own folder comes first on ``sys.path``); it
puts the repository's root on the path for ``tests.load.servers``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import NoReturn

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from tests.load.servers import (  # noqa: E402
    HOST,
    PYTHON,
    SERVE,
    ServerError,
    daphne_start,
    database_name,
    database_recreate,
    free_port,
    http_request,
    manage,
    process_start,
    processes_stop,
    production_env,
    serve_start,
    shell_json,
    sign_in,
    site_start,
    wait_until_up,
)

__all__ = [
    "BENCH_DIR",
    "HOST",
    "PYTHON",
    "REPO_DIR",
    "SERVE",
    "ServerError",
    "bench_env",
    "daphne_start",
    "database_name",
    "database_recreate",
    "django_in_process",
    "fail",
    "free_port",
    "http_request",
    "main_run",
    "manage",
    "process_start",
    "processes_stop",
    "progress",
    "quantile",
    "require_bench_database",
    "serve_start",
    "server_errors",
    "shell_json",
    "sign_in",
    "site_start",
    "table",
    "wait_until_up",
]

EXAMPLE_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/weishi_bench"
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40


def fail(message: str) -> NoReturn:
    """Stop the run (exit status 1) with ``message``, naming the script."""
    sys.exit(f"bench/{Path(sys.argv[0]).name}: {message}")


def progress(message: str) -> None:
    print("  " + message, flush=True)


def verdict(failures: list[str], ok: str) -> int:
    """The run's exit status: 1 after printing each of ``failures`` to stderr as ``FAIL: …``
    (in order, a failure's further lines as they are), or 0 after printing ``ok`` when there
    are none."""
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        return 1
    print(ok)
    return 0


def main_run(main) -> int:
    """``main()``; a server that did not start or answer ends the run as ``fail`` does (the
    servers already stopped by then)."""
    try:
        return main()
    except ServerError as error:
        fail(str(error))


def require_bench_database(database_url: str) -> None:
    """Stop the run unless the database's name contains ``bench``: a run empties it."""
    if "bench" not in database_name(database_url):
        fail(
            f"refusing database {database_name(database_url)!r}: its name must contain 'bench', "
            f"e.g. {EXAMPLE_DATABASE_URL}"
        )


BENCH_LOG_ORIGIN = "bench.weishi.example/log"


def log_key_env() -> dict[str, str]:
    """The evidence log's name and signing key for a run (``LOG_ORIGIN``,
    ``LOG_SIGNING_KEY_FILE``): those of the environment if set, else a bench key kept in
    bench/out, made on first use."""
    from council.tlog.note import generate_key

    origin = os.environ.get("LOG_ORIGIN", BENCH_LOG_ORIGIN)
    path = Path(os.environ.get("LOG_SIGNING_KEY_FILE", BENCH_DIR / "out" / "bench-log.key"))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_key(origin)[0] + "\n")
        path.chmod(0o600)
    return {"LOG_ORIGIN": origin, "LOG_SIGNING_KEY_FILE": str(path)}


def bench_env(
    database_url: str, static_root: Path, settings_module: str = "config.settings", **extra: str
) -> dict[str, str]:
    """The app's environment for a run on ``database_url``, which must be a PostgreSQL
    database with ``bench`` in its name: the run drops and re-creates it."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        fail("set DATABASE_URL to a PostgreSQL database, e.g. " + EXAMPLE_DATABASE_URL)
    require_bench_database(database_url)
    secret_key = os.environ.get("SECRET_KEY") or BENCH_SECRET_KEY
    return production_env(
        database_url,
        static_root,
        secret_key,
        DJANGO_SETTINGS_MODULE=settings_module,
        **{**log_key_env(), **extra},
    )


def django_in_process(*, debug: bool, **env: str) -> None:
    """Set this process up to run the app through ``django.test.Client`` (call it before
    ``django.setup()``): ``config.settings`` with ``DEBUG`` as given, a secret key unless one is
    set, warnings only in the log unless ``LOG_LEVEL`` is set (WeasyPrint logs every step of a
    render at INFO), ``testserver`` among the allowed hosts; then ``env``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "1" if debug else "0"
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
    if "testserver" not in hosts:
        hosts.append("testserver")
    os.environ["ALLOWED_HOSTS"] = ",".join(hosts)
    os.environ.update(log_key_env())
    os.environ.update(env)


def settings_and_out_arguments(parser: argparse.ArgumentParser, writes: str) -> None:
    """Add ``--settings`` (the app's settings module, to compare a variant) and ``--out`` (the
    folder the run ``writes`` into, bench/out unless given) to a bench's ``parser``."""
    parser.add_argument(
        "--settings",
        default="config.settings",
        help="the app's DJANGO_SETTINGS_MODULE, to compare a variant (default config.settings)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "out",
        help=f"folder for {writes} (default bench/out)",
    )


def bench_database(out_dir: Path, name: str) -> None:
    """Production-like settings (DEBUG off) on a throwaway database, before django.setup(): the
    PostgreSQL database of DATABASE_URL (flushed, so it must be a bench database) or
    ``out_dir/<name>.sqlite3``, made anew."""
    django_in_process(debug=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DATABASE_URL"):
        require_bench_database(os.environ["DATABASE_URL"])  # it is flushed
    else:
        sqlite_path = out_dir / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        os.environ["SQLITE_PATH"] = str(sqlite_path)


def database_description() -> str:
    """What the run is measured against."""
    from django.db import OperationalError, connection

    name = connection.settings_dict["NAME"] or ""
    try:
        connection.ensure_connection()
    except OperationalError as error:
        sys.exit(f"Cannot connect to {name!r}: {error}\nCreate it first (see bench/README.md).")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"sqlite {cursor.fetchone()[0]} ({connection.settings_dict['NAME']})"
        if connection.vendor == "postgresql":
            cursor.execute("show server_version")
            version = cursor.fetchone()[0]
            where = f"{connection.settings_dict['HOST']}:{connection.settings_dict['PORT']}"
            return f"postgresql {version} ({where}/{connection.settings_dict['NAME']})"
    return connection.vendor


def quantile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); nan without values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def server_errors(log: Path, top: int = 3) -> list[tuple[str, int]]:
    """The most frequent exception lines of the servers' log (the last line of a traceback)."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        lines = log.read_text(errors="replace").splitlines()
        for before, line in itertools.pairwise(lines):
            if before.startswith(" ") and re.match(r"[\w.]+(Error|Exception)\b", line):
                counts[line[:240]] += 1
    return counts.most_common(top)


def table(headers: tuple[str, ...], rows: list[tuple[str, ...]], left: int = 1) -> None:
    """Columns as wide as their widest cell: the first ``left`` aligned left, the others
    right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
