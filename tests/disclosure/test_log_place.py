"""The proof panel of a published disclosure's page: where its publication entry stands in the
evidence log (its number, the first signed checkpoint that includes it) and the 「验证」 button
that checks it in the browser (tests/e2e/test_log_check.py clicks it)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from council.evidence import evidence_integrate
from council.models import Checkpoint
from disclosure import selectors
from disclosure.models import Disclosure, Kind

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch):
    """WeasyPrint takes a second a PDF; these tests read pages, not PDFs."""
    monkeypatch.setattr(
        "disclosure.services.publishing._render_pdf", lambda disclosure: b"%PDF-1.7 test\n"
    )


def decision_published(projects) -> Disclosure:
    proposal = projects.published()
    return Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="published")


def page(client, disclosure, **extra) -> str:
    response = client.get(reverse("disclosure", args=[disclosure.pk]), **extra)
    assert response.status_code == 200
    return response.content.decode()


def text(html: str) -> str:
    """The page's words as a person reads them: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_until_the_log_places_the_entry_the_page_says_it_is_being_added_and_offers_no_check(
    projects, client
):
    disclosure = decision_published(projects)
    html = page(client, disclosure, **EN)
    assert "Being added to the log: reload this page in a minute to check it." in html
    assert "data-log-check" not in html, "nothing to check yet"
    assert "First checkpoint that includes it" not in html
    place = selectors.disclosure_log_place(disclosure)
    assert place.index is None and not place.in_checkpoint


def test_once_placed_the_page_gives_the_entry_number_its_index_and_the_checkpoint(projects, client):
    disclosure = decision_published(projects)
    evidence_integrate()
    disclosure.refresh_from_db()
    index = disclosure.published_event.seq - 1
    checkpoint = Checkpoint.objects.order_by("-size").first()
    assert checkpoint.size > index

    words = text(page(client, disclosure, **EN))
    assert f"No. {index + 1} (number {index} in the log's files, which count from 0)" in words
    assert f"covering the first {checkpoint.size} entries." in words
    assert checkpoint.root in words
    assert disclosure.evidence_head in words  # the log's root hash at publication, kept
    assert "Root hash of the evidence log at publication" in words
    assert "Evidence log head" not in words

    chinese = text(page(client, disclosure))
    assert f"第 {index + 1} 条" in chinese
    assert "发布时存证记录的根哈希值" in chinese
    assert f"前 {checkpoint.size} 条记录" in chinese


def test_the_panel_names_the_first_checkpoint_that_included_the_entry_not_a_later_one(
    projects, client
):
    first = decision_published(projects)
    evidence_integrate()
    including_first = Checkpoint.objects.order_by("-size").first()
    second = decision_published(projects)
    evidence_integrate()
    latest = Checkpoint.objects.order_by("-size").first()
    assert latest.size > including_first.size

    first_page = text(page(client, first, **EN))
    assert including_first.root in first_page
    assert latest.root not in first_page
    second.refresh_from_db()
    assert selectors.disclosure_log_place(second).checkpoint_size == latest.size
    assert latest.root in text(page(client, second, **EN))


def test_the_check_button_gets_the_leaf_index_and_content_hash_and_its_words_in_the_pages_language(
    projects, client
):
    disclosure = decision_published(projects)
    evidence_integrate()
    disclosure.refresh_from_db()
    index = disclosure.published_event.seq - 1

    html = page(client, disclosure)
    box = re.search(r"<div class=\"log-check\" data-log-check hidden[^>]*>", html).group(0)
    assert f'data-leaf-index="{index}"' in box
    assert f'data-content-sha256="{disclosure.content_sha256}"' in box
    assert f'data-checkpoint-url="{reverse("log_checkpoint")}"' in box
    assert f'data-key-url="{reverse("log_key")}"' in box
    # A script file of its own, allowed by the page's nonce; no inline script.
    script = re.search(r'<script src="[^"]*js/log-check\.js" nonce="([^"]+)" defer>', html)
    assert script and script.group(1)
    assert ">验证</button>" in html
    assert "本页内容的哈希值在存证记录第 {number} 条中" in html
    assert reverse("evidence") in html  # how to check with a key from a second source

    english = page(client, disclosure, **EN)
    assert ">Verify</button>" in english
    assert "The hash of this page's content is in entry No. {number}" in english


def test_a_draft_has_no_log_place(projects):
    draft = projects.decision(projects.decided())
    assert selectors.disclosure_log_place(draft) is None


def test_the_panel_takes_the_same_queries_pending_placed_or_after_many_checkpoints(
    projects, client
):
    def count(disclosure) -> int:
        with CaptureQueriesContext(connection) as ctx:
            page(client, disclosure)
        return len(ctx.captured_queries)

    disclosure = decision_published(projects)
    pending = count(disclosure)
    evidence_integrate()
    placed = count(disclosure)
    for _ in range(4):  # more entries and more checkpoints after it
        decision_published(projects)
        evidence_integrate()
    assert Checkpoint.objects.count() >= 5
    assert count(disclosure) == placed == pending
