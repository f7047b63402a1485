"""A person's own data in the voting app (registered with ``council.personal_data``): their
votes (secret ones too: the export goes to them alone), approval ballots in yearly rounds,
declared recusals and meeting attendance."""

from __future__ import annotations

from ..models import Attendance, Recusal, RoundBallot, Vote


def _iso(value):
    return value.isoformat() if value is not None else None


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
                "changes": v.changes,
                "entered_on_your_behalf": v.recorded_by_id is not None
                and v.recorded_by_id != user.pk,
                "updated_at": _iso(v.updated_at),
            }
            for v in votes
        ],
        "round_ballots": [
            {
                "round_id": b.round_id,
                "round": b.round.title,
                "approved_proposal_ids": list(b.approved),
                "entered_on_your_behalf": b.recorded_by_id is not None
                and b.recorded_by_id != user.pk,
                "updated_at": _iso(b.updated_at),
            }
            for b in round_ballots
        ],
        "recusals": [
            {
                "proposal_id": r.proposal_id,
                "proposal": r.proposal.title,
                "reason": r.reason,
                "created_at": _iso(r.created_at),
            }
            for r in recusals
        ],
        "meeting_attendance": [
            {
                "meeting_id": a.meeting_id,
                "meeting": a.meeting.title,
                "starts_at": _iso(a.meeting.starts_at),
                "marked_by_clerk": a.recorded_by_id is not None and a.recorded_by_id != user.pk,
                "created_at": _iso(a.created_at),
            }
            for a in attendance
        ],
    }
