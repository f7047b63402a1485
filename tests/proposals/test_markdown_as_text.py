"""Where a resident's Markdown is shown as text — a revision diff, a quote in the thread —
readers see the words, never ``**``, ``###`` or ``- ``."""

import re

from django.urls import reverse

from council import threads
from proposals import services
from proposals.models import Stage

MARKDOWN = "**粗体**\n### 标题\n- 列表"
SYNTAX = ("**", "###", "- ")


def test_the_revision_diff_shows_the_words_without_their_markdown(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION, body="路灯坏了。")
    services.proposal_revise(
        actor=world.a_resident.user,
        proposal=proposal,
        title=proposal.title,
        summary=proposal.summary,
        body=f"路灯坏了。\n\n{MARKDOWN}",
        seen_revision=1,
    )
    page = client.get(reverse("proposal_diff", args=[world.a.slug, proposal.pk]) + "?a=1&b=2")
    diff = re.search(r'<h2 id="diff-body-title".*?</pre>', page.content.decode(), re.S).group(0)
    assert "粗体" in diff and "标题" in diff and "· 列表" in diff
    assert not any(mark in diff for mark in SYNTAX), diff


def test_a_quoted_message_in_the_thread_shows_its_words_without_markdown(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    first = threads.message_post(actor=world.a_resident.user, thread=proposal.thread, body="灯坏了")
    reply = threads.message_post(
        actor=world.a_member.user, thread=proposal.thread, body=MARKDOWN, reply_to_id=first.pk
    )
    threads.message_post(
        actor=world.a_staff, thread=proposal.thread, body="收到", reply_to_id=reply.pk
    )
    client.force_login(world.a_resident.user)
    html = client.get(reverse("proposal", args=[world.a.slug, proposal.pk])).content.decode()
    [quote] = re.findall(r'<blockquote class="quote">.*?</blockquote>', html, re.S)
    assert "粗体" in quote and "列表" in quote
    assert not any(mark in quote for mark in SYNTAX), quote
    # The 「回复」 button carries the same words for the composer's 「回复 某某：…」 line.
    excerpts = re.findall(r'data-reply-excerpt="([^"]*)"', html)
    assert any("粗体" in e for e in excerpts)
    assert not any(mark in e for e in excerpts for mark in SYNTAX), excerpts
