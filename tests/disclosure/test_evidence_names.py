"""The public evidence log names what each entry is about in words, with a link to its page:
「提议《更换小区路灯》」, not ``proposals.proposal 28``. A draft is named without its title,
a deleted object still gets words, and the chain the words sit beside is left untouched."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils.timezone import localdate

from council import clock
from council import selectors as council_selectors
from council.evidence import evidence_append, evidence_verify, object_namers
from council.models import Council as Rules
from council.models import EvidenceEvent, Secrecy
from disclosure.models import Disclosure
from proposals import services as proposal_services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage
from tests.proposals.conftest import PROPOSAL_DATA, ProposalMaker
from voting import services as voting_services
from voting.models import Meeting

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _object_cells(page: str) -> list[str]:
    """The "Object" column of the evidence table, one cell a row (markup kept)."""
    return re.findall(r'<td class="object">(.*?)</td>', page, flags=re.S)


def test_each_entry_names_its_object_in_chinese_words_with_a_link(client, projects, world):
    proposal = projects.published()
    ballot = proposal.ballots.get()
    disclosure = Disclosure.objects.get(proposal=proposal, kind="decision")
    page = client.get(reverse("evidence")).content.decode()

    url = reverse("proposal", args=[world.a.slug, proposal.pk])
    assert f'<a href="{url}">提议《更换小区路灯》</a>' in page
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    assert f'<a href="{url}">表决《更换小区路灯》</a>' in page
    url = reverse("disclosure", args=[disclosure.pk])
    assert f'<a href="{url}">《更换小区路灯》决议结果公开</a>' in page
    assert "proposals.proposal" not in page and "voting.ballot" not in page
    assert "身份" in page  # the roles of the world's people, by kind


def test_a_meeting_is_named_by_its_date(client, projects, world):
    proposal = projects.council.proposal()
    meeting = voting_services.meeting_schedule(
        actor=world.a_staff,
        community=world.a,
        title="十二月例会",
        starts_at=clock.now() + dt.timedelta(days=3),
        place="社区活动室",
        proposals=[proposal],
    )
    meeting = Meeting.objects.get(pk=meeting.pk)
    page = client.get(reverse("evidence"), **EN).content.decode()
    url = reverse("meeting", args=[world.a.slug, meeting.pk])
    assert f'<a href="{url}">council meeting {localdate(meeting.starts_at).isoformat()}</a>' in page


def test_a_draft_is_named_without_its_title_nor_a_link(client, world):
    proposal_services.proposal_create(
        actor=world.a_resident.user, community=world.a, data={**PROPOSAL_DATA, "title": "我的草稿"}
    )
    page = client.get(reverse("evidence")).content.decode()
    assert "我的草稿" not in page
    [cell] = [c for c in _object_cells(page) if "提议" in c]
    assert cell.startswith("一份未公开的提议") and "<a" not in cell


def test_a_merged_proposal_keeps_its_title_and_a_deleted_one_still_gets_words(client, world):
    maker = ProposalMaker(world)
    kept = maker.make(Stage.UNDER_REVIEW, title="社区小花园改造")
    merged = maker.make(Stage.UNDER_REVIEW, title="花园增设休闲座椅")
    proposal_move(actor=world.a_staff, proposal=merged, move=Move.MERGE, target=kept)
    evidence_append(actor=None, action="proposal.created", obj=("proposals.proposal", 999999))
    page = client.get(reverse("evidence")).content.decode()
    url = reverse("proposal", args=[world.a.slug, merged.pk])
    assert f'<a href="{url}">提议《花园增设休闲座椅》</a>' in page
    assert _object_cells(page)[0] == "一份已删除的提议"


def test_a_secret_vote_names_the_ballot_and_still_not_the_member(client, projects, world):
    Rules.objects.filter(community=world.a).update(secrecy=Secrecy.SECRET)
    council = projects.council
    ballot = council.ballot()
    member = council.members[1]
    voting_services.vote_cast(actor=member, ballot=ballot, choice="yes")
    page = client.get(reverse("evidence"), **EN).content.decode()
    row = re.findall(r'<tr>\s*<td class="seq">.*?</tr>', page, flags=re.S)[0]
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    assert f'<a href="{url}">ballot on “更换小区路灯”</a>' in row
    assert "council member" in row
    assert member.public_name not in page


def test_a_decision_refers_to_the_ballot_that_made_it_on_the_log_and_the_timeline(
    client, projects, world
):
    proposal = projects.published()
    ballot = proposal.ballots.get()
    event = EvidenceEvent.objects.get(action="proposal.approve")
    assert event.payload["basis"] == {"type": "voting.ballot", "id": ballot.pk}
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    link = f'依据：<a href="{url}">表决《更换小区路灯》</a>'
    assert link in client.get(reverse("evidence")).content.decode()
    page = client.get(reverse("proposal", args=[world.a.slug, proposal.pk]), **EN)
    assert f'Basis: <a href="{url}">ballot on “更换小区路灯”</a>' in page.content.decode()


def test_a_step_taken_before_bases_were_references_shows_the_words_it_was_given(client, world):
    evidence_append(
        actor=None,
        action="proposal.approve",
        obj=("proposals.proposal", 999999),
        payload={"from": "voting", "to": "approved", "basis": "ballot 12"},
    )
    assert "依据：ballot 12" in client.get(reverse("evidence")).content.decode()


def test_the_words_are_not_part_of_the_chain(client, projects):
    projects.published()
    before = list(EvidenceEvent.objects.values_list("seq", "hash"))
    client.get(reverse("evidence"))
    assert list(EvidenceEvent.objects.values_list("seq", "hash")) == before
    assert evidence_verify().ok


@pytest.mark.parametrize("entries", [10, 100])
def test_naming_a_page_of_entries_takes_the_same_few_queries_for_10_or_100(
    entries, projects, django_assert_max_num_queries
):
    projects.published()  # proposals, roles, a ballot and its votes, a disclosure, a message
    maker = projects.council.maker
    while EvidenceEvent.objects.count() < 100:
        maker.make(Stage.SUBMITTED)
    # One query for the entries, then one per kind of object (roles, proposals, ballots,
    # disclosures …), however many entries name them.
    with django_assert_max_num_queries(8):
        events = council_selectors.evidence_public_page(limit=entries)
    assert len(events) == entries
    assert all(e.named_object.words for e in events)


def test_every_kind_of_object_the_demo_records_has_words_of_its_own(demo_data):
    kinds = set(EvidenceEvent.objects.values_list("object_type", flat=True))
    assert {"proposals.proposal", "voting.ballot", "disclosure.disclosure"} <= kinds
    assert kinds <= set(object_namers())
