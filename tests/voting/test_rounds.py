"""Yearly rounds: a slate put to one approval ballot, funded by greedy or Equal Shares."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.models import EvidenceEvent
from proposals.models import Stage
from voting import selectors, services
from voting.models import Reservation, Round, RoundBallot
from voting.services._common import voter_commitment

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _slate(council, *costs):
    """Proposals in voting whose counted costs are ``costs``."""
    return [council.proposal(cost) for cost in costs]


def test_a_round_funds_by_approvals_skipping_what_does_not_fit(council, world):
    council.envelope.amount = Decimal("100000.00")
    council.envelope.save()
    big, small, mid = _slate(council, "80000", "15000", "30000")
    round_ = council.round([big, small, mid])
    assert round_.money == Decimal("100000.00")
    ballots = [[big, small, mid], [big, mid], [big, small], [mid], []]
    for member, approved in zip(council.members, ballots, strict=True):
        services.round_ballot_submit(actor=member, round_=round_, approved=[p.pk for p in approved])
    services.round_close(actor=world.a_staff, round_=round_, reason="会议结束")
    round_.refresh_from_db()
    assert round_.valid and round_.participation == 5
    funded = {rp.proposal_id: rp.funded for rp in round_.projects.all()}
    # big and mid tie at 3 approvals: mid (cheaper) first, ¥70,000 left; big (¥80,000) does
    # not fit and is skipped; small (2 approvals, ¥15,000) still fits.
    assert funded == {big.pk: False, small.pk: True, mid.pk: True}
    for proposal in (big, small, mid):
        proposal.refresh_from_db()
    assert {p.stage for p in (big, small, mid)} == {Stage.APPROVED, Stage.REJECTED}
    assert round_.spent == sum((rp.cost for rp in round_.projects.all() if rp.funded), Decimal("0"))
    assert Reservation.objects.filter(envelope=council.envelope).count() == 2


def test_greedy_ties_go_to_the_lower_cost_and_a_skipped_project_lets_a_later_one_in(council, world):
    council.envelope.amount = Decimal("50000.00")
    council.envelope.save()
    a, b, c = _slate(council, "30000", "25000", "20000")
    round_ = council.round([a, b, c])
    for member in council.members:
        services.round_ballot_submit(actor=member, round_=round_, approved=[a.pk, b.pk, c.pk])
    services.round_close(actor=world.a_staff, round_=round_, reason="done")
    funded = {rp.proposal_id for rp in round_.projects.filter(funded=True)}
    # all tied at 5 approvals: c (¥20k), then b (¥25k) = ¥45k; a (¥30k) does not fit.
    assert funded == {b.pk, c.pk}
    a.refresh_from_db()
    assert a.stage == Stage.REJECTED
    event = EvidenceEvent.objects.get(action="proposal.reject", object_id=str(a.pk))
    assert event.payload["approvals"] == 5 and "did not fit" in event.payload["reason"]


def test_the_rounds_entries_carry_what_recomputing_its_funding_needs(council, world):
    """docs/transparency-log.md, "Audit": the slate's costs and the rules copied at opening,
    each ballot's voter by commitment, and the approvals at closing."""
    a, b = _slate(council, "12000.50", "30000")
    round_ = council.round([a, b], rule="mes")
    services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[a.pk])
    services.round_ballot_submit(
        actor=world.a_staff, round_=round_, approved=[a.pk, b.pk], member=council.members[1]
    )
    services.round_close(actor=world.a_staff, round_=round_, reason="会议结束")
    opened = EvidenceEvent.objects.get(action="round.opened").payload
    assert opened["slate"] == [a.pk, b.pk] and opened["costs"] == ["12000.50", "30000.00"]
    assert opened["rules"]["secrecy"] == "roll_call" and opened["rules"]["quorum_numerator"]
    voters = EvidenceEvent.objects.filter(action__startswith="round.ballot").order_by("pk")
    assert [e.payload["voter"] for e in voters] == [
        voter_commitment(round_, council.members[0]),
        voter_commitment(round_, council.members[1]),
    ]
    closed = EvidenceEvent.objects.get(action="round.closed").payload
    assert closed["approvals"] == {str(a.pk): 2, str(b.pk): 1}


def test_a_project_nobody_approved_is_never_funded(council, world):
    a, b = _slate(council, "10000", "10000")
    round_ = council.round([a, b])
    for member in council.members:
        services.round_ballot_submit(actor=member, round_=round_, approved=[a.pk])
    services.round_close(actor=world.a_staff, round_=round_, reason="done")
    b_row = round_.projects.get(proposal=b)
    assert b_row.approvals == 0 and b_row.funded is False
    assert selectors.rejection_reason(round_, b_row) == "No member approved it."


def test_a_round_without_quorum_leaves_every_project_in_voting(council, world):
    a, b = _slate(council, "10000", "10000")
    round_ = council.round([a, b])
    services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[a.pk])
    services.round_ballot_submit(actor=council.members[1], round_=round_, approved=[])
    services.round_close(actor=world.a_staff, round_=round_, reason="done")
    round_.refresh_from_db()
    assert round_.valid is False and round_.participation == 2
    for proposal in (a, b):
        proposal.refresh_from_db()
        assert proposal.stage == Stage.VOTING


def test_an_empty_ballot_counts_toward_quorum(council, world):
    a, b = _slate(council, "10000", "10000")
    round_ = council.round([a, b])
    services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[a.pk])
    for member in council.members[1:4]:
        services.round_ballot_submit(actor=member, round_=round_, approved=[])
    services.round_close(actor=world.a_staff, round_=round_, reason="done")
    round_.refresh_from_db()
    assert round_.valid and round_.participation == 4


def test_a_recused_member_cannot_approve_that_project(council, world):
    a, b = _slate(council, "10000", "10000")
    services.recusal_declare(actor=council.members[1], proposal=a, reason="亲属承建")
    round_ = council.round([a, b])
    with pytest.raises(InvalidMove, match="recused"):
        services.round_ballot_submit(actor=council.members[1], round_=round_, approved=[a.pk])
    services.round_ballot_submit(actor=council.members[1], round_=round_, approved=[b.pk])
    assert RoundBallot.objects.get(member=council.members[1]).approved == [b.pk]


def test_round_refusals(council, world):
    a, b = _slate(council, "10000", "10000")
    with pytest.raises(InvalidMove, match="at least two"):
        council.round([a])
    with pytest.raises(NotAllowed):
        services.round_open(
            actor=council.members[0],
            community=world.a,
            title="x",
            proposals=[a, b],
            closes_at=clock.now() + dt.timedelta(days=1),
        )
    round_ = council.round([a, b])
    with pytest.raises(InvalidMove, match="already on an open"):
        council.ballot(a)
    with pytest.raises(NotAllowed, match="council"):
        services.round_ballot_submit(actor=world.a_resident.user, round_=round_, approved=[])
    with pytest.raises(InvalidMove, match="slate"):
        services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[999999])
    with clock.travel(dt.timedelta(days=2)), pytest.raises(InvalidMove, match="closed"):
        services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[])


def test_the_round_holds_what_was_left_of_the_envelope_at_opening(council, world):
    ballot = council.ballot()  # ¥11,800 held by an open ballot
    a, b = _slate(council, "10000", "10000")
    round_ = council.round([a, b])
    assert round_.money == Decimal("2000000.00") - Decimal("11800.00")
    with pytest.raises(InvalidMove, match="does not fit"):
        council.ballot()
    assert ballot.is_open


def test_equal_shares_rule_funds_through_the_round(council, world):
    council.envelope.amount = Decimal("30000.00")
    council.envelope.save()
    a, b, c = _slate(council, "20000", "10000", "10000")
    round_ = council.round([a, b, c], rule="mes", add1=True)
    approvals = [[a.pk, b.pk], [a.pk, b.pk], [a.pk], [c.pk], [c.pk]]
    for member, approved in zip(council.members, approvals, strict=True):
        services.round_ballot_submit(actor=member, round_=round_, approved=approved)
    with clock.travel(dt.timedelta(days=2)):
        services.voting_tick()
    round_.refresh_from_db()
    assert round_.status == "closed" and round_.closed_by is None
    funded = set(round_.projects.filter(funded=True).values_list("proposal_id", flat=True))
    # Greedy would fund a (3 approvals) and b: the three members backing a and b would take
    # all the money. With equal shares each member controls ¥6,000: a (¥20,000) is beyond its
    # three supporters' ¥18,000, and the two members backing c get c.
    assert funded == {b.pk, c.pk}
    greedy_pick = selectors.round_allocate(round_, approvals)
    round_.rule = "greedy"
    assert set(selectors.round_allocate(round_, approvals)) == {a.pk, b.pk}
    assert set(greedy_pick) == {b.pk, c.pk}


def test_the_round_page_shows_funded_unfunded_and_what_remains(client, council, world):
    council.envelope.amount = Decimal("25000.00")
    council.envelope.save()
    a, b = _slate(council, "20000", "10000")
    round_ = council.round([a, b])
    client.force_login(council.members[0])
    url = reverse("round", args=[world.a.slug, round_.pk])
    page = client.get(url, **EN).content.decode()
    assert "Your approval ballot" in page
    response = client.post(
        reverse("round_ballot", args=[world.a.slug, round_.pk]),
        {"approved": [str(a.pk)]},
        follow=True,
        **EN,
    )
    assert "Your ballot is handed in" in response.content.decode()
    for member in council.members[1:]:
        services.round_ballot_submit(actor=member, round_=round_, approved=[a.pk, b.pk])
    services.round_close(actor=world.a_staff, round_=round_, reason="done")
    page = client.get(url, **EN).content.decode()
    assert "funded" in page and "not funded" in page
    assert "¥20,000.00" in page and "¥5,000.00" in page  # spent a; ¥5,000 remains


def test_the_clerk_records_a_paper_ballot_marked_as_such(client, council, world):
    a, b = _slate(council, "10000", "10000")
    round_ = council.round([a, b])
    client.force_login(world.a_staff)
    response = client.post(
        reverse("round_ballot", args=[world.a.slug, round_.pk]),
        {"member": council.members[2].pk, "approved": [str(b.pk)]},
        follow=True,
        **EN,
    )
    assert "marked as entered by the clerk" in response.content.decode()
    ballot = RoundBallot.objects.get(member=council.members[2])
    assert ballot.recorded_by == world.a_staff and ballot.approved == [b.pk]


@pytest.mark.parametrize(("title", "refusal"), [("表" * 121, "at most 120"), ("   ", "title")])
def test_a_round_title_too_long_or_blank_is_refused_and_nothing_opens(
    council, world, title, refusal
):
    a, b = _slate(council, "10000", "10000")
    with pytest.raises(InvalidMove, match=refusal):
        services.round_open(
            actor=world.a_staff,
            community=world.a,
            title=title,
            proposals=[a, b],
            closes_at=clock.now() + dt.timedelta(days=1),
        )
    assert not Round.objects.exists()


def test_closing_a_round_early_needs_the_clerk_a_reason_and_an_open_round(council):
    round_ = council.round(_slate(council, "1000", "2000"), hours=1)
    with pytest.raises(NotAllowed, match="Only the clerk can close a round."):
        services.round_close(actor=council.members[0], round_=round_, reason="够了")
    with pytest.raises(InvalidMove, match="Say why the round closes early"):
        services.round_close(actor=council.staff, round_=round_, reason="")
    with clock.travel(dt.timedelta(hours=2)):
        closed = services.round_close(actor=council.staff, round_=round_, reason="提前")
        assert services.rounds_close_due() == 0
    assert closed.status == "closed" and closed.closed_by is None and closed.close_reason == ""
    with pytest.raises(InvalidMove, match="This round is already closed."):
        services.round_close(actor=council.staff, round_=round_, reason="再关一次")
