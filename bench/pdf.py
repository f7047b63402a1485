"""PDF benchmark: the official decision PDF (time, size) and the SQL queries of the disclosure
pages as the number of published disclosures grows.

Run from the repository root::

    .venv/bin/python bench/pdf.py [--renders N] [--keep]

It builds its own throwaway SQLite database and media folder in a temporary directory
(``config.settings`` with ``DEBUG=1``), migrates it, loads ``seed_demo``, drafts the demo's
decisions and publishes one through ``disclosure.services.disclosure_publish`` (which renders and
stores its PDF). Then it prints:

- the decision PDF's render time: the first render in a new process (cold: fonts, templates
  and the stylesheet are loaded) and the median of ``--renders`` warm renders of ``disclosure_pdf``
  (default 20), against a floor (WeasyPrint rendering one Chinese paragraph, interleaved with
  them: the machine is shared and noisy, compare the ratio), the notice-board sheet's
  (``notice_pdf``) warm render, and the PDF's size;
- the SQL queries of one request (``django.test.Client``, ``CaptureQueriesContext``) of the
  disclosure index (``/disclosures/``) and of a project's page (``/c/<slug>/projects/<pk>/``),
  with 50 and then 5,000 published disclosures (bulk-created, with plausible content, proposals,
  completions, evaluation windows and progress updates; the measured project gains versions and
  updates too), and whether the count stays constant.

A page that still answers 404 (not written yet) is reported as "page not ready". The script exits
1 if the PDF is 300 KB or more, if a page's query count grows with the data, or if a page
answers anything but 200 or 404.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from decimal import Decimal
from pathlib import Path

from _harness import REPO_DIR, django_in_process

MAX_PDF_BYTES = 300 * 1024
SIZES = (50, 5000)  # published disclosures when the pages' queries are counted
EXTRA_VERSIONS = 9  # implementation versions the measured project gains before the second count
UPDATES = (2, 30)  # progress updates of the measured project at each size


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=20, help="warm renders (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    # Internal: render one published disclosure in a fresh process (the cold render).
    parser.add_argument("--cold-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.renders < 1:
        parser.error("--renders must be at least 1")
    return args


def configure_environment(work: Path) -> None:
    """A throwaway database and media folder; before django.setup()."""
    django_in_process(
        debug=True, SQLITE_PATH=str(work / "pdf.sqlite3"), MEDIA_ROOT=str(work / "media")
    )
    os.environ.pop("DATABASE_URL", None)


def prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())


def staff_of(community):
    from council.models import RoleKind

    return community.roles.filter(kind=RoleKind.STAFF).order_by("pk").first().user


def draft_decision():
    """A draft decision of the demo (approved by a roll-call ballot if there is one; the demo
    publishes some decisions itself)."""
    from disclosure import services
    from disclosure.models import Disclosure, Kind

    services.decisions_draft_due()
    drafts = Disclosure.objects.filter(kind=Kind.DECISION, status="draft").select_related(
        "community", "proposal"
    )
    for draft in drafts.order_by("pk"):
        if draft.content.get("approved") and draft.content.get("votes"):
            return draft
    draft = drafts.order_by("pk").first()
    if draft is None:
        sys.exit("seed_demo left no decided proposal to publish a decision of.")
    return draft


FLOOR_HTML = (
    '<html lang="zh-CN"><body style="font-family: \'Noto Sans CJK SC\'">'
    "<p>幸福路北段三盏路灯损坏，夜间行走不便。</p></body></html>"
)


def render_floor() -> bytes:
    from weasyprint import HTML

    return HTML(string=FLOOR_HTML).write_pdf()


def pdf_pages(data: bytes) -> str:
    """How many pages, as ``pdfinfo`` says (if poppler-utils is installed)."""
    if not shutil.which("pdfinfo"):
        return "pages: ?"
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=False)
    found = re.search(rb"^Pages:\s+(\d+)", info.stdout, re.M)
    return f"{int(found.group(1))} pages" if found else "pages: ?"


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    value = function(*args)
    return time.perf_counter() - start, value


def cpu_timed(function, *args) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, value): on a busy machine the CPU time is
    closer to what the render costs on an idle one."""
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return time.perf_counter() - start, time.process_time() - cpu, value


# --- Bulk data ------------------------------------------------------------------------------


class Bulk:
    """Published disclosures written with ``bulk_create``: bench data for reading pages, not a
    walk through the services. Each bulk project is evaluated, with a completion, a closed
    evaluation window, two progress updates (one with a photo row) and its three disclosures;
    their content is modelled on the real decision's, with the sha fields of real ones."""

    def __init__(self, template):
        from council.evidence import evidence_head
        from disclosure.models import Disclosure, Provider

        self.template = template  # the published decision: its file, its time
        # The content is modelled on an approved decision (bulk projects are all evaluated).
        self.model = (
            Disclosure.objects.filter(
                community=template.community,
                kind="decision",
                status="published",
                content__approved=True,
            )
            .order_by("pk")
            .first()
            or template
        )
        self.community = template.community
        self.staff = staff_of(self.community)
        self.head = evidence_head()[1]
        self.provider, _ = Provider.objects.get_or_create(
            district_id=self.community.sub_district.district_id,
            name="阳光社工服务中心（基准）",
            defaults={
                "kind": "social_organisation",
                "registered_on": dt.date(2020, 1, 1),
                "rating": "AAAA",
            },
        )
        self.count = 0  # bulk projects made so far
        self.measured = None  # the project whose page is counted

    def content(self, kind: str, proposal, n: int) -> dict:
        from disclosure.models import Kind

        base = copy.deepcopy(self.model.content)
        base["kind"] = kind
        base["kind_label"] = str(Kind(kind).label)
        base["proposal"].update(
            id=proposal.pk,
            title=proposal.title,
            summary=proposal.summary,
            body=proposal.body,
            cost=f"{proposal.estimated_cost:.2f}",
        )
        if kind == "decision":
            return base
        for key in ("consultation", "rules", "ballot", "round", "votes", "outcome", "approved"):
            base.pop(key, None)
        base.pop("objections", None)
        cost = proposal.estimated_cost
        if kind == "implementation":
            base["updates"] = [
                {
                    "id": n * 10 + i,
                    "date": (dt.date(2026, 3, 1) + dt.timedelta(days=i * 7)).isoformat(),
                    "text": text,
                    "percent": percent,
                    "spent": f"{cost * percent / 100:.2f}",
                    "provider": self.provider.name,
                    "provider_kind": "社会组织",
                    "photos": i,
                    "imported": False,
                }
                for i, (text, percent) in enumerate([("完成材料采购。", 50), ("全部完成。", 100)])
            ]
            base["percent"] = 100
            base["spent"] = f"{cost:.2f}"
            return base
        base["completion"] = {
            "date": "2026-04-01",
            "acceptance_note": "社区工作站与居民代表共同验收合格。",
            "provider": self.provider.name,
            "budget": f"{cost:.2f}",
            "actual": f"{cost:.2f}",
            "variance": "0.00",
            "variance_percent": "0.0",
            "variance_explanation": "",
        }
        base["evaluation"] = {
            "opened": "2026-04-01",
            "closed": "2026-04-15",
            "satisfied": 20 + n % 7,
            "basic": 5,
            "dissatisfied": n % 3,
            "total": 25 + n % 7 + n % 3,
            "paper": 3,
            "residents": 400,
            "participation_percent": f"{(25 + n % 7 + n % 3) / 4:.1f}",
            "verdict": "satisfied",
            "verdict_label": "满意",
            "rule": "满意超过半数为满意；满意与基本满意合计超过半数为基本满意；否则为不满意。",
            "comments": [{"rating": "满意", "comment": "灯亮了，晚上出门放心多了。"}],
            "close_reason": "",
        }
        return base

    def disclosure(self, proposal, kind: str, version: int, n: int, previous=None):
        from disclosure.models import Disclosure, Kind
        from disclosure.services._common import content_sha256

        content = self.content(kind, proposal, n)
        published = self.template.published_at - dt.timedelta(hours=n, minutes=version)
        return Disclosure(
            community=self.community,
            proposal=proposal,
            kind=kind,
            version=version,
            previous=previous,
            note="补充新的进展。" if version > 1 else "",
            status="published",
            title=f"{proposal.title} · {Kind(kind).label}",
            content=content,
            content_sha256=content_sha256(content),
            evidence_head=self.head,
            # Every bulk row points at the real decision's file: the pages may read its size.
            pdf=self.template.pdf.name,
            pdf_sha256=self.template.pdf_sha256,
            drafted_at=published - dt.timedelta(hours=1),
            published_at=published,
            published_by=self.staff,
        )

    def projects(self, count: int) -> list:
        from disclosure.models import Completion, EvaluationWindow
        from proposals.models import Proposal, SubKind

        start, self.count = self.count, self.count + count
        titles = ("更换楼道灯", "加装休闲座椅", "儿童阅读角", "长者助餐", "修补人行道")
        proposals = Proposal.objects.bulk_create(
            Proposal(
                community=self.community,
                proposer=self.template.proposal.proposer,
                title=f"{titles[n % len(titles)]}（基准{n}号）",
                summary=f"第{n}号：{titles[n % len(titles)]}，居民反映多年，希望今年解决。",
                body=f"第{n}号提议的说明。\n\n- 现状\n- 建议\n",
                body_html=f"<p>第{n}号提议的说明。</p><ul><li>现状</li><li>建议</li></ul>",
                project_type=("engineering", "service", "goods")[n % 3],
                sub_kind=SubKind.values[n % len(SubKind.values)],
                location="幸福里小区",
                beneficiaries="幸福里小区居民",
                estimated_cost=Decimal(1000 + (n * 7919) % 190_000),
                stage="evaluated",
                submitted_at=self.template.published_at - dt.timedelta(days=60, hours=n),
                stage_changed_at=self.template.published_at - dt.timedelta(hours=n),
            )
            for n in range(start, start + count)
        )
        when = self.template.published_at - dt.timedelta(days=20)
        Completion.objects.bulk_create(
            Completion(
                proposal=p,
                acceptance_note="验收合格。",
                acceptance_html="<p>验收合格。</p>",
                budget=p.estimated_cost,
                actual=p.estimated_cost,
                provider=self.provider,
                recorded_by=self.staff,
                recorded_at=when,
            )
            for p in proposals
        )
        EvaluationWindow.objects.bulk_create(
            EvaluationWindow(
                proposal=p, opens_at=when, closes_at=when + dt.timedelta(days=14),
                closed_at=when + dt.timedelta(days=14), satisfied=20, basic=5, dissatisfied=1,
                residents=400, verdict="satisfied",
            )
            for p in proposals
        )  # fmt: skip
        for p in proposals:
            self.updates(p, 2)
        if self.measured is None:
            self.measured = proposals[0]
        return proposals

    def updates(self, proposal, count: int, start: int = 0) -> None:
        from disclosure.models import ProgressPhoto, ProgressUpdate

        updates = ProgressUpdate.objects.bulk_create(
            ProgressUpdate(
                proposal=proposal,
                date=dt.date(2026, 3, 1) + dt.timedelta(days=i),
                text=f"第{i + 1}次进展：按计划施工。",
                text_html=f"<p>第{i + 1}次进展：按计划施工。</p>",
                percent=min(100, (i + 1) * 100 // max(count + start, 1)),
                spent=Decimal(100 * (i + 1)),
                provider=self.provider,
                created_by=self.staff,
            )
            for i in range(start, start + count)
        )
        ProgressPhoto.objects.bulk_create(
            ProgressPhoto(
                update=u,
                image=f"progress/bench/{u.pk}.jpg",
                thumbnail=f"progress/thumbs/bench/{u.pk}.jpg",
                name=f"{u.pk}.jpg",
            )
            for u in updates
            if u.pk % 2 == 0
        )

    def grow_to(self, total: int) -> None:
        """Add bulk projects and their disclosures until ``total`` disclosures are published."""
        from disclosure.models import Disclosure

        missing = total - Disclosure.objects.filter(status="published").count()
        if missing <= 0:
            return
        proposals = self.projects(-(-missing // 3))
        rows = []
        for n, p in enumerate(proposals, self.count - len(proposals)):
            for kind in ("decision", "implementation", "result"):
                if len(rows) < missing:
                    rows.append(self.disclosure(p, kind, 1, n))
        Disclosure.objects.bulk_create(rows, batch_size=500)

    def grow_measured(self) -> int:
        """More versions and updates for the measured project: its page must not grow in
        queries either. Returns how many disclosures were added."""
        from disclosure.models import Disclosure

        previous = Disclosure.objects.get(proposal=self.measured, kind="implementation", version=1)
        for version in range(2, 2 + EXTRA_VERSIONS):
            row = self.disclosure(self.measured, "implementation", version, 0, previous)
            row.save()
            previous = row
        self.updates(self.measured, UPDATES[1] - UPDATES[0], start=UPDATES[0])
        return EXTRA_VERSIONS


# --- Query counts -----------------------------------------------------------------------------


def count_queries(client, path: str) -> tuple[int | None, str]:
    """(queries, note) of one GET of ``path``; (None, why) if it does not answer 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    try:
        status = client.get(path).status_code  # untimed: lazy loads of a first request
        if status == 404:
            return None, "page not ready"
        if status != 200:
            return None, f"answered {status}"
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path).status_code
    except Exception as error:  # the page is being written: report, don't crash
        traceback.print_exc(limit=3)
        return None, f"raised {type(error).__name__}"
    if status != 200:
        return None, f"answered {status}"
    return len(captured.captured_queries), ""


def cold_child(pk: int) -> int:
    """In a new process on the parent's database (its environment is inherited): time the
    first render of disclosure ``pk``, then a second one, and print both in seconds."""
    import django

    django.setup()
    from disclosure.models import Disclosure
    from disclosure.pdf import disclosure_pdf

    disclosure = Disclosure.objects.select_related("community", "proposal").get(pk=pk)
    first, _ = timed(disclosure_pdf, disclosure)
    second, _ = timed(disclosure_pdf, disclosure)
    print(f"{first:.6f} {second:.6f}")
    return 0


def cold_render(pk: int) -> tuple[float, float] | None:
    """(first, second) render seconds of a fresh process; None if it failed."""
    child = subprocess.run(
        [sys.executable, __file__, "--cold-child", str(pk)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_DIR,
    )
    try:
        first, second = (float(x) for x in child.stdout.split()[-2:])
    except ValueError:
        print(child.stderr[-2000:], file=sys.stderr)
        return None
    return first, second


def main() -> int:
    args = parse_args()
    if args.cold_child:
        return cold_child(args.cold_child)
    work = Path(tempfile.mkdtemp(prefix="weishi-bench-pdf-"))
    configure_environment(work)
    try:
        return run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

    from django.test import Client
    from django.urls import reverse

    from disclosure import services
    from disclosure.models import Disclosure
    from disclosure.pdf import disclosure_pdf, notice_pdf, page_url_for

    print("Weishi PDF benchmark (bench/pdf.py)")
    started = time.perf_counter()
    prepare_database()
    draft = draft_decision()
    print(f"set-up (migrate, seed_demo) took {time.perf_counter() - started:.1f} s")

    staff = staff_of(draft.community)
    publish_s, _ = timed(lambda: services.disclosure_publish(actor=staff, disclosure=draft))
    decision = Disclosure.objects.select_related("community", "proposal").get(pk=draft.pk)
    size = decision.pdf.size
    # Cold: the first render of a new process (seed_demo may have rendered PDFs in this one).
    cold = cold_render(decision.pk)
    # Interleaved with the warm renders, so that the machine's noise hits both alike: the floor,
    # WeasyPrint rendering one Chinese paragraph in Noto Sans CJK SC (a one-page PDF).
    warm, warm_cpu, floor = [], [], []
    for _ in range(args.renders):
        seconds, cpu, data = cpu_timed(disclosure_pdf, decision)
        warm.append(seconds)
        warm_cpu.append(cpu)
        floor.append(timed(render_floor)[0])
    page_url = page_url_for(decision)
    notice_times = []
    for _ in range(max(3, args.renders // 4)):
        seconds, notice = timed(notice_pdf, decision, page_url)
        notice_times.append(seconds)

    warm_ms, floor_ms = statistics.median(warm) * 1000, statistics.median(floor) * 1000
    page_count = pdf_pages(data)
    print()
    print(f"decision PDF of “{decision.proposal.title}” ({decision.community.name}), {page_count}:")
    if cold:
        first, second = cold[0] * 1000, cold[1] * 1000
        print(f"  cold first render         {first:7.0f} ms  (a new process; then {second:.0f} ms)")
    else:
        print("  cold first render         (failed, see above)")
    print(f"  warm render, median       {warm_ms:7.0f} ms  ({args.renders} renders)")
    print(f"  warm render, CPU median   {statistics.median(warm_cpu) * 1000:7.0f} ms")
    print(f"  floor, median             {floor_ms:7.0f} ms  (x floor: {warm_ms / floor_ms:.1f})")
    print(f"  publish, with its render  {publish_s * 1000:7.0f} ms")
    print(f"  size                      {size / 1024:7.1f} KB  (limit {MAX_PDF_BYTES // 1024} KB)")
    notice_ms = statistics.median(notice_times) * 1000
    print(f"notice sheet: warm render median {notice_ms:.0f} ms, {len(notice) / 1024:.1f} KB")
    if args.keep:
        (work / "decision.pdf").write_bytes(data)
        (work / "notice.pdf").write_bytes(notice)

    bulk = Bulk(decision)
    client = Client()
    rows = []
    for step, total in enumerate(SIZES):
        bulk.grow_to(total if step == 0 else total - EXTRA_VERSIONS)
        if step == 1:
            bulk.grow_measured()
        published = Disclosure.objects.filter(status="published").count()
        pages = {
            "index": reverse("disclosure_index"),
            "project": reverse("project", args=[bulk.community.slug, bulk.measured.pk]),
        }
        rows.append((published, {name: count_queries(client, p) for name, p in pages.items()}))

    print()
    print(f"SQL queries of one request, with {rows[0][0]} and then {rows[1][0]} published")
    print("disclosures (the measured project: 3, then 12 versions; 2, then 30 updates):")
    print(f"  {'page':8} {'path':34} {rows[0][0]:>6} {rows[1][0]:>6}  constant")
    failed = size >= MAX_PDF_BYTES
    for name, path in pages.items():
        (small, note_small), (large, note_large) = rows[0][1][name], rows[1][1][name]
        if small is None or large is None:
            note = note_small or note_large
            print(f"  {name:8} {path:34} {'—':>6} {'—':>6}  {note}")
            failed |= note != "page not ready"
            continue
        constant = small == large
        failed |= not constant
        print(f"  {name:8} {path:34} {small:6d} {large:6d}  {'yes' if constant else 'no'}")
    print(f"(took {time.perf_counter() - started:.1f} s in all)")
    if size >= MAX_PDF_BYTES:
        print(f"FAIL: the decision PDF is {size / 1024:.1f} KB, not under 300 KB.", file=sys.stderr)
    if failed:
        print("FAIL: see above.", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
