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

__all__ = [
    "awaiting_for",
    "ballot_for_page",
    "ballot_lines",
    "ballots_of_proposal",
    "council_overview",
    "meetings_open_for",
    "my_vote",
    "recusals_of",
    "round_for_page",
    "round_lines",
    "round_member_line",
]
