"""Every write of the voting app. Split by subject; import from here."""

from ._common import envelope_of_year, meeting_group
from .ballots import (
    ballot_close,
    ballot_close_if_due,
    ballot_open,
    ballots_close_due,
    ballots_close_if_due,
    ballots_remind,
    hand_count_record,
    recusal_declare,
    vote_cast,
    vote_record_by_clerk,
)
from .meetings import (
    attendance_mark,
    attendance_sign_in,
    meeting_agenda_set,
    meeting_schedule,
    meeting_set_current,
    meeting_set_status,
    meetings_remind,
    minutes_save,
)
from .rounds import (
    round_ballot_submit,
    round_close,
    round_close_if_due,
    round_import,
    round_open,
    rounds_close_due,
    rounds_remind,
)


def voting_tick() -> dict[str, int]:
    """What the minute scheduler runs: close what is due, then send reminders."""
    return {
        "ballots_closed": ballots_close_due(),
        "rounds_closed": rounds_close_due(),
        "ballot_reminders": ballots_remind(),
        "round_reminders": rounds_remind(),
        "meeting_reminders": meetings_remind(),
    }


__all__ = [
    "attendance_mark",
    "attendance_sign_in",
    "ballot_close",
    "ballot_close_if_due",
    "ballot_open",
    "ballots_close_due",
    "ballots_close_if_due",
    "ballots_remind",
    "envelope_of_year",
    "hand_count_record",
    "meeting_agenda_set",
    "meeting_group",
    "meeting_schedule",
    "meeting_set_current",
    "meeting_set_status",
    "meetings_remind",
    "minutes_save",
    "recusal_declare",
    "round_ballot_submit",
    "round_close",
    "round_close_if_due",
    "round_import",
    "round_open",
    "rounds_close_due",
    "rounds_remind",
    "vote_cast",
    "vote_record_by_clerk",
    "voting_tick",
]
