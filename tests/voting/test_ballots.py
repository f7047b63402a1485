"""Ballots on one proposal: opening, voting, refusals, closing, the tally's consequences."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from council import clock
from council import services as council_services
from council.errors import InvalidMove, NotAllowed
from council.models import Council, EvidenceEvent, Notification, RoleKind, SeatCategory
from proposals.models import Stage
from voting import selectors, services
from voting.models import Ballot, Reservation, Vote
from voting.services._common import voter_commitment

pytestmark = pytest.mark.django_db


def _events(action, ballot):
    return EvidenceEvent.objects.filter(action=action, object_id=str(ballot.pk))


# --- Opening ----------------------------------------------------------------------------------


def test_a_ballot_copies_the_rules_and_the_members_when_it_opens(council, world):
    ballot = council.ballot()
    Council.objects.filter(community=world.a).update(
        quorum_numerator=1, quorum_denominator=2, threshold="two_thirds_of_cast", secrecy="secret"
    )
    ballot.refresh_from_db()
    assert (ballot.quorum_numerator, ballot.quorum_denominator) == (2, 3)
    assert ballot.threshold == "majority_of_members"
    assert not ballot.is_secret
    assert ballot.base == 5
    assert set(ballot.eligible.values_list("member_id", flat=True)) == {
        m.pk for m in council.members
    }


def test_the_proposer_is_recused_automatically(council, world):
    council_services.role_assign(
        actor=None,
        user=world.a_resident.user,
        kind=RoleKind.COUNCIL_MEMBER,
        community=world.a,
        seat_category=SeatCategory.REGISTERED,
    )
    ballot = council.ballot()
    assert ballot.base == 5  # six seated, the proposer not counted
    line = ballot.eligible.get(member=world.a_resident.user)
    assert line.recused
    with pytest.raises(NotAllowed, match="recused"):
        services.vote_cast(actor=world.a_resident.user, ballot=ballot, choice="yes")


def test_only_staff_of_the_community_open_a_ballot(council, world):
    proposal = council.proposal()
    later = clock.now() + dt.timedelta(days=1)
    for outsider in (world.a_member.user, world.b_staff, world.admin):
        with pytest.raises(NotAllowed):
            services.ballot_open(actor=outsider, proposal=proposal, closes_at=later)
    assert not Ballot.objects.exists()


def test_a_ballot_opens_only_on_a_proposal_in_voting(council, world):
    proposal = council.maker.make(Stage.CONSULTATION)
    with pytest.raises(InvalidMove, match="in voting"):
        services.ballot_open(
            actor=world.a_staff, proposal=proposal, closes_at=clock.now() + dt.timedelta(days=1)
        )


def test_one_open_ballot_at_a_time_per_proposal(council, world):
    ballot = council.ballot()
    with pytest.raises(InvalidMove, match="already on an open ballot"):
        council.ballot(ballot.proposal)


def test_the_closing_time_must_leave_time_to_vote(council, world):
    with pytest.raises(InvalidMove, match="five minutes"):
        services.ballot_open(
            actor=world.a_staff,
            proposal=council.proposal(),
            closes_at=clock.now() + dt.timedelta(minutes=1),
        )


def test_a_ballot_needs_the_cost_to_fit_in_what_is_left_of_the_envelope(council, world):
    council.envelope.amount = Decimal("20000.00")
    council.envelope.save()
    council.ballot()  # holds ¥11,800 while open
    with pytest.raises(InvalidMove, match="does not fit"):
        council.ballot()


def test_a_ballot_needs_an_envelope_for_the_year(council, world):
    council.envelope.delete()
    with pytest.raises(InvalidMove, match="No envelope"):
        council.ballot()


def test_members_are_notified_when_a_ballot_opens(
    council, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ballot = council.ballot()
    for member in council.members:
        assert Notification.objects.filter(
            recipient=member, url__endswith=f"/ballots/{ballot.pk}/"
        ).exists()


# --- Voting -----------------------------------------------------------------------------------


def test_a_member_votes_and_may_change_the_vote_each_change_in_evidence(council):
    ballot = council.ballot()
    member = council.members[1]
    services.vote_cast(actor=member, ballot=ballot, choice="yes")
    services.vote_cast(actor=member, ballot=ballot, choice="no")
    services.vote_cast(actor=member, ballot=ballot, choice="no")  # no change, no event
    vote = Vote.objects.get(ballot=ballot, member=member)
    assert vote.choice == "no" and vote.changes == 1
    # Each names the member's commitment on this ballot, so that the log alone recounts it.
    key = voter_commitment(ballot, member)
    assert _events("vote.cast", ballot).get().payload == {"choice": "yes", "voter": key}
    assert _events("vote.changed", ballot).get().payload == {"choice": "no", "voter": key}


def test_a_secret_ballot_records_voted_without_the_choice(council, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    ballot = council.ballot()
    services.vote_cast(actor=council.members[0], ballot=ballot, choice="yes")
    services.vote_cast(actor=council.members[0], ballot=ballot, choice="abstain")
    for event in EvidenceEvent.objects.filter(object_id=str(ballot.pk), action__startswith="vote."):
        assert "choice" not in event.payload
        assert "yes" not in str(event.payload) and "abstain" not in str(event.payload)


def test_the_database_keeps_one_vote_per_member(council):
    ballot = council.vote(council.ballot(), ["yes"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(
            ballot=ballot, member=council.members[0], choice="no", updated_at=clock.now()
        )


def test_a_vote_after_closing_time_is_refused(council):
    ballot = council.ballot(hours=1)
    with clock.travel(dt.timedelta(hours=2)), pytest.raises(InvalidMove, match="closed"):
        services.vote_cast(actor=council.members[0], ballot=ballot, choice="yes")
    assert not ballot.votes.exists()


def test_a_vote_on_a_closed_ballot_is_refused(council, world):
    ballot = council.vote(council.ballot(), ["yes", "yes", "yes", "yes"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="Everyone present voted.")
    with pytest.raises(InvalidMove, match="no longer accepted"):
        services.vote_cast(actor=council.members[4], ballot=ballot, choice="no")


def test_a_resident_who_is_not_a_member_cannot_vote(council, world):
    ballot = council.ballot()
    with pytest.raises(NotAllowed, match="council"):
        services.vote_cast(actor=world.a_resident.user, ballot=ballot, choice="yes")


def test_a_member_of_another_community_cannot_vote_here(council, world):
    b_member = world.b_resident.user
    council_services.role_assign(
        actor=None,
        user=b_member,
        kind=RoleKind.COUNCIL_MEMBER,
        community=world.b,
        seat_category=SeatCategory.NOTABLE,
    )
    ballot = council.ballot()
    with pytest.raises(NotAllowed, match="东湖社区"):
        services.vote_cast(actor=b_member, ballot=ballot, choice="yes")


def test_a_member_seated_after_the_ballot_opened_is_not_on_its_list(council, world):
    ballot = council.ballot()
    council_services.role_assign(
        actor=None,
        user=world.a_resident.user,
        kind=RoleKind.COUNCIL_MEMBER,
        community=world.a,
        seat_category=SeatCategory.REGISTERED,
    )
    with pytest.raises(NotAllowed, match="list"):
        services.vote_cast(actor=world.a_resident.user, ballot=ballot, choice="yes")


def test_a_member_whose_term_ended_is_not_seated(council, world):
    role = world.a_member.user.roles.get(kind=RoleKind.COUNCIL_MEMBER)
    role.term_ends = clock.today() - dt.timedelta(days=1)
    role.save()
    ballot = council.ballot()
    assert ballot.base == 4
    assert not ballot.eligible.filter(member=world.a_member.user).exists()


def test_a_nonsense_choice_is_refused(council):
    with pytest.raises(InvalidMove, match="yes, no or abstain"):
        services.vote_cast(actor=council.members[0], ballot=council.ballot(), choice="maybe")


def test_declaring_a_conflict_leaves_an_open_ballot_and_withdraws_the_vote(council):
    ballot = council.vote(council.ballot(), [None, "yes"])
    member = council.members[1]
    services.recusal_declare(actor=member, proposal=ballot.proposal, reason="我家开的店供货。")
    ballot.refresh_from_db()
    assert ballot.base == 4
    assert not ballot.votes.filter(member=member).exists()
    with pytest.raises(NotAllowed, match="recused"):
        services.vote_cast(actor=member, ballot=ballot, choice="yes")
    with pytest.raises(InvalidMove, match="already"):
        services.recusal_declare(actor=member, proposal=ballot.proposal, reason="again")


def test_a_recusal_needs_a_reason_and_a_seat(council, world):
    proposal = council.proposal()
    with pytest.raises(InvalidMove, match="conflict"):
        services.recusal_declare(actor=council.members[0], proposal=proposal, reason="  ")
    with pytest.raises(NotAllowed):
        services.recusal_declare(actor=world.b_resident.user, proposal=proposal, reason="x")


# --- The clerk --------------------------------------------------------------------------------


def test_the_clerk_records_a_show_of_hands_vote_marked_as_such(council, world):
    ballot = council.ballot()
    services.vote_record_by_clerk(
        actor=world.a_staff, ballot=ballot, member=council.members[2], choice="no"
    )
    vote = ballot.votes.get(member=council.members[2])
    assert vote.recorded_by == world.a_staff
    event = _events("vote.recorded_by_clerk", ballot).get()
    assert event.actor == world.a_staff and event.payload["choice"] == "no"
    with pytest.raises(NotAllowed):
        services.vote_record_by_clerk(
            actor=council.members[0], ballot=ballot, member=council.members[3], choice="yes"
        )


def test_a_secret_ballot_takes_totals_only_from_the_clerk(council, world):
    Council.objects.filter(community=world.a).update(secrecy="secret")
    ballot = council.vote(council.ballot(), ["yes", "yes"])
    with pytest.raises(InvalidMove, match="totals only"):
        services.vote_record_by_clerk(
            actor=world.a_staff, ballot=ballot, member=council.members[2], choice="no"
        )
    with pytest.raises(InvalidMove, match="more"):
        services.hand_count_record(actor=world.a_staff, ballot=ballot, yes=2, no=2, abstain=0)
    services.hand_count_record(actor=world.a_staff, ballot=ballot, yes=1, no=1, abstain=1)
    tally = selectors.ballot_tally(ballot)
    assert (tally.yes, tally.no, tally.abstain) == (3, 1, 1)


def test_closing_early_needs_the_clerk_and_a_reason(council, world):
    ballot = council.ballot()
    with pytest.raises(NotAllowed):
        services.ballot_close(actor=council.members[0], ballot=ballot, reason="done")
    with pytest.raises(InvalidMove, match="why"):
        services.ballot_close(actor=world.a_staff, ballot=ballot, reason=" ")
    ballot.refresh_from_db()
    assert ballot.is_open


# --- Closing and its consequences --------------------------------------------------------------


def test_an_approved_ballot_approves_the_proposal_and_reserves_its_cost(council, world):
    ballot = council.vote(council.ballot(), ["yes", "yes", "yes", "no", "abstain"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="All members voted.")
    ballot.refresh_from_db()
    assert ballot.outcome == "approved"
    assert (ballot.yes, ballot.no, ballot.abstain) == (3, 1, 1)
    assert len(ballot.votes_sha256) == 64
    ballot.proposal.refresh_from_db()
    assert ballot.proposal.stage == Stage.APPROVED
    assert Reservation.objects.get(proposal=ballot.proposal).amount == Decimal("11800.00")
    move = EvidenceEvent.objects.get(action="proposal.approve")
    assert move.payload["basis"] == {"type": "voting.ballot", "id": ballot.pk}
    assert selectors.ballot_tally(ballot).sentence() == (
        "5 of 5 members voted (1 abstained); 3 yes is more than half of 5: approved."
    )


def test_a_tie_rejects_the_proposal(council, world):
    Council.objects.filter(community=world.a).update(threshold="majority_of_cast")
    ballot = council.vote(council.ballot(), ["yes", "yes", "no", "no"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="Vote finished.")
    ballot.proposal.refresh_from_db()
    assert ballot.proposal.stage == Stage.REJECTED
    assert not Reservation.objects.exists()


def test_a_ballot_without_quorum_leaves_the_proposal_in_voting_for_a_new_ballot(council, world):
    ballot = council.vote(council.ballot(), ["yes", "yes", "yes"])  # 3 of 5 < 2/3 × 5
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="Meeting over.")
    ballot.refresh_from_db()
    assert ballot.outcome == "invalid"
    ballot.proposal.refresh_from_db()
    assert ballot.proposal.stage == Stage.VOTING
    second = council.ballot(ballot.proposal)
    assert second.pk != ballot.pk


def test_the_votes_digest_changes_with_any_vote(council, world):
    first = council.vote(council.ballot(), ["yes", "yes", "yes", "yes", "no"])
    services.ballot_close(actor=world.a_staff, ballot=first, reason="done")
    other = council.vote(council.ballot(), ["yes", "yes", "yes", "no", "yes"])
    services.ballot_close(actor=world.a_staff, ballot=other, reason="done")
    first.refresh_from_db()
    other.refresh_from_db()
    assert first.votes_sha256 != other.votes_sha256


def test_the_scheduler_closes_a_ballot_at_its_time_as_the_system(council, world, capsys):
    ballot = council.vote(council.ballot(hours=1), ["yes", "yes", "yes", "yes"])
    call_command("minutely")
    ballot.refresh_from_db()
    assert ballot.is_open
    with clock.travel(dt.timedelta(hours=1, minutes=1)):
        call_command("minutely")
    ballot.refresh_from_db()
    assert ballot.status == "closed" and ballot.closed_by is None
    assert ballot.outcome == "approved"
    event = EvidenceEvent.objects.get(action="proposal.approve")
    assert event.actor is None and event.public_actor == "the system"
    assert "ballots_closed 1" in capsys.readouterr().out


def test_members_who_have_not_voted_get_one_reminder(
    council, world, django_capture_on_commit_callbacks
):
    council.vote(council.ballot(hours=48), ["yes"])
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.ballots_remind() == 0
    with clock.travel(dt.timedelta(hours=25)), django_capture_on_commit_callbacks(execute=True):
        assert services.ballots_remind() == 4
        assert services.ballots_remind() == 0
    reminded = set(Notification.objects.values_list("recipient_id", flat=True))
    assert reminded == {m.pk for m in council.members[1:]}


def test_closing_a_ballot_early_needs_a_reason_and_an_open_ballot(council, world):
    ballot = council.ballot(hours=1)
    with pytest.raises(NotAllowed, match="Only the clerk can close a ballot."):
        services.ballot_close(actor=council.members[0], ballot=ballot, reason="够了")
    with pytest.raises(InvalidMove, match="Say why the ballot closes early"):
        services.ballot_close(actor=council.staff, ballot=ballot, reason="  ")
    services.ballot_close(actor=council.staff, ballot=ballot, reason="会上已表决")
    ballot.refresh_from_db()
    assert ballot.closed_by == council.staff and ballot.close_reason == "会上已表决"
    with pytest.raises(InvalidMove, match="This ballot is already closed."):
        services.ballot_close(actor=council.staff, ballot=ballot, reason="再关一次")


def test_a_ballot_closed_early_after_its_time_closes_at_its_time(council):
    ballot = council.ballot(hours=1)
    with clock.travel(dt.timedelta(hours=2)):
        closed = services.ballot_close(actor=council.staff, ballot=ballot, reason="")
        assert services.ballots_close_due() == 0
    assert closed.status == "closed" and closed.closed_by is None and closed.close_reason == ""


def test_the_scheduler_closes_each_ballot_past_its_time_once(council):
    due, later = council.ballot(hours=1), council.ballot(hours=3)
    with clock.travel(dt.timedelta(hours=2)):
        assert services.ballots_close_due() == 1
        assert services.ballots_close_due() == 0
    due.refresh_from_db(), later.refresh_from_db()
    assert due.status == "closed" and due.closed_by is None and later.status == "open"


def test_the_log_names_the_clerk_as_staff_and_a_voter_as_a_council_member(council, world):
    ballot = council.ballot()
    services.vote_cast(actor=world.a_member.user, ballot=ballot, choice="yes")  # also a resident
    services.ballot_close(actor=council.staff, ballot=ballot, reason="会议表决完毕")
    roles = dict(
        EvidenceEvent.objects.filter(object_type="voting.ballot").values_list(
            "action", "actor_role"
        )
    )
    assert roles == {
        "ballot.opened": "staff",
        "vote.cast": "council_member",
        "ballot.closed": "staff",
    }
    Council.objects.filter(community=world.a).update(secrecy="secret")
    secret = council.ballot(council.proposal())
    services.vote_cast(actor=world.a_member.user, ballot=secret, choice="yes")
    event = _events("vote.cast", secret).get()
    assert (event.actor, event.actor_role) == (None, "council_member")
