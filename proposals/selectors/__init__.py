"""Reads of the proposals app, each with a query count that does not grow with the data."""

from .listing import SORTS, ProposalFilter, follows_community, proposal_list, stage_counts
from .pages import (
    ProposalPage,
    attachment_for_serving,
    follows_proposal,
    has_cosigned,
    latest_revision_number,
    merge_target,
    merge_targets,
    proposal_for_page,
    proposal_page,
    proposal_revisions,
    proposal_timeline,
)
from .personal_data import personal_data_of
from .search import Found, proposal_search, proposals_found

__all__ = [
    "Found",
    "SORTS",
    "ProposalFilter",
    "ProposalPage",
    "attachment_for_serving",
    "follows_community",
    "follows_proposal",
    "has_cosigned",
    "latest_revision_number",
    "merge_target",
    "merge_targets",
    "personal_data_of",
    "proposal_for_page",
    "proposal_list",
    "proposal_page",
    "proposal_revisions",
    "proposal_search",
    "proposals_found",
    "proposal_timeline",
    "stage_counts",
]
