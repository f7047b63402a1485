"""Pages of the voting app: thin views over ``voting.selectors`` and ``voting.services``."""

from .ballots import (
    awaiting,
    ballot_close_view,
    ballot_detail,
    ballot_hands,
    ballot_new,
    ballot_record,
    ballot_vote,
    council_page,
    recusal,
)
from .meetings import (
    meeting_agenda,
    meeting_attendance,
    meeting_attendance_all,
    meeting_board,
    meeting_check_in,
    meeting_current,
    meeting_detail,
    meeting_minutes,
    meeting_new,
    meeting_sign_in,
    meeting_status,
)
from .rounds import round_ballot, round_close_view, round_detail, round_new

__all__ = [
    "awaiting",
    "ballot_close_view",
    "ballot_detail",
    "ballot_hands",
    "ballot_new",
    "ballot_record",
    "ballot_vote",
    "council_page",
    "meeting_agenda",
    "meeting_attendance",
    "meeting_attendance_all",
    "meeting_board",
    "meeting_check_in",
    "meeting_current",
    "meeting_detail",
    "meeting_minutes",
    "meeting_new",
    "meeting_sign_in",
    "meeting_status",
    "recusal",
    "round_ballot",
    "round_close_view",
    "round_detail",
    "round_new",
]
