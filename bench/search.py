"""Search benchmark: ranked Chinese search over 60,000 proposals, through the page and the
selector.

Run from the repository root::

    .venv/bin/python bench/search.py [--proposals N] [--requests R] [--out DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/weishi_bench .venv/bin/python bench/search.py

It builds its own database (a fresh SQLite file under ``--out``, or the PostgreSQL database
named by ``DATABASE_URL``, flushed first: its name must contain ``bench``), migrates it, loads
``seed_demo``, then bulk-writes ``--proposals`` proposals (default 60,000) over the demo's
communities with Chinese titles and descriptions made from word lists, most of them public
and some drafts, and rebuilds the search index (``search_index_rebuild``, timed). Then, for
each query below, it times ``--requests`` searches through the search page
(``django.test.Client``, the whole middleware stack) and as many through the selector alone
(``disclosure.selectors.site_search``: the count and the first page of results), interleaved,
and counts each one's SQL queries. It exits 1 if a search's query count differs between
queries beyond what the results on the page explain (at most four through the selector: the
count, the page of hits, its proposals, its disclosures) or a page does not answer 200.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from _harness import (
    BENCH_DIR,
    bench_database,
    database_description,
    quantile,
    table,
    verdict,
)

PROPOSALS = 60_000
SEED = 2026
SELECTOR_QUERIES_MAX = 4

# What people type: Chinese words (one, several, a sentence), pinyin in full, initials, pinyin
# with tone digits, query syntax, and words no proposal has.
QUERIES = (
    ("word", "路灯"),
    ("sentence", "小区路灯坏了"),
    ("rare word", "充电桩"),
    ("pinyin", "ludeng"),
    ("initials", "cdz"),
    ("toned pinyin", "lu4deng1"),
    ("syntax", '"路灯" NEAR -*'),
    ("miss", "游泳池"),
    ("pinyin miss", "youyongchi"),
)

ACTIONS = ("更换", "加装", "维修", "增设", "修补", "改造", "翻新", "清理", "安装", "完善")
PLACES = (
    "小区", "楼道", "北门", "南门", "中心广场", "社区公园", "停车场", "菜市场旁", "幼儿园门口",
    "活动室", "老年活动中心", "篮球场", "人行道", "地下车库", "单元门口", "小学门口", "河堤步道",
)  # fmt: skip
OBJECTS = (
    "路灯", "休闲座椅", "垃圾分类亭", "监控探头", "楼梯扶手", "电动车充电桩", "健身器材",
    "遮阳棚", "绿化带", "无障碍坡道", "快递柜", "宣传栏", "雨棚", "排水沟", "减速带", "晾衣架",
    "儿童滑梯", "饮水机", "自行车棚", "消防通道标识",
)  # fmt: skip
SERVICES = (
    "长者助餐", "儿童托管", "周末读书会", "社区义诊", "法律咨询", "垃圾分类宣传", "防诈骗讲座",
    "便民维修服务日", "青少年编程兴趣班", "广场舞培训", "书法兴趣班", "亲子运动会", "心理健康讲座",
)  # fmt: skip
PROBLEMS = ("损坏", "不亮", "老化", "缺少", "不够用", "经常坏", "年久失修", "存在安全隐患")
PEOPLE = ("老人", "孩子", "上班族", "残障居民", "居民", "租户", "楼长", "志愿者")
WHEN = ("入冬以后", "下雨天", "晚上", "周末", "上下班高峰", "多年来", "最近半年")
STAGES = (
    "submitted", "submitted", "submitted", "under_review", "consultation", "voting", "approved",
    "rejected", "in_progress", "completed", "evaluated", "withdrawn", "draft",
)  # fmt: skip


def proposal_text(rng: random.Random) -> tuple[str, str, str, str]:
    """A title, summary, description and location, Chinese, from the word lists."""
    place = rng.choice(PLACES)
    if rng.random() < 0.7:
        thing = rng.choice(OBJECTS)
        title = f"{rng.choice(ACTIONS)}{place}{thing}"
        problem = rng.choice(PROBLEMS)
        summary = f"{place}的{thing}{problem}，{rng.choice(PEOPLE)}反映{rng.choice(WHEN)}很不方便。"
    else:
        thing = rng.choice(SERVICES)
        title = f"开展{thing}活动"
        summary = f"在{place}开展{thing}，方便{rng.choice(PEOPLE)}参加。"
    extra = rng.choice(OBJECTS)
    body = (
        f"{rng.choice(WHEN)}，{place}一带{rng.choice(PEOPLE)}较多。{summary}\n\n"
        f"- 现状：{extra}{rng.choice(PROBLEMS)}\n- 建议：{rng.choice(ACTIONS)}{thing}\n"
        f"- 受益：约{rng.randint(50, 900)}户居民"
    )
    return title, summary, body, place


@dataclass
class Timed:
    name: str
    q: str
    path: str
    page_ns: list[int] = field(default_factory=list)
    selector_ns: list[int] = field(default_factory=list)
    matches: int = 0
    page_queries: int = 0
    selector_queries: int = 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--proposals", type=int, default=PROPOSALS, help=f"bulk proposals (default {PROPOSALS})"
    )
    parser.add_argument(
        "--requests", type=int, default=50, help="timed searches per query and path (default 50)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "out",
        help="folder for the SQLite file and search-<vendor>.json (default bench/out)",
    )
    args = parser.parse_args()
    if args.requests < 2 or args.proposals < 1:
        parser.error("--requests must be at least 2 and --proposals at least 1")
    return args


def prepare_database() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    if connection.vendor != "sqlite":
        call_command("flush", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def bulk_proposals(count: int) -> None:
    """``count`` proposals over the demo's communities, bulk-written (bench data for reading:
    no co-signs, revisions or evidence), in batches."""
    import datetime as dt
    from decimal import Decimal

    from council import clock
    from council.models import Community, Role, RoleKind, RoleStatus
    from proposals.models import Proposal, SubKind

    rng = random.Random(SEED)
    communities = list(Community.objects.order_by("pk"))
    proposers = {
        c.pk: [
            r.user_id
            for r in Role.objects.filter(
                community=c, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
            ).order_by("pk")
        ]
        for c in communities
    }
    communities = [c for c in communities if proposers[c.pk]]
    base = clock.now() - dt.timedelta(hours=count + 24)
    kinds = SubKind.values
    batch = []
    for n in range(count):
        community = communities[n % len(communities)]
        title, summary, body, place = proposal_text(rng)
        stage = STAGES[n % len(STAGES)]
        batch.append(
            Proposal(
                community=community,
                proposer_id=proposers[community.pk][n % len(proposers[community.pk])],
                title=title,
                summary=summary,
                body=body,
                body_html=f"<p>{body}</p>",
                project_type=("engineering", "service", "goods")[n % 3],
                sub_kind=kinds[n % len(kinds)],
                location=place,
                beneficiaries="居民",
                estimated_cost=Decimal(1000 + (n * 7919) % 190_000),
                stage=stage,
                submitted_at=None if stage == "draft" else base + dt.timedelta(hours=n),
                stage_changed_at=base + dt.timedelta(hours=n),
            )
        )
        if len(batch) == 2000:
            Proposal.objects.bulk_create(batch)
            batch = []
    if batch:
        Proposal.objects.bulk_create(batch)


def postgres_plan(q: str) -> str:
    """PostgreSQL: which index the search's count uses (the plan's index scan lines)."""
    from django.db import connection

    from council.search import SearchHits, query_terms

    hits = SearchHits(query_terms(q))  # every kind, as the search page asks
    sql, params = hits._postgres("count(*)")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        lines = [row[0].strip() for row in cursor.fetchall()]
    used = [line for line in lines if "Index" in line and "Scan" in line]
    return "; ".join(used) or lines[0]


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    bench_database(out_dir, "search")

    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from council.models import SearchEntry
    from council.search import search_index_rebuild
    from disclosure.selectors import site_search

    print("Weishi search benchmark (bench/search.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"database: {database_description()}"
    )
    started = time.perf_counter()
    prepare_database()
    seeded = time.perf_counter()
    bulk_proposals(args.proposals)
    written = time.perf_counter()
    indexed = search_index_rebuild()
    built = time.perf_counter()
    entries = SearchEntry.objects.count()
    print(
        f"set-up: demo {seeded - started:.1f} s; {args.proposals} proposals bulk-written in "
        f"{written - seeded:.1f} s; index rebuilt in {built - written:.1f} s "
        f"({indexed} documents, {entries} entries: drafts are left out)"
    )

    timed = [Timed(name, q, "/search/?" + urlencode({"q": q})) for name, q in QUERIES]
    bench_settings = override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    failures: list[str] = []
    with bench_settings:
        client = Client()

        def page(t: Timed) -> None:
            response = client.get(t.path, secure=True)
            if response.status_code != 200:
                sys.exit(f"{t.name}: GET {t.path} answered {response.status_code}, not 200")

        def selector(t: Timed) -> int:
            hits = site_search(t.q)
            n = hits.count()
            list(hits[0:20])
            return n

        for t in timed:  # warm-up, and the counts
            page(t)
            t.matches = selector(t)
            with CaptureQueriesContext(connection) as captured:
                page(t)
            t.page_queries = len(captured.captured_queries)
            with CaptureQueriesContext(connection) as captured:
                selector(t)
            t.selector_queries = len(captured.captured_queries)
        for i in range(args.requests):
            for k in range(len(timed)):
                t = timed[(i + k) % len(timed)]
                start = time.perf_counter_ns()
                page(t)
                t.page_ns.append(time.perf_counter_ns() - start)
                start = time.perf_counter_ns()
                selector(t)
                t.selector_ns.append(time.perf_counter_ns() - start)

    print(f"{args.requests} timed searches per query through each path, interleaved")
    print()
    rows = [
        (
            t.name,
            t.q,
            f"{t.matches}",
            f"{statistics.median(t.page_ns) / 1e6:.1f}",
            f"{quantile(t.page_ns, 95) / 1e6:.1f}",
            f"{statistics.median(t.selector_ns) / 1e6:.1f}",
            f"{quantile(t.selector_ns, 95) / 1e6:.1f}",
            str(t.page_queries),
            str(t.selector_queries),
        )
        for t in timed
    ]
    table(
        (
            "query",
            "q",
            "matches",
            "page p50 ms",
            "page p95",
            "selector p50",
            "selector p95",
            "page queries",
            "selector queries",
        ),
        rows,
        left=2,
    )
    print()
    print("page: GET /search/?q=… (anonymous, whole middleware stack, first page of 20);")
    print("selector: site_search(q): count() and the first 20 results, resolved.")
    if connection.vendor == "postgresql":
        print(f"plan of the count for 路灯: {postgres_plan('路灯')}")

    # The selector: the count, the page of hits, its proposals and its disclosures (the last
    # two only when the page has some), whatever the matches. The page adds the same to it.
    for t in timed:
        if t.selector_queries > SELECTOR_QUERIES_MAX:
            failures.append(
                f"{t.name} ({t.q}): {t.selector_queries} queries through the selector, "
                f"more than {SELECTOR_QUERIES_MAX}"
            )
    overheads = {t.page_queries - t.selector_queries for t in timed if t.matches}
    if len(overheads) > 1:
        failures.append(f"the page adds a varying number of queries: {sorted(overheads)}")
    results = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "proposals": args.proposals,
        "index_entries": entries,
        "index_rebuild_s": round(built - written, 2),
        "requests": args.requests,
        "queries": [
            {
                "name": t.name,
                "q": t.q,
                "matches": t.matches,
                "page_p50_ms": round(statistics.median(t.page_ns) / 1e6, 2),
                "page_p95_ms": round(quantile(t.page_ns, 95) / 1e6, 2),
                "selector_p50_ms": round(statistics.median(t.selector_ns) / 1e6, 2),
                "selector_p95_ms": round(quantile(t.selector_ns, 95) / 1e6, 2),
                "page_queries": t.page_queries,
                "selector_queries": t.selector_queries,
            }
            for t in timed
        ],
    }
    results_file = out_dir / f"search-{connection.vendor}.json"
    results_file.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"figures also written to {results_file}")
    return verdict(failures, "OK: no search's query count grows with its matches.")


if __name__ == "__main__":
    sys.exit(main())
