"""Gathering co-signs: the proposal's share box (its link and a QR code of it) and the A5
sheet to print, only while the proposal is gathering co-signs."""

import re
import shutil
import subprocess

import pytest
from django.urls import reverse
from weasyprint import HTML

from proposals.models import Stage
from tests.disclosure.test_pdf import flat, needs_poppler, pdf_text

needs_zbar = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("zbarimg", "pdftoppm", "pdfinfo")),
    reason="needs zbar-tools (zbarimg) and poppler-utils",
)
SITE = "https://weishi.example.cn"


def page_of(proposal) -> str:
    return reverse("proposal", args=[proposal.community.slug, proposal.pk])


def sheet_of(proposal) -> str:
    return reverse("proposal_cosign_sheet", args=[proposal.community.slug, proposal.pk])


def qr_codes_in_pdf(data: bytes, tmp_path) -> list[str]:
    """What a phone's camera reads: the PDF's first page as an image, decoded by zbarimg."""
    (tmp_path / "qr.pdf").write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(tmp_path / "qr.pdf"),
         str(tmp_path / "qr")], check=True,
    )  # fmt: skip
    image = next(tmp_path.glob("qr*.png"))
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True
    )
    return found.stdout.split()


def page_size_mm(data: bytes, tmp_path) -> tuple[float, float]:
    (tmp_path / "size.pdf").write_bytes(data)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "size.pdf")], check=True, capture_output=True, text=True
    ).stdout
    width, height = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups()
    return round(float(width) * 25.4 / 72), round(float(height) * 25.4 / 72)


def share_box(html: str) -> str:
    match = re.search(r'<section class="card share".*?</section>', html, re.S)
    return match.group(0) if match else ""


def test_the_share_box_shows_only_while_the_proposal_gathers_co_signs(client, proposals):
    gathering = proposals.make(Stage.SUBMITTED)
    box = share_box(client.get(page_of(gathering)).content.decode())
    assert "复制链接" in box
    assert 'value="http://testserver' + page_of(gathering) + '"' in box
    assert "<svg" in box and "扫码为这份提议附议" in box
    assert sheet_of(gathering) in box

    for stage in (Stage.UNDER_REVIEW, Stage.CONSULTATION):
        later = proposals.make(stage)
        html = client.get(page_of(later)).content.decode()
        assert share_box(html) == "" and "复制链接" not in html
        assert client.get(sheet_of(later)).status_code == 404


def test_a_draft_has_no_share_box_nor_sheet_even_for_its_proposer(client, world, proposals):
    draft = proposals.make(Stage.DRAFT)
    client.force_login(world.a_resident.user)
    assert share_box(client.get(page_of(draft)).content.decode()) == ""
    assert client.get(sheet_of(draft)).status_code == 404


def test_the_copy_button_is_javascript_from_the_site_and_the_link_selectable_without_it(
    client, proposals
):
    response = client.get(page_of(proposals.make(Stage.SUBMITTED)))
    box = share_box(response.content.decode())
    assert re.search(r'<script src="/static/js/share\.js[^"]*" nonce="[^"]+" defer></script>', box)
    assert re.search(r"<input[^>]*readonly[^>]*data-share-url", box)
    assert "onclick" not in box
    script_src = response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert "'unsafe-inline'" not in script_src


@needs_zbar
def test_the_page_qr_code_reads_as_the_proposal_page_address(client, settings, proposals, tmp_path):
    settings.SITE_URL = SITE
    gathering = proposals.make(Stage.SUBMITTED)
    box = share_box(client.get(page_of(gathering)).content.decode())
    svg = re.search(r"<svg.*?</svg>", box, re.S).group(0)
    pdf = HTML(string=f"<html><body><div style='width:60mm'>{svg}</div></body></html>").write_pdf()
    assert qr_codes_in_pdf(pdf, tmp_path) == [SITE + page_of(gathering)]


@needs_poppler
@needs_zbar
def test_the_a5_sheet_has_the_title_threshold_deadline_and_a_qr_code_of_the_page(
    client, settings, world, proposals, tmp_path
):
    settings.SITE_URL = SITE
    gathering = proposals.make(Stage.SUBMITTED)
    response = client.get(sheet_of(gathering))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    data = response.content
    words = flat(pdf_text(data, tmp_path))
    closes = world.a.collection_closes
    assert flat(gathering.title) in words
    assert flat(gathering.summary) in words
    assert f"{world.a.cosign_threshold}位居民" in words
    assert f"还差{world.a.cosign_threshold}位" in words
    assert f"{closes.year}年{closes.month}月{closes.day}日" in words
    assert "扫码为这份提议附议" in words
    assert page_size_mm(data, tmp_path) == (148, 210)  # A5
    assert qr_codes_in_pdf(data, tmp_path) == [SITE + page_of(gathering)]


@needs_poppler
def test_neither_the_sheet_nor_the_share_box_shows_the_proposers_contact_details(
    client, world, proposals, tmp_path
):
    gathering = proposals.make(Stage.SUBMITTED)
    private = world.a_resident.private_data
    box = share_box(client.get(page_of(gathering)).content.decode())
    words = flat(pdf_text(client.get(sheet_of(gathering)).content, tmp_path))
    for secret in (private.phone, private.address, private.id_number):
        assert flat(secret) not in words
        assert secret not in box
