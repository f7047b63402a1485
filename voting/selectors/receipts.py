"""Reads of receipts (``voting.receipts``): a member's own receipt, and the lists published
once a ballot or round closes.

A receipt is read for its own member only: ``ballot_votes`` (``voting.selectors.ballots``) and
``my_round_receipt`` take the signed-in user and never anyone else's. The published lists hold
commitments and choices, never a member, in the order of the commitments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..models import Ballot, Choice, HandCount, Round, RoundBallot, Vote, VotesFormat
from ..receipts import (
    approved_text,
    ballot_list_digest,
    receipt_shown,
    round_commitment,
    round_list_digest,
    vote_commitment,
)


@dataclass(frozen=True)
class BallotList:
    """A closed ballot's published list: (commitment, choice) sorted, and the show of hands."""

    ballot_id: int
    votes: list[tuple[str, str]]
    hands: tuple[int, int, int]

    @property
    def digest(self) -> str:
        return ballot_list_digest(self.ballot_id, self.votes, self.hands)

    def rows(self) -> list[dict]:
        labels = dict(Choice.choices)
        return [{"commitment": c, "choice": v, "label": labels[v]} for c, v in self.votes]


@dataclass(frozen=True)
class RoundList:
    """A closed round's published list: (commitment, approved ids as text) sorted."""

    round_id: int
    ballots: list[tuple[str, str]]

    @property
    def digest(self) -> str:
        return round_list_digest(self.round_id, self.ballots)


def _published_lines(items, model, parent: str, value: str, line) -> dict[int, list]:
    """For each of ``items`` (ballots or rounds) that publishes its receipts, by id: the
    sorted ``line(id, receipt, value)`` of each of its ``model`` rows. One query, none if no
    item publishes."""
    ids = [item.pk for item in items if item.publishes_receipts]
    lines: dict[int, list] = {pk: [] for pk in ids}
    if ids:
        rows = model.objects.filter(**{f"{parent}_id__in": ids})
        for pk, receipt, got in rows.values_list(f"{parent}_id", "receipt", value):
            lines[pk].append(line(pk, receipt, got))
    return {pk: sorted(found) for pk, found in lines.items()}


def _vote_line(ballot_id: int, receipt: str, choice: str) -> tuple[str, str]:
    return vote_commitment(ballot_id, receipt, choice), choice


def _round_ballot_line(round_id: int, receipt: str, approved: list[int]) -> tuple[str, str]:
    return round_commitment(round_id, receipt, approved), approved_text(approved)


def ballot_lists(ballots: Iterable[Ballot]) -> dict[int, BallotList]:
    """The published list of each of ``ballots`` that publishes one (closed since receipts),
    by ballot id. Two queries, however many ballots."""
    votes = _published_lines(ballots, Vote, "ballot", "choice", _vote_line)
    if not votes:
        return {}
    hands = hand_counts(votes)
    return {pk: BallotList(pk, lines, hands.get(pk, (0, 0, 0))) for pk, lines in votes.items()}


def ballot_list(ballot: Ballot) -> BallotList | None:
    return ballot_lists([ballot]).get(ballot.pk)


def hand_counts(ballot_ids: Iterable[int]) -> dict[int, tuple[int, int, int]]:
    """The clerk's show-of-hands totals (yes, no, abstain) of these ballots, where recorded."""
    return {
        h.ballot_id: (h.yes, h.no, h.abstain)
        for h in HandCount.objects.filter(ballot_id__in=list(ballot_ids))
    }


def round_lists(rounds: Iterable[Round]) -> dict[int, RoundList]:
    """The published list of each of ``rounds`` that publishes one, by round id. One query."""
    ballots = _published_lines(rounds, RoundBallot, "round", "approved", _round_ballot_line)
    return {pk: RoundList(pk, lines) for pk, lines in ballots.items()}


def round_list(round_: Round) -> RoundList | None:
    return round_lists([round_]).get(round_.pk)


def receipt_of(ballot: Ballot, vote: Vote | None) -> dict | None:
    """What the member who cast ``vote`` is shown of their receipt (None without a vote, or on
    a ballot closed before receipts). ``vote`` must be the reader's own."""
    if vote is None or ballot.votes_format != VotesFormat.RECEIPTS:
        return None
    return {
        "receipt": receipt_shown(vote.receipt),
        "commitment": vote_commitment(ballot.pk, vote.receipt, vote.choice),
        "choice": vote.get_choice_display(),
    }


def my_round_receipt(round_: Round, user) -> dict | None:
    """The signed-in ``user``'s own receipt on ``round_`` and its commitment, if they handed in
    a ballot (and the round is not one closed before receipts)."""
    if not user.is_authenticated or round_.votes_format != VotesFormat.RECEIPTS:
        return None
    ballot = RoundBallot.objects.filter(round=round_, member=user).first()
    if ballot is None:
        return None
    return {
        "receipt": receipt_shown(ballot.receipt),
        "commitment": round_commitment(round_.pk, ballot.receipt, ballot.approved),
        "approved": approved_text(ballot.approved),
    }
