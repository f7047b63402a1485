"""A person's own data in the voting app (registered with ``council.personal_data``): their
votes (secret ones too: the export goes to them alone) and approval ballots in yearly rounds,
each with its receipt and commitment, declared recusals and meeting attendance."""

from __future__ import annotations

from council.personal_data import entered_by_other, iso

from ..models import Attendance, Recusal, RoundBallot, Vote, VotesFormat
from ..receipts import receipt_shown, round_commitment, vote_commitment


def _receipt(voted_in, receipt: str, commitment: str) -> dict:
    """The receipt and its commitment, for a ballot or round that publishes them."""
    if voted_in.votes_format != VotesFormat.RECEIPTS:
        return {"receipt": None, "commitment": None}
    return {"receipt": receipt_shown(receipt), "commitment": commitment}


def personal_data_of(user) -> dict:
    votes = Vote.objects.filter(member=user).select_related("ballot__proposal").order_by("pk")
    round_ballots = RoundBallot.objects.filter(member=user).select_related("round").order_by("pk")
    recusals = Recusal.objects.filter(member=user).select_related("proposal").order_by("pk")
    attendance = Attendance.objects.filter(member=user).select_related("meeting").order_by("pk")
    return {
        "votes": [
            {
                "ballot_id": v.ballot_id,
                "proposal_id": v.ballot.proposal_id,
                "proposal": v.ballot.proposal.title,
                "secrecy": v.ballot.secrecy,
                "choice": v.choice,
                # Whoever sees these two can see the choice: the file is for its owner alone.
                **_receipt(v.ballot, v.receipt, vote_commitment(v.ballot_id, v.receipt, v.choice)),
                "changes": v.changes,
                "entered_on_your_behalf": entered_by_other(v.recorded_by_id, user),
                "updated_at": iso(v.updated_at),
            }
            for v in votes
        ],
        "round_ballots": [
            {
                "round_id": b.round_id,
                "round": b.round.title,
                "approved_proposal_ids": list(b.approved),
                **_receipt(b.round, b.receipt, round_commitment(b.round_id, b.receipt, b.approved)),
                "entered_on_your_behalf": entered_by_other(b.recorded_by_id, user),
                "updated_at": iso(b.updated_at),
            }
            for b in round_ballots
        ],
        "recusals": [
            {
                "proposal_id": r.proposal_id,
                "proposal": r.proposal.title,
                "reason": r.reason,
                "created_at": iso(r.created_at),
            }
            for r in recusals
        ],
        "meeting_attendance": [
            {
                "meeting_id": a.meeting_id,
                "meeting": a.meeting.title,
                "starts_at": iso(a.meeting.starts_at),
                "marked_by_clerk": entered_by_other(a.recorded_by_id, user),
                "excused": a.excused,
                "created_at": iso(a.created_at),
            }
            for a in attendance
        ],
    }
