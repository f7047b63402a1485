"""Plain text reads exactly as it was typed — ``AT&T <b>bold</b>`` is those characters — on
every page, in every PDF, in the feed and in open data."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from council import clock
from council.sanitiser import render_plain
from disclosure import services
from disclosure.models import Disclosure, Kind
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from voting import services as voting_services

from .test_pdf import flat, needs_poppler, pdf_text

MARKUP = "AT&T <b>bold</b> &lt;i&gt; 5 > 3"


def typed(field: str) -> str:
    """What a person typed in one field: its own label, then text full of markup."""
    return f"{field}: {MARKUP}"


class _Text(HTMLParser):
    """The text a reader sees: character data, a line break for each <br>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.parts.append("\n")
        self.skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style", "title")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def seen(markup: str) -> str:
    parser = _Text()
    parser.feed(str(markup))
    parser.close()
    return "".join(parser.parts)


def test_plain_text_keeps_every_character_escaped():
    html_out = render_plain("AT&T <b>bold</b>\n&amp;lt; https://example.org/?a=1&b=2")
    assert "<b>" not in html_out
    assert seen(html_out) == "AT&T <b>bold</b>\n&amp;lt; https://example.org/?a=1&b=2"
    assert 'href="https://example.org/?a=1&amp;b=2"' in html_out


@given(st.text(alphabet=st.characters(exclude_characters="\x00\r", codec="utf-8"), max_size=200))
def test_any_plain_text_reads_back_exactly(text):
    html_out = str(render_plain(text))
    assert seen(html_out) == text
    assert "<script" not in html_out.lower()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _publish_draft(projects, proposal, kind) -> Disclosure:
    draft = Disclosure.objects.get(proposal=proposal, kind=kind, status="draft")
    return services.disclosure_publish(actor=projects.staff, disclosure=draft)


def _page(client, url) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200, url
    return seen(response.content.decode())


@needs_poppler
def test_text_typed_in_plain_fields_reads_the_same_on_pages_pdfs_feed_and_open_data(
    projects, client, tmp_path
):
    staff, world, council = projects.staff, projects.world, projects.council
    # A project through every step, each plain-text field typed full of markup.
    ballot = council.ballot(council.proposal(title=typed("title")))
    council.vote(ballot, ["yes"] * 4 + ["abstain"])
    voting_services.ballot_close(actor=staff, ballot=ballot, reason=typed("closing"))
    services.decisions_draft_due()
    proposal = Proposal.objects.get(pk=ballot.proposal_id)
    decision = _publish_draft(projects, proposal, Kind.DECISION)
    objection = services.objection_lodge(
        actor=world.a_resident.user, disclosure=decision, text=typed("objection")
    )
    services.objection_answer(actor=staff, objection=objection, answer=typed("answer"))
    decision = _publish_draft(projects, proposal, Kind.DECISION)
    with clock.travel(dt.timedelta(days=6)):
        services.implementations_start_due()
    projects.progress(proposal, 100, "11800.00", text=typed("progress"))
    services.completion_record(
        actor=staff,
        proposal=proposal,
        acceptance_note=typed("acceptance"),
        actual=Decimal("11800.00"),
        provider=projects.provider,
    )
    implementation = _publish_draft(projects, proposal, Kind.IMPLEMENTATION)
    # And one declared inadmissible, with its reason.
    refused = projects.council.maker.make(Stage.UNDER_REVIEW, title=typed("refused title"))
    proposal_move(
        actor=staff, proposal=refused, move=Move.DECLARE_INADMISSIBLE, reason=typed("reason")
    )
    services.decisions_draft_due()
    inadmissible = _publish_draft(projects, refused, Kind.DECISION)

    slug = world.a.slug
    pages = {
        "project": _page(client, reverse("project", args=[slug, proposal.pk])),
        "decision": _page(client, reverse("disclosure", args=[decision.pk])),
        "implementation": _page(client, reverse("disclosure", args=[implementation.pk])),
        "refused project": _page(client, reverse("project", args=[slug, refused.pk])),
        "refused proposal": _page(client, reverse("proposal", args=[slug, refused.pk])),
        "inadmissible": _page(client, reverse("disclosure", args=[inadmissible.pk])),
    }
    pdfs = {
        name: flat(pdf_text(d.pdf.read(), tmp_path))
        for name, d in [
            ("decision", decision),
            ("implementation", implementation),
            ("inadmissible", inadmissible),
        ]
    }
    where = {
        "title": [("page", "project"), ("page", "decision"), ("pdf", "decision")],
        "closing": [("page", "decision"), ("pdf", "decision")],
        "objection": [("page", "project"), ("page", "decision"), ("pdf", "decision")],
        "answer": [("page", "project"), ("page", "decision"), ("pdf", "decision")],
        "progress": [("page", "project"), ("page", "implementation"), ("pdf", "implementation")],
        "acceptance": [("page", "project")],
        "reason": [
            ("page", "refused project"),
            ("page", "refused proposal"),
            ("page", "inadmissible"),
            ("pdf", "inadmissible"),
        ],
    }
    lost = [
        f"{field} on the {kind} {name}"
        for field, outputs in where.items()
        for kind, name in outputs
        if (
            typed(field) not in pages[name]
            if kind == "page"
            else flat(typed(field)) not in pdfs[name]
        )
    ]
    assert not lost, lost

    # The feed: entry titles as typed (Atom's own escaping undone by any reader).
    feed = ET.fromstring(client.get(reverse("disclosure_feed")).content)  # noqa: S314 - ours
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in feed.iter()]
    assert any(t and t.startswith(typed("title")) for t in titles)
    assert any(t and t.startswith(typed("refused title")) for t in titles)

    # Open data: the JSON exactly; the CSV exactly too (no cell here starts like a formula).
    def open_data(name, fmt):
        body = client.get(reverse("open_data_file", args=[name, fmt])).getvalue()
        if fmt == "json":
            return json.loads(body)["rows"]
        return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))

    for fmt in ("json", "csv"):
        rows = {str(r["proposal_id"]): r for r in open_data("proposals", fmt)}
        assert rows[str(proposal.pk)]["title"] == typed("title")
        assert rows[str(refused.pk)]["title"] == typed("refused title")
        ballots = {str(r["ballot_id"]): r for r in open_data("ballots", fmt)}
        assert ballots[str(ballot.pk)]["closed_early_reason"] == typed("closing")
    assert html.escape(MARKUP) not in pages["project"]  # escaped once, never twice
