"""Dates, numbers and money follow the reader's language; the official record stays Chinese."""

import re
import subprocess
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from council.money import format_yuan
from disclosure.models import Disclosure, Kind

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _published_decision(projects) -> Disclosure:
    proposal = projects.published(cost=None)
    return Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="published")


def _formatted(moment, language: str) -> str:
    with translation.override(language):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def test_the_publication_time_is_written_the_readers_way(projects, client):
    decision = _published_decision(projects)
    url = reverse("disclosure", args=[decision.pk])
    chinese = client.get(url).content.decode()
    english = client.get(url, **EN).content.decode()
    zh_when, en_when = (
        _formatted(decision.published_at, "zh-hans"),
        _formatted(decision.published_at, "en"),
    )
    assert zh_when != en_when
    moment = timezone.localtime(decision.published_at)
    # 2026年11月29日 in Chinese; Nov. 29, 2026 in English.
    assert f"{moment.year}年{moment.month}月{moment.day}日" in zh_when
    assert zh_when in chinese and en_when not in chinese
    assert en_when in english and zh_when not in english


def test_money_reads_as_yuan_with_thousands_separators_in_both_languages(projects, client):
    decision = _published_decision(projects)
    url = reverse("disclosure", args=[decision.pk])
    amount = format_yuan(decision.proposal.counted_cost)
    assert re.fullmatch(r"¥\d{1,3}(,\d{3})*\.\d{2}", amount), amount
    assert amount in client.get(url).content.decode()
    assert amount in client.get(url, **EN).content.decode()


def test_the_pdf_is_the_chinese_record_whatever_the_readers_language(projects, client, tmp_path):
    decision = _published_decision(projects)
    response = client.get(reverse("disclosure_pdf", args=[decision.pk]), **EN)
    assert response.status_code == 200
    pdf = tmp_path / "decision.pdf"
    pdf.write_bytes(b"".join(response.streaming_content))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "第 1 页" in text
    assert decision.proposal.title in text
    assert "决议" in text
    # The English page says the content below is the Chinese record, labels translated.
    page = client.get(reverse("disclosure", args=[decision.pk]), **EN).content.decode()
    assert "The official record is the Chinese text" in page


# --- Completeness in practice: a Chinese page shows no English sentence -----------------------

# Words that stay Latin in Chinese text: names of formats, standards and the product.
LATIN_ALLOWED = {
    "SHA",
    "CSV",
    "JSON",
    "Atom",
    "PDF",
    "Weishi",
    "Pabulib",
    "Equal",
    "Shares",
    "YYYY",
    "MM",
    "DD",
}
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{3,}(?:[ ,'’-]+[A-Za-z]{2,}){1,}")


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes (not scripts or styles) and the
    attributes assistive technology reads aloud."""

    SPOKEN = {"alt", "title", "aria-label", "placeholder"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "code", "pre"}:
            self._skip += 1
        self.parts += [value for name, value in attrs if name in self.SPOKEN and value]

    def handle_endtag(self, tag):
        if tag in {"script", "style", "code", "pre"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _english_runs(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    runs = []
    for part in parser.parts:
        for match in ENGLISH_RUN.finditer(part):
            words = set(re.findall(r"[A-Za-z]+", match.group()))
            if not words <= LATIN_ALLOWED:
                runs.append(match.group())
    return runs


def test_chinese_pages_show_no_untranslated_english(projects, client):
    evaluated = projects.evaluated()
    decision = Disclosure.objects.filter(proposal=evaluated, status="published").first()
    slug = evaluated.community.slug
    anonymous = [
        "/",
        reverse("proposal_list", args=[slug]),
        reverse("proposal", args=[slug, evaluated.pk]),
        reverse("project", args=[slug, evaluated.pk]),
        reverse("disclosure", args=[decision.pk]),
        reverse("disclosure_index"),
        reverse("statistics_district"),
        reverse("open_data"),
        reverse("evidence"),
        reverse("council_page", args=[slug]),
    ]
    staff = [reverse("staff_queue", args=[slug]), f"/c/{slug}/residents/"]
    found = {}
    for url in anonymous:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = _english_runs(response.content.decode())
    client.force_login(projects.staff)
    for url in staff:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = _english_runs(response.content.decode())
    assert {url: runs for url, runs in found.items() if runs} == {}
