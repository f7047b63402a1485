"""Page benchmark: server time and SQL queries of Weishi's main pages, against a bare floor.

Run from the repository root::

    .venv/bin/python bench/pages.py [--requests N] [--warmup W] [--out DIR]

It builds its own database (a fresh SQLite file under ``--out``, or the PostgreSQL database
named by ``DATABASE_URL``, flushed first), migrates it, loads ``seed_demo`` and then times, in
one interleaved run, a floor view (``HttpResponse("ok")`` behind the same middleware) and the
pages below, through ``django.test.Client``. Before timing it adds 5,000 proposals to donghu
(bulk-created, with co-signs and photo rows), so that the proposal list is measured at a
realistic size. Afterwards it adds residents, evidence events and more proposals and checks
that no page's SQL query count grew with the data; it exits 1 if one did.

This module is also the run's ROOT_URLCONF: the site's URLs plus the floor path.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import statistics
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    BENCH_DIR,
    bench_database,
    database_description,
    quantile,
    table,
    verdict,
)
from django.http import HttpResponse
from django.urls import include, path

FLOOR_PATH = "/__bench__/floor/"
STAFF_USERNAME = "donghu-staff1"
EXTRA_RESIDENTS = 200
EXTRA_EVENTS = 20
BULK_PROPOSALS = 5000  # added before timing: the list is measured at this size
EXTRA_PROPOSALS = 1000  # added by the '+data' step
LIST_PATH = "/c/donghu/proposals/"

# Filled in by ``main`` once Django is set up (``config.urls`` needs the app registry).
urlpatterns: list = []


def floor(request):
    """The floor: the cheapest possible view, behind the full middleware stack."""
    return HttpResponse("ok")


@dataclass
class Page:
    name: str
    path: str
    signed_in: bool = False
    # A page still being written may answer 404: then the run skips it with a note.
    optional: bool = False
    times_ns: list[int] = field(default_factory=list)
    queries: int = 0
    queries_grown: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ns) / 1e6

    @property
    def p95_ms(self) -> float:
        return quantile(self.times_ns, 95) / 1e6


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=300, help="timed requests per page (default 300)"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="untimed requests per page first (default 20)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=BENCH_DIR / "out",
        help="folder for the SQLite file and pages-<vendor>.json (default bench/out)",
    )
    args = parser.parse_args()
    if args.requests < 2 or args.warmup < 1:
        parser.error("--requests must be at least 2 and --warmup at least 1")
    return args


def prepare_database() -> None:
    """Migrate, empty (PostgreSQL: reruns start clean) and load the demo data."""
    from django.core.management import call_command
    from django.db import DatabaseError, connection

    call_command("migrate", interactive=False, verbosity=0)
    if connection.vendor != "sqlite":
        call_command("flush", interactive=False, verbosity=0)
    try:
        call_command("seed_demo", stdout=io.StringIO())
    except DatabaseError:
        traceback.print_exc()
        sys.exit(f"seed_demo failed on {connection.vendor} (above): a problem of the app's.")


def data_size() -> str:
    from django.contrib.auth import get_user_model

    from council.models import EvidenceEvent, Role, RoleKind
    from proposals.models import Proposal

    users = get_user_model().objects.count()
    residents = Role.objects.filter(kind=RoleKind.RESIDENT).count()
    events = EvidenceEvent.objects.count()
    proposals = Proposal.objects.count()
    return (
        f"{users} users, {residents} residencies, {events} evidence events, {proposals} proposals"
    )


BULK_TITLES = ("更换楼道灯", "加装休闲座椅", "儿童阅读角", "垃圾分类宣传", "长者助餐", "修补人行道")
BULK_STAGES = (
    "submitted", "submitted", "submitted", "under_review", "withdrawn", "rejected", "completed",
    "evaluated",
)  # fmt: skip


def bulk_proposals(count: int, start: int) -> None:
    """``count`` public proposals in donghu, written with ``bulk_create`` (numbered from
    ``start``): bench data for reading pages, not a walk through the services. Submitted an
    hour apart over the past months, in several stages; each has ``n % 5`` co-signs from
    confirmed residents, every third a photo row and every seventh a document row (no files:
    the list only links to thumbnails)."""
    import datetime as dt
    from decimal import Decimal

    from council import clock
    from council.models import Community, Role, RoleKind, RoleStatus
    from proposals.models import Attachment, AttachmentKind, CoSign, Proposal, SubKind

    donghu = Community.objects.get(slug="donghu")
    residents = [
        r.user
        for r in Role.objects.filter(
            community=donghu, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
        )
        .select_related("user")
        .order_by("pk")
    ]
    types = ("engineering", "service", "goods")
    kinds = SubKind.values
    base = clock.now() - dt.timedelta(hours=BULK_PROPOSALS + EXTRA_PROPOSALS + 24)
    proposals = Proposal.objects.bulk_create(
        Proposal(
            community=donghu,
            proposer=residents[n % len(residents)],
            title=f"{BULK_TITLES[n % len(BULK_TITLES)]}（{n}号）",
            summary=f"第{n}号：{BULK_TITLES[n % len(BULK_TITLES)]}，居民反映多年，希望今年解决。",
            body=f"第{n}号提议的说明。\n\n- 现状\n- 建议\n",
            body_html=f"<p>第{n}号提议的说明。</p><ul><li>现状</li><li>建议</li></ul>",
            project_type=types[n % len(types)],
            sub_kind=kinds[n % len(kinds)],
            location="幸福里小区",
            beneficiaries="幸福里小区居民",
            estimated_cost=Decimal(1000 + (n * 7919) % 190_000),
            stage=BULK_STAGES[n % len(BULK_STAGES)],
            submitted_at=base + dt.timedelta(hours=n),
            stage_changed_at=base + dt.timedelta(hours=n),
        )
        for n in range(start, start + count)
    )
    CoSign.objects.bulk_create(
        CoSign(proposal=p, user=residents[(n + k + 1) % len(residents)])
        for n, p in enumerate(proposals, start)
        for k in range(min(n % 5, len(residents) - 1))
    )
    Attachment.objects.bulk_create(
        Attachment(
            proposal=p,
            kind=AttachmentKind.PHOTO if n % 3 == 0 else AttachmentKind.DOCUMENT,
            file=f"proposals/bench/{n}.{'jpg' if n % 3 == 0 else 'pdf'}",
            thumbnail=f"proposals/thumbs/bench/{n}.jpg" if n % 3 == 0 else "",
            name=f"{n}.{'jpg' if n % 3 == 0 else 'pdf'}",
            size=100_000,
            uploaded_by=p.proposer,
        )
        for n, p in enumerate(proposals, start)
        if n % 3 == 0 or n % 7 == 0
    )


def proposal_path() -> str:
    """One demo proposal of donghu with much on its page (consultation first: thread, reviews,
    opinions); one made through the services if the demo has none."""
    from council.models import Community, Role, RoleKind, RoleStatus
    from proposals import services
    from proposals.models import Proposal, Stage

    donghu = Community.objects.get(slug="donghu")
    public = Proposal.objects.filter(community=donghu).exclude(stage=Stage.DRAFT)
    for stage in (Stage.CONSULTATION, Stage.VOTING, Stage.IN_PROGRESS, Stage.SUBMITTED):
        proposal = public.filter(stage=stage).order_by("pk").first()
        if proposal is not None:
            break
    else:
        resident = (
            Role.objects.filter(community=donghu, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE)
            .order_by("pk")
            .first()
            .user
        )
        proposal = services.proposal_create(
            actor=resident,
            community=donghu,
            data={
                "title": "更换小区路灯",
                "summary": "北门至3栋的主路有5盏路灯损坏。",
                "body": "入冬后傍晚一片漆黑，老人和孩子夜间行走不安全。",
                "project_type": "engineering",
                "sub_kind": "facilities",
                "location": "北门至3栋",
                "beneficiaries": "约420户居民",
                "estimated_cost": "18600.00",
            },
        )
        proposal = services.proposal_submit(actor=resident, proposal=proposal)
    return f"/c/donghu/proposals/{proposal.pk}/"


def grow_data() -> None:
    """Add residents (a quarter without a grid, a third confirmed, a few seated), events and
    proposals."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from council import demo, services
    from council.evidence import evidence_append
    from council.models import Community, HouseholdStatus, RoleKind, SeatCategory

    user_model = get_user_model()
    donghu = Community.objects.get(slug="donghu")
    grids = [*donghu.grids.order_by("pk"), None]
    staff = user_model.objects.get(username=STAFF_USERNAME)
    seats = list(SeatCategory)
    # A cheap hasher for the bench's own accounts: argon2 would dominate the set-up time.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        for n in range(1, EXTRA_RESIDENTS + 1):
            person = 5000 + n
            residency = services.resident_sign_up(
                username=f"bench-resident{n:03d}",
                password=demo.DEMO_PASSWORD,
                display_name=demo.chinese_name(person),
                email="",
                community=donghu,
                grid=grids[n % len(grids)],
                phone=demo.demo_phone(person),
                id_number=demo.demo_id_number(person),
                address=f"{donghu.name}{demo.STREETS[n % len(demo.STREETS)]}{n}号",
                household_status=HouseholdStatus.REGISTERED
                if n % 3
                else HouseholdStatus.NON_REGISTERED,
                consent=True,
            )
            if n % 3 == 0:
                services.resident_confirm(actor=staff, residency=residency)
            if n % 15 == 0:  # seat some of the confirmed
                services.role_assign(
                    actor=None,
                    user=residency.user,
                    kind=RoleKind.COUNCIL_MEMBER,
                    community=donghu,
                    seat_category=seats[n % len(seats)],
                )
    roles = [RoleKind.STAFF, RoleKind.RESIDENT, ""]
    for n in range(1, EXTRA_EVENTS + 1):
        evidence_append(
            actor=staff if n % 4 else None,
            actor_role=roles[n % len(roles)],
            action="bench.note",
            obj=("bench.note", n),
            payload={"n": n},
            community=donghu if n % 2 else None,
        )
    bulk_proposals(EXTRA_PROPOSALS, start=BULK_PROPOSALS)


def count_queries(client, page: Page) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fetch(client, page)  # untimed: whatever a first request after a change loads lazily
    with CaptureQueriesContext(connection) as captured:
        fetch(client, page)
    return len(captured.captured_queries)


def skip_unwritten(pages: list[Page], clients: dict[bool, object]) -> list[Page]:
    """Drop, with a note, an optional page that answers 404 (a stub not written yet)."""
    kept = []
    for page in pages:
        if page.optional:
            status = clients[page.signed_in].get(page.path, secure=True).status_code
            if status == 404:
                print(f"note: skipping {page.name} ({page.path}): 404, the page is not written yet")
                continue
        kept.append(page)
    return kept


def fetch(client, page: Page) -> None:
    # secure: production runs behind TLS (SECURE_SSL_REDIRECT is on with DEBUG off).
    response = client.get(page.path, secure=True)
    if response.status_code != 200:
        sys.exit(f"{page.name}: GET {page.path} answered {response.status_code}, not 200")


def measure(pages: list[Page], clients: dict[bool, object], requests: int, warmup: int) -> None:
    """Round-robin over the pages, the starting page rotating, so noise hits all alike."""
    for _ in range(warmup):
        for page in pages:
            fetch(clients[page.signed_in], page)
    count = len(pages)
    for i in range(requests):
        for k in range(count):
            page = pages[(i + k) % count]
            client = clients[page.signed_in]
            start = time.perf_counter_ns()
            fetch(client, page)
            page.times_ns.append(time.perf_counter_ns() - start)


def print_table(pages: list[Page]) -> None:
    floor_median = pages[0].median_ms
    headers = ("page", "path", "median ms", "p95 ms", "x floor", "queries", "+data")
    rows = [
        (
            page.name + (" *" if page.signed_in else ""),
            page.path,
            f"{page.median_ms:.2f}",
            f"{page.p95_ms:.2f}",
            f"{page.median_ms / floor_median:.1f}",
            str(page.queries),
            str(page.queries_grown) + ("  GREW" if page.queries_grown > page.queries else ""),
        )
        for page in pages
    ]
    table(headers, rows, left=2)


def main() -> int:
    args = parse_args()
    out_dir = args.out.resolve()
    bench_database(out_dir, "pages")

    import django

    django.setup()
    # WhiteNoise warns that STATIC_ROOT (collectstatic's output) is missing: the bench serves no
    # static files, it only renders {% static %} URLs.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings

    urlpatterns[:] = [path(FLOOR_PATH.strip("/") + "/", floor), path("", include("config.urls"))]

    print("Weishi page benchmark (bench/pages.py)")
    print(
        f"Python {platform.python_version()} · Django {django.get_version()} · "
        f"database: {database_description()}"
    )
    started = time.perf_counter()
    prepare_database()
    bulk_proposals(BULK_PROPOSALS, start=0)
    before = data_size()

    pages = [
        Page("floor", FLOOR_PATH),
        Page("home", "/"),
        Page("community", "/c/donghu/"),
        Page("evidence", "/evidence/"),
        Page("residents", "/c/donghu/residents/", signed_in=True),
        Page("proposals", LIST_PATH),
        Page("proposals search", LIST_PATH + "?q=%E8%B7%AF%E7%81%AF&sort=cosigns"),  # q=路灯
        Page("proposal", proposal_path(), optional=True),
    ]
    # Plain static storage: DEBUG off otherwise wants collectstatic's manifest for {% static %}.
    bench_settings = override_settings(
        ROOT_URLCONF=__name__,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )
    with bench_settings:
        staff = Client()
        staff.force_login(
            get_user_model().objects.get(username=STAFF_USERNAME),
            backend="django.contrib.auth.backends.ModelBackend",
        )
        clients = {False: Client(), True: staff}
        pages = skip_unwritten(pages, clients)
        print(f"data: {before}; set-up took {time.perf_counter() - started:.1f} s")
        print(
            f"{args.requests} timed requests per page, round-robin, "
            f"after {args.warmup} warm-up requests each"
        )
        measure(pages, clients, args.requests, args.warmup)
        for page in pages:
            page.queries = count_queries(clients[page.signed_in], page)
        grow_data()
        for page in pages:
            page.queries_grown = count_queries(clients[page.signed_in], page)
    print(f"+data: {data_size()} (re-counted queries)")
    print()
    print_table(pages)
    print()
    print(f"* signed in as {STAFF_USERNAME}.  x floor: the page's median / the floor's median.")
    print("queries: SQL queries of one request; +data: the same after adding data.")

    grew = [p for p in pages if p.queries_grown > p.queries]
    results = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "requests": args.requests,
        "pages": [
            {
                "name": p.name,
                "path": p.path,
                "median_ms": round(p.median_ms, 3),
                "p95_ms": round(p.p95_ms, 3),
                "ratio_to_floor": round(p.median_ms / pages[0].median_ms, 2),
                "queries": p.queries,
                "queries_after_growth": p.queries_grown,
            }
            for p in pages
        ],
    }
    results_file = out_dir / f"pages-{connection.vendor}.json"
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures also written to {results_file}")
    return verdict(
        [
            f"{p.name} ({p.path}): {p.queries} -> {p.queries_grown} queries per request "
            "after adding data: the query count grows with the data."
            for p in grew
        ],
        "OK: no page's query count grows with the data.",
    )


if __name__ == "__main__":
    sys.exit(main())
