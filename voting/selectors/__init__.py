"""Reads of the voting app, each with a query count that does not grow with the data."""

from .ballots import (
    awaiting_for,
    ballot_for_page,
    ballot_lines,
    ballots_of_proposal,
    council_overview,
    meetings_open_for,
    my_vote,
    recusals_of,
    round_for_page,
    round_lines,
    round_member_line,
)
from .receipts import (
    ballot_list,
    ballot_lists,
    hand_counts,
    my_receipt,
    my_round_receipt,
    round_list,
    round_lists,
)

__all__ = [
    "awaiting_for",
    "ballot_for_page",
    "ballot_list",
    "ballot_lists",
    "ballot_lines",
    "ballots_of_proposal",
    "council_overview",
    "hand_counts",
    "meetings_open_for",
    "my_receipt",
    "my_round_receipt",
    "my_vote",
    "recusals_of",
    "round_for_page",
    "round_lines",
    "round_list",
    "round_lists",
    "round_member_line",
]
