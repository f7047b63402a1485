"""The voting pages as people use them: the council page, a ballot, voting by htmx and by
plain form, the clerk's forms, awaiting my vote, the proposal page's voting section."""

import datetime as dt

import pytest
from django.urls import reverse

from council import clock
from council.models import Council
from proposals.models import Stage
from voting import services

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _url(ballot, name="ballot"):
    return reverse(name, args=[ballot.community.slug, ballot.pk])


def test_anyone_reads_a_ballot_with_how_many_have_voted(client, council):
    ballot = council.vote(council.ballot(), ["yes", "no"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert "2 of 5 members have voted." in page
    assert ballot.proposal.title in page
    assert "Council members: sign in to vote" in page


def test_a_roll_call_ballot_shows_each_vote_only_once_closed(client, council, world):
    ballot = council.vote(council.ballot(), ["yes", "no", "yes", "yes"])
    page = client.get(_url(ballot), **EN).content.decode()
    assert ">voted<" in page and ">Yes<" not in page
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="done")
    page = client.get(_url(ballot), **EN).content.decode()
    assert "4 of 5 members voted; 3 yes is more than half of 5: approved." in page
    assert page.count("<td>No</td>") == 1 and page.count("<td>Yes</td>") == 3


def test_a_secret_ballot_never_shows_who_chose_what(client, council, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    ballot = council.vote(council.ballot(), ["yes", "no", "yes", "yes"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="done")
    client.force_login(world.a_staff)
    page = client.get(_url(ballot), **EN).content.decode()
    members = page[page.index('id="members-title"') :]
    members = members[: members.index("</table>")]
    assert all(m.public_name in members for m in council.members)
    assert "Yes" not in members and "No<" not in members and ">voted<" not in members
    assert "only the totals are published" in page


def test_a_member_votes_with_htmx_and_sees_the_box_update(client, council):
    ballot = council.ballot()
    client.force_login(council.members[0])
    response = client.post(
        _url(ballot, "ballot_vote"), {"choice": "yes"}, HTTP_HX_REQUEST="true", **EN
    )
    box = response.content.decode()
    assert response.status_code == 200
    assert 'id="vote-box"' in box and "<html" not in box
    assert "Your vote is recorded" in box and "1 of 5 members have voted." in box
    assert ballot.votes.get().choice == "yes"


def test_a_plain_form_vote_redirects_back_with_a_message(client, council):
    ballot = council.ballot()
    client.force_login(council.members[1])
    response = client.post(_url(ballot, "ballot_vote"), {"choice": "no"}, follow=True, **EN)
    assert "Your vote is recorded" in response.content.decode()


def test_a_refused_vote_is_a_clear_message_not_an_error(client, council, world):
    ballot = council.ballot()
    client.force_login(world.a_resident.user)
    response = client.post(
        _url(ballot, "ballot_vote"), {"choice": "yes"}, HTTP_HX_REQUEST="true", **EN
    )
    assert response.status_code == 200
    assert "Only members of" in response.content.decode()
    response = client.post(_url(ballot, "ballot_vote"), {"choice": "??"}, follow=True, **EN)
    assert "Choose yes, no or abstain." in response.content.decode()
    assert not ballot.votes.exists()


def test_a_ballot_past_its_time_is_closed_when_someone_reads_it(client, council):
    ballot = council.vote(council.ballot(hours=1), ["yes", "yes", "yes", "yes"])
    with clock.travel(dt.timedelta(hours=2)):
        page = client.get(_url(ballot), **EN).content.decode()
    ballot.refresh_from_db()
    assert ballot.status == "closed"
    assert "at its closing time" in page


def test_a_round_past_its_time_is_closed_when_someone_reads_it(client, council):
    round_ = council.round([council.proposal(), council.proposal()], hours=1)
    with clock.travel(dt.timedelta(hours=2)):
        assert client.get(_url(round_, "round"), **EN).status_code == 200
    round_.refresh_from_db()
    assert round_.status == "closed" and round_.closed_by is None and not round_.close_reason


def test_a_ballot_of_another_community_is_not_found_under_this_one(client, council, world):
    ballot = council.ballot()
    assert client.get(reverse("ballot", args=[world.b.slug, ballot.pk])).status_code == 404


def test_the_clerk_opens_a_ballot_from_the_form(client, council, world):
    proposal = council.proposal()
    client.force_login(world.a_staff)
    url = reverse("ballot_new", args=[world.a.slug, proposal.pk])
    closes = (clock.now() + dt.timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"closes_at": closes}, follow=True, **EN)
    assert "The ballot is open" in response.content.decode()
    assert proposal.ballots.get().is_open


def test_the_open_ballot_form_explains_a_refusal_on_the_form(client, council, world):
    ballot = council.ballot()
    client.force_login(world.a_staff)
    url = reverse("ballot_new", args=[world.a.slug, ballot.proposal.pk])
    closes = (clock.now() + dt.timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"closes_at": closes}, **EN)
    assert response.status_code == 400
    assert "already on an open ballot" in response.content.decode()


def test_only_the_clerk_sees_the_open_ballot_form(client, council, world):
    proposal = council.proposal()
    url = reverse("ballot_new", args=[world.a.slug, proposal.pk])
    client.force_login(council.members[0])
    assert client.get(url).status_code == 404
    client.force_login(world.b_staff)
    assert client.get(url).status_code == 404


def test_the_clerk_records_and_closes_through_the_page(client, council, world):
    ballot = council.vote(council.ballot(), ["yes", "yes", "yes"])
    client.force_login(world.a_staff)
    client.post(
        _url(ballot, "ballot_record"), {"member": council.members[3].pk, "choice": "yes"}, **EN
    )
    response = client.post(_url(ballot, "ballot_close"), {"reason": ""}, follow=True, **EN)
    assert "Say why" in response.content.decode()
    response = client.post(
        _url(ballot, "ballot_close"), {"reason": "Meeting ended."}, follow=True, **EN
    )
    page = response.content.decode()
    assert "The ballot is closed: approved." in page
    assert "(recorded by the clerk)" in page


def test_awaiting_my_vote_lists_ballots_until_i_vote(client, council):
    ballot = council.ballot()
    member = council.members[2]
    client.force_login(member)
    url = reverse("voting_awaiting")
    assert ballot.proposal.title in client.get(url).content.decode()
    services.vote_cast(actor=member, ballot=ballot, choice="abstain")
    assert ballot.proposal.title not in client.get(url).content.decode()


def test_the_proposal_page_shows_its_ballot_and_lets_a_member_recuse(client, council, world):
    ballot = council.vote(council.ballot(), ["yes"])
    member = council.members[3]
    client.force_login(member)
    url = reverse("proposal", args=[world.a.slug, ballot.proposal.pk])
    page = client.get(url, **EN).content.decode()
    assert _url(ballot) in page
    assert "Declare a conflict of interest" in page
    response = client.post(
        reverse("recusal", args=[world.a.slug, ballot.proposal.pk]),
        {"reason": "My brother is the contractor."},
        follow=True,
        **EN,
    )
    page = response.content.decode()
    assert "Your conflict of interest is recorded" in page
    assert "My brother is the contractor." in page
    ballot.refresh_from_db()
    assert ballot.base == 4


def test_the_council_page_shows_seats_rules_money_and_ballots(client, council, world):
    ballot = council.ballot()
    page = client.get(reverse("council_page", args=[world.a.slug]), **EN).content.decode()
    assert "Rules of procedure" in page
    assert council.members[1].display_name in page
    assert "¥2,000,000.00" in page and "¥1,988,200.00" in page
    assert _url(ballot) in page


def test_the_ballot_page_query_count_does_not_grow_with_members(
    client, council, world, django_assert_max_num_queries
):
    ballot = council.vote(council.ballot(), ["yes", "no", "yes", "yes", "no"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="done")
    client.force_login(world.a_staff)
    with django_assert_max_num_queries(20):
        client.get(_url(ballot))
    assert ballot.proposal.stage != Stage.DRAFT


def test_the_council_page_query_count_does_not_grow_with_open_ballots(client, council, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("council_page", args=[world.a.slug])
    council.ballot()
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    council.ballot()
    council.ballot()
    with CaptureQueriesContext(connection) as three:
        page = client.get(url, **EN).content.decode()
    assert len(three) == len(one)
    assert "¥1,964,600.00" in page  # three open ballots hold ¥11,800 each
