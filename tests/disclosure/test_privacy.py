"""Privacy as a test: private fields seeded with unmistakable markers never appear in any
public page, PDF, notice, feed or export — found by walking every public URL an anonymous
visitor can reach by following links, and reading every PDF's text."""

import json
import re
import shutil
import subprocess
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from council import services as council_services
from council.evidence import evidence_integrate, log_head
from council.models import MessageKind, PrivateData, Role, RoleKind
from council.threads import message_post, message_report
from council.tlog.tiles import WIDTH, bundle_decode, tile_path
from disclosure import services
from disclosure.models import Disclosure
from proposals.models import Stage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (poppler-utils)"),
]

# A phone number is one resident's in a district: each gets their own, 1371234 and a count.
PHONE_MARKER = "1371234"
MARKERS = {
    "id_number": "44030119900307671X",
    "address": "隐私标记路9号",
}
REPORT_MARKER = "私密举报理由标记"
HREF = re.compile(r'(?:href|src)="([^"#]+)"')
SKIP = ("/admin/", "/accounts/", "/i18n/", "/static/", "/ws/")
LIMIT = 1500


def _seed(projects, world):
    """Every resident carries the markers (a phone number of their own); the project walks
    every step to evaluated; a message is reported with a private reason; an objection is
    answered."""
    for n, data in enumerate(PrivateData.objects.order_by("pk")):
        council_services.private_data_update(
            actor=world.a_worker1 if data.residency.grid_id == world.a_grid1.pk else (
                world.a_worker2 if data.residency.grid_id == world.a_grid2.pk else world.b_worker
            ),
            private_data=data,
            phone=f"{PHONE_MARKER}{n:04d}",
            **MARKERS,
        )  # fmt: skip
    evaluated = projects.evaluated()
    for draft in Disclosure.objects.filter(status="draft"):
        services.disclosure_publish(actor=world.a_staff, disclosure=draft)
    decision = Disclosure.objects.filter(
        proposal=evaluated, kind="decision", status="published"
    ).first()
    in_progress = projects.in_progress()
    projects.progress(in_progress, 40, "4000.00")
    published = Disclosure.objects.get(proposal=in_progress, kind="decision", status="published")
    assert decision is not None
    projects.council.maker.make(Stage.SUBMITTED)  # gathering co-signs: its A5 sheet
    thread = projects.council.maker.make(Stage.CONSULTATION).thread  # open to messages
    message = message_post(
        actor=world.a_resident.user, thread=thread, body="路灯修好了吗？", kind=MessageKind.COMMENT
    )
    message_report(actor=world.a_member.user, message_id=message.pk, reason=REPORT_MARKER)
    return published


def _texts_of(response) -> tuple[str, str]:
    kind = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "pdf" in kind:
        done = subprocess.run(
            ["pdftotext", "-", "-"], input=body, capture_output=True, check=True, timeout=60
        )
        return "pdf", done.stdout.decode()
    return kind.split(";")[0], body.decode("utf-8", errors="replace")


def test_no_private_data_in_any_public_page_pdf_feed_or_export(projects, world, settings):
    _seed(projects, world)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    start = ["/", "/disclosures/", "/disclosures/feed.atom", "/open-data/", "/statistics/",
             "/evidence/", f"/c/{world.a.slug}/", f"/c/{world.a.slug}/council/"]  # fmt: skip
    queue, seen, kinds = deque(start), set(start), {}
    while queue and len(seen) < LIMIT:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code in (301, 302):
            continue
        # 403: a form an anonymous visitor may not use answers with a clear page.
        assert response.status_code in (200, 403, 404), f"{path}: {response.status_code}"
        if response.status_code == 404:
            continue
        kind, text = _texts_of(response)
        kinds[kind] = kinds.get(kind, 0) + 1
        for name, marker in {**MARKERS, "phone": PHONE_MARKER, "report": REPORT_MARKER}.items():
            assert marker not in text, f"{name} marker found in {path}"
        if kind == "text/html":
            for link in HREF.findall(text):
                url = urljoin(path, link.replace("&amp;", "&"))
                parts = urlsplit(url)
                if parts.netloc or parts.path.startswith(SKIP):
                    continue
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
    # The walk reached every kind of public output (it cannot pass by reading nothing).
    assert kinds.get("text/html", 0) > 30, kinds
    for page in ("/disclosures/", "/projects/", "/ballots/", "/proposals/", "/providers/"):
        assert any(page in path for path in seen), f"no {page} page reached"
    assert kinds.get("pdf", 0) >= 4, kinds
    assert any(path.endswith("/cosign/sheet.pdf") for path in seen), "no co-sign sheet reached"
    assert kinds.get("text/csv", 0) >= 4 and kinds.get("application/json", 0) >= 4, kinds
    assert kinds.get("application/atom+xml", 0) >= 1, kinds


def test_the_phone_pages_show_no_one_elses_number_name_or_address(world):
    """Signing in by phone and the grid worker's lookup by phone: whoever may not read a
    resident's private data learns nothing of it there — not the number typed back, not the
    name or address it belongs to."""
    resident = world.a_resident
    data = PrivateData.objects.get(residency=resident)
    secrets = [data.phone, data.address, resident.user.display_name, resident.user.username]
    find = f"/c/{world.a.slug}/residents/find/"
    pages = []

    stranger = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    pages.append(
        stranger.post(
            "/accounts/login/", {"username": "+86 139 1111 2222", "password": "not-the-password"}
        )
    )
    pages.append(stranger.post(find, {"phone": data.phone}))  # 404
    for who in (world.a_worker2, world.b_worker, world.b_staff, world.a_member.user):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(who)
        pages.append(client.post(find, {"phone": data.phone}))
        pages.append(client.get(find))
    assert [p.status_code for p in pages[:2]] == [200, 404]
    for page in pages:
        text = page.content.decode()
        for secret in secrets:
            assert secret not in text, (page.wsgi_request.path, secret)


def test_no_private_data_nor_a_residents_id_in_the_public_log(projects, world):
    """Every entry of the log, as anyone downloads it (entry bundles): no marker, and a person
    who is not an official only ever as a salted commitment."""
    _seed(projects, world)
    evidence_integrate()
    size = log_head()[0]
    client = Client()
    entries = []
    for index in range((size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - index * WIDTH)
        response = client.get("/log/" + tile_path("entries", index, width))
        assert response.status_code == 200
        entries += bundle_decode(response.content, width)
    assert len(entries) == size > 100
    officials = {
        str(pk)
        for pk in Role.objects.exclude(kind=RoleKind.RESIDENT).values_list("user_id", flat=True)
    }
    for raw in entries:
        text = raw.decode()
        for name, marker in {**MARKERS, "phone": PHONE_MARKER, "report": REPORT_MARKER}.items():
            assert marker not in text, f"{name} marker in entry {text[:80]}"
        entry = json.loads(raw)
        actor = entry["actor"]
        assert (
            actor is None
            or actor.startswith("commit:")
            or (actor.startswith("official:") and actor.removeprefix("official:") in officials)
        ), entry
        assert not re.match(r"council\.user:\d", entry["object"]), entry
