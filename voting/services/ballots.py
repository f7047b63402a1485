"""Ballots on a single proposal (表决): open, vote, record offline votes, close.

Each service locks the ballot row first, so votes, the clerk's entries and closing are
serialised per ballot: no vote slips in after the close, and the count frozen at closing is
exactly what the votes table held. One vote per member is a database constraint too.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.models import RoleKind
from council.notifications import notify_on_commit
from council.validators import refuse_line_breaks
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage

from ..models import (
    Ballot,
    BallotStatus,
    Choice,
    Eligibility,
    HandCount,
    Meeting,
    Outcome,
    Recusal,
    Reservation,
    Vote,
    VotesFormat,
)
from ..receipts import ballot_list_digest, receipt_new, vote_commitment
from ..selectors.money import envelope_left
from ..selectors.results import ballot_tally
from ..selectors.votes import on_open_vote, recused_ids, seated_members
from ._common import (
    board_changed,
    clerk_deadline,
    closing_time_check,
    locked,
    member_entry,
    opened_notify,
    opening_fields,
    record_secret_act,
    require,
    rules_copy,
    voter_commitment,
    when_text,
)


def _ballot_url(ballot: Ballot) -> str:
    return reverse("ballot", args=[ballot.community.slug, ballot.pk])


def _lock(ballot: Ballot) -> Ballot:
    return locked(ballot, "community", "proposal")


@transaction.atomic
def ballot_open(
    *, actor, proposal: Proposal, closes_at: dt.datetime, meeting: Meeting | None = None
) -> Ballot:
    """Open a ballot on ``proposal`` (in voting) as clerk, or raise and change nothing.

    Guarantees: the ballot copies the council's rules and the list of seated members as they
    are now (the proposer and members who declared a conflict listed as recused); the
    proposal's counted cost fits in what is left of this year's envelope; at most one ballot
    of a proposal is open. Eligible members are notified on commit.
    """
    proposal = Proposal.objects.select_for_update().select_related("community").get(pk=proposal.pk)
    community = proposal.community
    require(
        actor, "voting.open_ballot", community, _("Only the community's staff can open a ballot.")
    )
    if proposal.stage != Stage.VOTING:
        raise InvalidMove(
            _("Only a proposal in voting can be put to a ballot (this one is %(stage)s).")
            % {"stage": proposal.get_stage_display()}
        )
    if meeting is not None and meeting.community_id != community.pk:
        raise InvalidMove(_("That meeting is of another community."))
    now = clock.now()
    closing_time_check(closes_at, now)
    if on_open_vote(proposal):
        raise InvalidMove(_("This proposal is already on an open ballot or round."))
    fields = opening_fields(actor, community, closes_at, now)
    envelope = fields["envelope"]
    cost, left = proposal.counted_cost, envelope_left(envelope)
    if cost > left:
        from council.money import format_yuan

        raise InvalidMove(
            _("Its cost of %(cost)s does not fit in the %(left)s left of the %(year)s envelope.")
            % {"cost": format_yuan(cost), "left": format_yuan(left), "year": envelope.year}
        )
    members = seated_members(community)
    recused = recused_ids(proposal)
    voters = [user for user, _seat in members if user.pk not in recused]
    if not voters:
        raise InvalidMove(_("The council has no member who may vote on this proposal."))
    ballot = Ballot.objects.create(proposal=proposal, meeting=meeting, base=len(voters), **fields)
    Eligibility.objects.bulk_create(
        [
            Eligibility(ballot=ballot, member=user, seat_category=seat, recused=user.pk in recused)
            for user, seat in members
        ]
    )
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="ballot.opened",
        obj=ballot,
        community=community,
        payload={
            "proposal": proposal.pk,
            "closes_at": closes_at.isoformat(),
            "base": ballot.base,
            "rules": rules_copy(ballot),
            "meeting": meeting.pk if meeting else None,
        },
    )
    opened_notify(
        voters,
        gettext_lazy("Ballot open on “%(title)s” until %(when)s: your vote is awaited."),
        proposal.title,
        closes_at,
        _ballot_url(ballot),
    )
    board_changed(ballot.meeting_id)
    return ballot


def _check_open(ballot: Ballot) -> None:
    if ballot.status != BallotStatus.OPEN or ballot.closes_at <= clock.now():
        raise InvalidMove(
            _("This ballot closed at %(when)s; votes are no longer accepted.")
            % {"when": when_text(ballot.closed_at or ballot.closes_at)}
        )


def _store_vote(ballot: Ballot, member, choice: str, recorded_by=None) -> tuple[bool, bool]:
    """Insert or overwrite the member's one vote, each time with a fresh receipt; returns
    (created, changed)."""
    now = clock.now()
    vote, created = member_entry(
        ballot.votes, member=member, recorded_by=recorded_by, now=now, choice=choice
    )
    if created:
        return True, True
    if vote.choice == choice:
        return False, False
    vote.choice, vote.recorded_by, vote.updated_at = choice, recorded_by, now
    vote.receipt = receipt_new()  # the old one's commitment is never published
    vote.changes += 1
    vote.save(update_fields=["choice", "receipt", "recorded_by", "updated_at", "changes"])
    return False, True


def _line_and_vote(ballot: Ballot, member) -> Eligibility | None:
    """The member's line on the ballot's list (None if not on it), with their vote so far
    (``vote_id``, ``vote_choice``; None if they have not voted): one query.

    Read in a statement of its own once the ballot's row is locked, so that it sees what the
    vote that held the lock before committed. (Read in the locking statement itself, the
    vote would be as it was before that statement waited for the lock, under PostgreSQL's
    READ COMMITTED: two quick votes of one member would both insert.)"""
    vote = Vote.objects.filter(ballot=ballot, member=member)
    return (
        Eligibility.objects.filter(ballot=ballot, member=member)
        .annotate(
            vote_id=Subquery(vote.values("pk")[:1]),
            vote_choice=Subquery(vote.values("choice")[:1]),
        )
        .first()
    )


@transaction.atomic
def vote_cast(*, actor, ballot: Ballot, choice: str) -> Ballot:
    """Cast or change ``actor``'s vote (yes / no / abstain) until the ballot closes.

    Refused with a message for a closed ballot, a non-member, a recused member or a member of
    another community. Each cast and each change gets a fresh receipt (shown to the member
    alone) and is an evidence event; for a secret ballot the event says "voted" / "changed
    vote" without the choice and without naming the member (``record_secret_act``). Voting
    again for the same choice changes nothing and records nothing.

    Six queries for a cast or a change (lock, read the member's line and vote, write, the
    voter's roles, the event). Votes on other ballots never wait on this one: the only lock is this
    ballot's row, and the log takes its entries without a lock (``council.evidence``).
    """
    if choice not in Choice.values:
        raise InvalidMove(_("Choose yes, no or abstain."))
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Sign in to vote."))
    ballot = _lock(ballot)
    _check_open(ballot)
    line = _line_and_vote(ballot, actor)
    if line is None:
        raise NotAllowed(
            _("Only members of %(community)s's council on this ballot's list can vote in it.")
            % {"community": ballot.community}
        )
    if line.recused:
        raise NotAllowed(_("You are recused from this proposal, so you do not vote on it."))
    if line.vote_choice == choice:
        return ballot
    now = clock.now()
    created = line.vote_id is None
    if created:
        # No savepoint needed, unlike ``member_entry``: under this ballot's lock no other
        # request can have inserted the member's vote since the read above (SQLite's
        # transactions take the write lock at BEGIN: IMMEDIATE); the database's one-vote
        # constraint stands behind it.
        Vote.objects.create(
            ballot=ballot, member=actor, choice=choice, receipt=receipt_new(), updated_at=now
        )
    else:
        # The old receipt's commitment is never published: a change gets a fresh one.
        Vote.objects.filter(pk=line.vote_id).update(
            choice=choice,
            receipt=receipt_new(),
            recorded_by=None,
            updated_at=now,
            changes=F("changes") + 1,
        )
    action = "vote.cast" if created else "vote.changed"
    if ballot.is_secret:
        record_secret_act(actor, action, ballot, ballot.community, {})
    else:
        # The voter's commitment as in a secret ballot: one key per member on this ballot,
        # whoever records the vote, so that the log alone recounts a roll-call ballot.
        evidence_record(
            actor=actor,
            roles=(RoleKind.COUNCIL_MEMBER,),
            action=action,
            obj=ballot,
            community=ballot.community,
            payload={"choice": choice, "voter": voter_commitment(ballot, actor)},
        )
    board_changed(ballot.meeting_id)
    return ballot


@transaction.atomic
def vote_record_by_clerk(*, actor, ballot: Ballot, member, choice: str) -> Ballot:
    """Record a member's vote given by show of hands at a meeting (roll-call ballots only),
    marked as recorded by the clerk."""
    ballot = _lock(ballot)
    require(
        actor, "voting.record_paper_vote", ballot.community, _("Only the clerk can record votes.")
    )
    if ballot.is_secret:
        raise InvalidMove(_("In a secret ballot the clerk records totals only."))
    if choice not in Choice.values:
        raise InvalidMove(_("Choose yes, no or abstain."))
    _check_open(ballot)
    line = Eligibility.objects.filter(ballot=ballot, member=member).first()
    if line is None or line.recused:
        raise InvalidMove(_("That member is not on this ballot's list of voters."))
    created, changed = _store_vote(ballot, member, choice, recorded_by=actor)
    if changed:
        evidence_record(
            actor=actor,
            roles=(RoleKind.STAFF,),
            action="vote.recorded_by_clerk",
            obj=ballot,
            community=ballot.community,
            payload={
                "member": member.display_name,
                "choice": choice,
                "changed": not created,
                "voter": voter_commitment(ballot, member),
            },
        )
        board_changed(ballot.meeting_id)
    return ballot


@transaction.atomic
def hand_count_record(*, actor, ballot: Ballot, yes: int, no: int, abstain: int) -> HandCount:
    """Record the totals of a show of hands for a secret ballot: for members present who have
    not voted online. Replaces the previous totals until the ballot closes."""
    ballot = _lock(ballot)
    require(
        actor, "voting.record_hand_count", ballot.community, _("Only the clerk can record votes.")
    )
    if not ballot.is_secret:
        raise InvalidMove(_("In a roll-call ballot the clerk records each member's vote."))
    _check_open(ballot)
    if min(yes, no, abstain) < 0:
        raise InvalidMove(_("Totals cannot be negative."))
    room = ballot.base - ballot.votes.count()
    if yes + no + abstain > room:
        raise InvalidMove(
            _("Only %(n)d members have not voted online; the totals add up to more.") % {"n": room}
        )
    count, _created = HandCount.objects.update_or_create(
        ballot=ballot,
        defaults={
            "yes": yes,
            "no": no,
            "abstain": abstain,
            "recorded_by": actor,
            "updated_at": clock.now(),
        },
    )
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="ballot.hands_counted",
        obj=ballot,
        community=ballot.community,
        payload={"yes": yes, "no": no, "abstain": abstain},
    )
    board_changed(ballot.meeting_id)
    return count


def _close(ballot: Ballot, actor, reason: str) -> Ballot:
    """Freeze the result and move the proposal; the ballot row is locked by the caller.

    ``votes_sha256`` becomes the SHA-256 of the published list (``voting.receipts``): each
    vote's commitment with its choice, and the show of hands."""
    tally = ballot_tally(ballot)
    rows = [
        (vote_commitment(ballot.pk, receipt, choice), choice)
        for receipt, choice in ballot.votes.values_list("receipt", "choice")
    ]
    hands = HandCount.objects.filter(ballot=ballot).first()
    counted = (hands.yes, hands.no, hands.abstain) if hands is not None else (0, 0, 0)
    ballot.status = BallotStatus.CLOSED
    ballot.closed_at = clock.now()
    ballot.closed_by = actor
    ballot.close_reason = reason
    ballot.yes, ballot.no, ballot.abstain = tally.yes, tally.no, tally.abstain
    ballot.outcome = tally.outcome
    ballot.votes_sha256 = ballot_list_digest(ballot.pk, rows, counted)
    ballot.votes_format = VotesFormat.RECEIPTS
    ballot.save()
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="ballot.closed",
        obj=ballot,
        community=ballot.community,
        payload={**tally.as_dict(), "votes_sha256": ballot.votes_sha256, "reason": reason},
    )
    proposal = ballot.proposal
    if ballot.outcome == Outcome.APPROVED:
        proposal_move(actor=actor, proposal=proposal, move=Move.APPROVE, basis=ballot)
        Reservation.objects.create(
            envelope=ballot.envelope, proposal=proposal, amount=proposal.counted_cost
        )
    elif ballot.outcome == Outcome.REJECTED:
        proposal_move(actor=actor, proposal=proposal, move=Move.REJECT, basis=ballot)
    title, outcome = proposal.title, ballot.get_outcome_display
    voters = [line.member for line in ballot.eligible.select_related("member")]
    notify_on_commit(
        voters,
        lambda: (
            _("Ballot on “%(title)s” closed: %(outcome)s.") % {"title": title, "outcome": outcome()}
        ),
        _ballot_url(ballot),
    )
    board_changed(ballot.meeting_id)
    return ballot


BALLOTS = clerk_deadline(
    Ballot,
    lock=_lock,
    close=_close,
    refusal=gettext_lazy("Only the clerk can close a ballot."),
    already_closed=gettext_lazy("This ballot is already closed."),
    reason_needed=gettext_lazy("Say why the ballot closes early; the reason is published."),
)


def ballot_close(*, actor, ballot: Ballot, reason: str) -> Ballot:
    """Close an open ballot early, as clerk, with a reason (evidence); one past its time is
    closed at its time instead (``council.deadlines``)."""
    return BALLOTS.close_early(ballot, actor=actor, reason=reason)


def ballot_close_if_due(ballot: Ballot) -> Ballot:
    """``ballot``, closed first if its time has passed (anyone reading it may trigger this)."""
    return BALLOTS.close_if_due(ballot)


def ballots_close_if_due(ballots: list[Ballot]) -> list[Ballot]:
    """``ballots`` in their order, each closed first if its time has passed."""
    return BALLOTS.close_each_if_due(ballots)


def ballots_close_due() -> int:
    """Close every ballot past its closing time; returns how many closed (scheduler)."""
    return BALLOTS.close_all_due()


def reminder_due(opened_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> bool:
    """Remind when a day or half the voting time is left, whichever comes later."""
    lead = min(dt.timedelta(days=1), (closes_at - opened_at) / 2)
    return now >= closes_at - lead


def ballots_remind() -> int:
    """Remind members who have not voted, once per ballot, before it closes."""
    now = clock.now()
    sent = 0
    for ballot in Ballot.objects.filter(
        status=BallotStatus.OPEN, reminded_at__isnull=True, closes_at__gt=now
    ).select_related("community", "proposal"):
        if not reminder_due(ballot.opened_at, ballot.closes_at, now):
            continue
        with transaction.atomic():
            updated = Ballot.objects.filter(pk=ballot.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not updated:
                continue
            voted = set(ballot.votes.values_list("member_id", flat=True))
            waiting = [
                line.member
                for line in ballot.eligible.filter(recused=False).select_related("member")
                if line.member_id not in voted
            ]
            title, closes = ballot.proposal.title, ballot.closes_at
            notify_on_commit(
                waiting,
                lambda title=title, closes=closes: (
                    _("Reminder: the ballot on “%(title)s” closes at %(when)s.")
                    % {"title": title, "when": when_text(closes)}
                ),
                _ballot_url(ballot),
            )
            sent += len(waiting)
    return sent


@transaction.atomic
def recusal_declare(*, actor, proposal: Proposal, reason: str) -> Recusal:
    """A member declares a conflict of interest on a proposal (回避). On a ballot already open
    they leave its base, and a vote they gave is withdrawn (both evidence)."""
    proposal = Proposal.objects.select_for_update().select_related("community").get(pk=proposal.pk)
    require(
        actor,
        "voting.declare_recusal",
        proposal,
        _("Only members of %(community)s's council declare a conflict of interest here.")
        % {"community": proposal.community},
    )
    reason = reason.strip()
    if not reason:
        raise InvalidMove(_("Say what the conflict of interest is; it is published."))
    refuse_line_breaks(reason)
    recusal, created = Recusal.objects.get_or_create(
        proposal=proposal, member=actor, defaults={"reason": reason[:300]}
    )
    if not created:
        raise InvalidMove(_("You have already declared a conflict of interest on this proposal."))
    evidence_record(
        actor=actor,
        roles=(RoleKind.COUNCIL_MEMBER,),
        action="ballot.recusal_declared",
        obj=proposal,
        community=proposal.community,
        payload={"reason": recusal.reason},
    )
    for ballot in Ballot.objects.filter(proposal=proposal, status=BallotStatus.OPEN):
        ballot = _lock(ballot)
        line = Eligibility.objects.filter(ballot=ballot, member=actor, recused=False).first()
        if line is None:
            continue
        line.recused = True
        line.save(update_fields=["recused"])
        ballot.votes.filter(member=actor).delete()
        ballot.base -= 1
        ballot.save(update_fields=["base"])
        payload = {"base": ballot.base}
        if not ballot.is_secret:
            # Whose vote is withdrawn, for the recount; in a secret ballot that would say
            # the member had voted, so its recount allows for it instead.
            payload["voter"] = voter_commitment(ballot, actor)
        evidence_record(
            actor=actor,
            roles=(RoleKind.COUNCIL_MEMBER,),
            action="ballot.member_recused",
            obj=ballot,
            community=ballot.community,
            payload=payload,
        )
        board_changed(ballot.meeting_id)
    return recusal
