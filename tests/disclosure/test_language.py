"""Dates, numbers and money follow the reader's language; the official record stays Chinese."""

import re
import subprocess

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
