"""A proposal's description written with the toolbar (Markdown underneath) reads as words in
the official PDF, the notice, the feed and open data: never ``**``, ``###`` or ``- ``."""

import json
import re

from django.template.loader import render_to_string
from django.urls import reverse

from disclosure import services
from disclosure.models import Disclosure, Kind
from proposals.models import Proposal
from voting import services as voting_services

from .test_pdf import flat, needs_poppler, pdf_text

MARKDOWN = "**粗体**\n### 标题\n- 列表"
SYNTAX = ("**", "###", "- ")


def _decision(projects) -> Disclosure:
    council = projects.council
    ballot = council.ballot(council.proposal(body=f"路灯坏了。\n\n{MARKDOWN}"))
    council.vote(ballot, ["yes"] * 4 + ["abstain"])
    voting_services.ballot_close(actor=projects.staff, ballot=ballot, reason="会议表决完毕")
    services.decisions_draft_due()
    proposal = Proposal.objects.get(pk=ballot.proposal_id)
    draft = Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="draft")
    return services.disclosure_publish(actor=projects.staff, disclosure=draft)


@needs_poppler
def test_the_description_reads_as_words_in_the_pdf_notice_feed_and_open_data(
    projects, client, tmp_path
):
    decision = _decision(projects)
    official = pdf_text(decision.pdf.read(), tmp_path)
    assert "粗体" in official and "标题" in official and "列表" in official
    notice = client.get(reverse("disclosure_notice", args=[decision.pk])).content
    outputs = {
        "official PDF": official,
        "notice": pdf_text(notice, tmp_path),
        "feed": client.get(reverse("disclosure_feed")).content.decode(),
        "open data": json.dumps(
            [
                json.loads(client.get(reverse("open_data_file", args=[name, "json"])).getvalue())
                for name in ("proposals", "ballots")
            ],
            ensure_ascii=False,
        ),
    }
    for name, text in outputs.items():
        found = [mark for mark in SYNTAX if mark in text]
        assert not found, f"{found} in the {name}"
    assert flat("粗体") in flat(official)
    assert re.search(r"列表", official)


def test_content_published_before_its_html_was_kept_still_reads_as_words(projects):
    decision = _decision(projects)
    content = json.loads(json.dumps(decision.content))
    content["proposal"]["body_html"] = ""  # as content of the first schema carried it
    html = render_to_string("disclosure/_content.html", {"content": content})
    body = re.search(r'<p class="user-text">(.*?)</p>', html, re.S).group(1)
    assert "粗体" in body and "标题" in body and "· 列表" in body
    assert not any(mark in body for mark in SYNTAX), body
