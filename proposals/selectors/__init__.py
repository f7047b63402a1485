"""Reads of the proposals app, each with a query count that does not grow with the data."""

from .evidence import evidence_names_of_proposals
from .listing import SORTS, ProposalFilter, follows_community, proposal_list, stage_counts
from .mine import followed_thread_ids, my_cosigned, my_proposals
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
from .steps import Step, Stepper, main_path, proposal_steps, proposals_steps

__all__ = [
    "Found",
    "SORTS",
    "ProposalFilter",
    "ProposalPage",
    "Step",
    "Stepper",
    "attachment_for_serving",
    "evidence_names_of_proposals",
    "follows_community",
    "followed_thread_ids",
    "follows_proposal",
    "has_cosigned",
    "latest_revision_number",
    "merge_target",
    "main_path",
    "merge_targets",
    "my_cosigned",
    "my_proposals",
    "personal_data_of",
    "proposal_for_page",
    "proposal_list",
    "proposal_page",
    "proposal_steps",
    "proposals_steps",
    "proposal_revisions",
    "proposal_search",
    "proposals_found",
    "proposal_timeline",
    "stage_counts",
]
