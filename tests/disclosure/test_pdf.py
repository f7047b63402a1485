"""The official PDF of each disclosure (rendered once, at publication, and stored), the
notice-board sheet with its QR codes, the views that serve them, and the one rendering of a
disclosure's content that the PDF and the public page share."""

import hashlib
import re
import shutil
import subprocess
import zlib

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from disclosure import services
from disclosure.models import Disclosure, Kind
from disclosure.pdf import disclosure_pdf, notice_pdf, qr_data_uri

needs_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftotext", "pdffonts", "pdftoppm")),
    reason="needs poppler-utils (pdftotext, pdffonts, pdftoppm)",
)
MAX_BYTES = 300 * 1024


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def flat(text: str) -> str:
    """Text without any whitespace: lines wrap wherever the layout puts them."""
    return re.sub(r"\s+", "", text)


def drawn_segments(data: bytes) -> int:
    """Straight path segments drawn by the PDF's content streams (a QR code's modules are
    drawn as hundreds of them; a page of text and tables as a few dozen)."""
    count = 0
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n", data, re.S):
        header = match.group(1)
        if b"FlateDecode" not in header or b"OpenType" in header or b"Length1" in header:
            continue  # fonts
        end = data.find(b"endstream", match.end())
        try:
            count += zlib.decompress(data[match.end() : end]).count(b" l\n")
        except zlib.error:
            continue
    return count


def published(proposal, kind) -> Disclosure:
    return Disclosure.objects.get(proposal=proposal, kind=kind, status="published")


def publish_draft(projects, proposal, kind) -> Disclosure:
    draft = Disclosure.objects.get(proposal=proposal, kind=kind, status="draft")
    return services.disclosure_publish(actor=projects.staff, disclosure=draft)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Published PDFs go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def decision(projects):
    return published(projects.published(), Kind.DECISION)


# --- The official PDF -------------------------------------------------------------------------


@needs_poppler
def test_decision_pdf_holds_the_official_chinese_record_and_its_hashes(decision, tmp_path):
    data = decision.pdf.read()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data, tmp_path)
    words = flat(text)
    content = decision.content
    assert content["proposal"]["title"] == "更换小区路灯"
    assert "更换小区路灯" in words
    assert "决议结果公开" in words  # the kind, in Chinese
    assert "赞成" in content["ballot"]["sentence"]
    assert flat(content["ballot"]["sentence"]) in words  # the tally's sentence, as stored
    assert "东湖社区" in words
    for vote in content["votes"]:  # roll call: each member by name
        assert vote["name"] in words
    assert "¥11,800.00" in words
    # Every page's footer: the content's SHA-256, the evidence head, where to verify them.
    assert decision.content_sha256 in words
    assert decision.evidence_head in words
    pages = text.count("\f")
    assert words.count(decision.content_sha256) >= pages
    assert f"/disclosures/{decision.pk}/" in words
    assert "/evidence/" in words
    assert "第1页" in words
    assert f"共{pages}页" in words


@needs_poppler
def test_decision_pdf_embeds_a_subset_of_the_cjk_font_and_stays_small(decision, tmp_path):
    data = decision.pdf.read()
    assert len(data) < MAX_BYTES
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line]
    assert cjk, fonts
    for line in cjk:
        name, *_, emb, sub, uni, _obj, _gen = line.split()
        assert re.match(r"^[A-Z]{6}\+Noto-Sans-CJK-SC", name), line  # a subset's tag
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line
    assert all(line.split()[-5:-3] == ["yes", "yes"] for line in fonts), fonts
    # Every character in a Noto face: no DejaVu (or other fallback) beside the Han characters.
    assert all("Noto-Sans" in line for line in fonts), fonts


def test_stored_pdf_is_what_publishing_hashed(decision):
    data = decision.pdf.read()
    assert decision.pdf_sha256 == hashlib.sha256(data).hexdigest()
    stem = f"{decision.community.slug}-{decision.proposal_id}-decision-v1"
    assert decision.pdf.name.endswith(f"/{stem}.pdf")


@needs_poppler
def test_correction_prints_its_note_in_the_header_and_the_body(projects, decision, tmp_path):
    draft = services.disclosure_correct(
        actor=projects.staff, disclosure=decision, note="更正表决日期的笔误。"
    )
    correction = services.disclosure_publish(actor=projects.staff, disclosure=draft)
    text = pdf_text(correction.pdf.read(), tmp_path)
    assert correction.is_correction and correction.version == 2
    assert flat(text).count("更正表决日期的笔误。") >= 2  # running header and the note
    assert correction.content_sha256 in flat(text)


@needs_poppler
def test_implementation_and_result_pdfs_render_their_chinese_content(projects, tmp_path):
    proposal = projects.evaluated()
    implementation = publish_draft(projects, proposal, Kind.IMPLEMENTATION)
    result = publish_draft(projects, proposal, Kind.RESULT)

    words = flat(pdf_text(implementation.pdf.read(), tmp_path))
    assert "实施过程公开" in words
    assert "完成材料采购。" in words and "全部完成，已通过验收。" in words
    assert "阳光社工服务中心" in words
    assert "¥5,000.00" in words and "¥11,800.00" in words
    assert implementation.content_sha256 in words and implementation.evidence_head in words

    words = flat(pdf_text(result.pdf.read(), tmp_path))
    assert "实施结果和评价公开" in words
    assert "社区工作站与居民代表共同验收合格。" in words
    assert "评价期提前结束（测试）" in words
    assert "满意" in words and "25.0%" in words  # 3 evaluations from 12 residents
    assert result.content_sha256 in words and result.evidence_head in words
    for disclosure in (implementation, result):
        assert len(disclosure.pdf.read()) < MAX_BYTES


def test_rendering_again_gives_the_stored_bytes(decision):
    """Nothing in the PDF depends on when it is rendered (no clock, no request): the stored
    file can be reproduced from the published row."""
    assert disclosure_pdf(decision) == decision.pdf.read()


# --- The views ----------------------------------------------------------------------------------


def test_pdf_view_serves_the_stored_file(client, decision):
    response = client.get(reverse("disclosure_pdf", args=[decision.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == decision.pdf_sha256
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline; ")
    ascii_name = f"{decision.community.slug}-{decision.proposal_id}-decision-v1.pdf"
    assert f'filename="{ascii_name}"' in disposition
    assert "filename*=UTF-8''%E6%9B%B4%E6%8D%A2" in disposition  # 更换…
    disposition.encode("ascii")  # a header value: ASCII only
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", "max-age=31536000", "immutable"} <= cache_control
    assert response["ETag"] == f'"{decision.pdf_sha256}"'
    assert response["Repr-Digest"].startswith("sha-256=:")

    again = client.get(
        reverse("disclosure_pdf", args=[decision.pk]), HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304


def test_drafts_and_missing_disclosures_have_no_files(client, projects):
    draft = projects.decision(projects.decided())
    assert draft.status == "draft"
    for name in ("disclosure_pdf", "disclosure_notice"):
        assert client.get(reverse(name, args=[draft.pk])).status_code == 404
        assert client.get(reverse(name, args=[draft.pk + 1000])).status_code == 404
    client.force_login(projects.staff)  # not even to staff: the draft's PDF does not exist yet
    assert client.get(reverse("disclosure_pdf", args=[draft.pk])).status_code == 404


def test_pdf_view_answers_only_reads(client, decision):
    response = client.post(reverse("disclosure_pdf", args=[decision.pk]))
    assert response.status_code == 405


# --- The notice ---------------------------------------------------------------------------------


@needs_poppler
def test_notice_has_a_qr_code_to_the_page_and_renders(client, decision, tmp_path):
    response = client.get(
        reverse("disclosure_notice", args=[decision.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; ")
    data = response.content
    assert len(data) < MAX_BYTES
    words = flat(pdf_text(data, tmp_path))
    page_url = f"http://testserver/disclosures/{decision.pk}/"
    assert page_url in words  # printed under its QR code
    assert "/evaluate/" not in words  # a decision: nothing to evaluate yet
    assert "更换小区路灯" in words and "决议结果公开" in words and "通过" in words
    assert decision.content_sha256 in words and decision.evidence_head in words
    assert drawn_segments(data) > 150  # the QR code's modules

    (tmp_path / "notice.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(tmp_path / "notice.pdf"), str(tmp_path / "page")],
        check=True,
    )
    png = tmp_path / "page-1.png"
    assert png.read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "page-2.png").exists()  # one A4 sheet


@needs_poppler
def test_result_notice_adds_a_qr_code_to_the_evaluation_form(projects, tmp_path):
    proposal = projects.evaluated()
    result = publish_draft(projects, proposal, Kind.RESULT)
    decision = published(proposal, Kind.DECISION)
    page_url = f"https://weishi.example.org/disclosures/{result.pk}/"
    data = notice_pdf(result, page_url)
    words = flat(pdf_text(data, tmp_path))
    evaluate = "https://weishi.example.org" + reverse(
        "evaluate", args=[proposal.community.slug, proposal.pk]
    )
    assert page_url in words
    assert evaluate in words
    assert "实施结果和评价公开" in words and "满意" in words
    single = notice_pdf(decision, f"https://weishi.example.org/disclosures/{decision.pk}/")
    assert drawn_segments(data) > drawn_segments(single) + 150  # a second QR code


@needs_poppler
def test_notice_view_prefers_site_url(client, decision, settings, tmp_path):
    settings.SITE_URL = "https://weishi.example.org/"
    response = client.get(reverse("disclosure_notice", args=[decision.pk]))
    assert response.status_code == 200
    words = flat(pdf_text(response.content, tmp_path))
    assert f"https://weishi.example.org/disclosures/{decision.pk}/" in words
    assert "https://weishi.example.org/evidence/" in words
    # The sheet is cached by its URL: another origin gets its own.
    settings.SITE_URL = ""
    again = client.get(reverse("disclosure_notice", args=[decision.pk]))
    assert f"http://testserver/disclosures/{decision.pk}/" in flat(
        pdf_text(again.content, tmp_path)
    )


@needs_poppler
def test_official_pdf_prints_urls_under_site_url_with_its_prefix(decision, settings, tmp_path):
    settings.SITE_URL = "https://gov.example.cn/weishi/"
    words = flat(pdf_text(disclosure_pdf(decision), tmp_path))
    assert f"https://gov.example.cn/weishi/disclosures/{decision.pk}/" in words
    assert "https://gov.example.cn/weishi/evidence/" in words


def test_qr_code_is_an_svg_data_uri():
    uri = qr_data_uri("https://weishi.example.org/disclosures/1/")
    assert uri.startswith("data:image/svg+xml")
    assert "path" in uri


# --- The one rendering of the content ---------------------------------------------------------


def content_of(kind="decision", **changes):
    content = {
        "schema": 1,
        "kind": kind,
        "kind_label": "决议结果公开",
        "community": "东湖社区",
        "proposal": {
            "id": 1,
            "title": "更换小区路灯",
            "summary": "第一行 <b>不是标记</b>\n第二行",
            "body": "**粗体**\n\n- 一项",
            "project_type": "工程类",
            "sub_kind": "公共设施",
            "location": "幸福路北段",
            "beneficiaries": "约300户居民",
            "proposer": "居民甲",
            "submitted": "2026-03-01",
            "cost": "1234567.50",
        },
        "consultation": {
            "feasible": False,
            "cost_estimate": "18600.00",
            "plan": "先勘查。",
            "opinions": [
                {"expert": "专家乙", "recommendation": "支持", "remarks": "可行", "date": "x"}
            ],
            "opinion_counts": {"支持": 1, "修改后支持": 0, "反对": 0},
        },
        "rules": {"quorum": "2/3", "threshold": "过半数", "secrecy": "无记名表决"},
        "ballot": {
            "id": 1,
            "opened": "2026-03-02",
            "closed": "2026-03-03",
            "base": 5,
            "yes": 3,
            "no": 1,
            "abstain": 1,
            "sentence": "赞成 3 票：通过。",
            "votes_sha256": "a" * 64,
            "closed_early_reason": "",
        },
        "votes": [],
        "outcome": "通过",
        "approved": True,
        "objections": [
            {"lodged": "2026-03-04", "text": "异议<script>", "answer": "", "answered": ""}
        ],
    }
    content.update(changes)
    return content


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_content_renders_the_stored_data_in_any_language(language):
    with translation.override(language):
        html = render_to_string("disclosure/_content.html", {"content": content_of()})
    assert "更换小区路灯" in html and "¥1,234,567.50" in html
    assert "赞成 3 票：通过。" in html
    assert "第一行 &lt;b&gt;不是标记&lt;/b&gt;<br>第二行" in html  # text, never markup
    assert "异议&lt;script&gt;" in html
    assert "<script" not in html
    assert '<th scope="col"' in html and '<th scope="row"' in html
    if language == "en":
        assert "Outcome" in html and "Objections and answers" in html
        assert "Secret ballot" in html  # no roll call to show


def test_content_renders_a_round_decision_and_an_inadmissible_one():
    round_content = content_of(
        ballot=None,
        rules={"quorum": "2/3", "threshold": "无", "secrecy": "记名", "funding_rule": "贪心"},
        round={
            "id": 1,
            "title": "2026年度项目轮次",
            "closed": "2026-05-01",
            "base": 9,
            "participation": 8,
            "money": "2000000.00",
            "spent": "1990000.00",
            "approvals": 3,
            "cost": "50000.00",
            "reason": "剩余资金不足",
            "votes_sha256": "b" * 64,
        },
        outcome="未获资助",
        approved=False,
    )
    with translation.override("en"):
        html = render_to_string("disclosure/_content.html", {"content": round_content})
        assert "2026年度项目轮次" in html and "剩余资金不足" in html and "贪心" in html
        assert "¥2,000,000.00" in html
        inadmissible = content_of(outcome="不予受理", approved=False, objections=[])
        for key in ("consultation", "rules", "ballot", "votes"):
            inadmissible.pop(key)
        inadmissible["inadmissible_reason"] = "属于物业管理职责。"
        html = render_to_string("disclosure/_content.html", {"content": inadmissible})
    assert "属于物业管理职责。" in html and "不予受理" in html


def test_content_renders_a_variance_with_its_sign():
    content = content_of(
        kind="result",
        completion={
            "date": "2026-06-01",
            "acceptance_note": "验收合格",
            "provider": "阳光社工服务中心",
            "budget": "10000.00",
            "actual": "8800.00",
            "variance": "-1200.00",
            "variance_percent": "-12.0",
            "variance_explanation": "招标价低于预算",
        },
        evaluation={
            "opened": "2026-06-01",
            "closed": "2026-06-15",
            "satisfied": 0,
            "basic": 0,
            "dissatisfied": 0,
            "total": 0,
            "paper": 0,
            "residents": 40,
            "participation_percent": "0.0",
            "verdict": "none",
            "verdict_label": "未形成评价",
            "rule": "规则",
            "comments": [],
            "close_reason": "",
        },
    )
    html = render_to_string("disclosure/_content.html", {"content": content})
    assert "-¥1,200.00 (-12.0%)" in html
    with translation.override("zh-hans"):
        chinese = render_to_string("disclosure/_content.html", {"content": content})
    assert "-¥1,200.00（-12.0%）" in chinese
    assert "招标价低于预算" in html and "未形成评价" in html
