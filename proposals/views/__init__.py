"""Views of the proposals app: the list (``listing``) and a proposal's page and actions
(``pages``)."""

from .listing import proposal_list
from .pages import (
    attachment_file,
    attachment_thumbnail,
    community_follow,
    proposal_admissibility,
    proposal_cosign,
    proposal_create,
    proposal_detail,
    proposal_diff,
    proposal_edit,
    proposal_feasibility,
    proposal_follow,
    proposal_invite_expert,
    proposal_move_view,
    proposal_opinion,
    proposal_revise_view,
    proposal_upload,
)

__all__ = [
    "attachment_file",
    "attachment_thumbnail",
    "community_follow",
    "proposal_admissibility",
    "proposal_cosign",
    "proposal_create",
    "proposal_detail",
    "proposal_diff",
    "proposal_edit",
    "proposal_feasibility",
    "proposal_follow",
    "proposal_invite_expert",
    "proposal_list",
    "proposal_move_view",
    "proposal_opinion",
    "proposal_revise_view",
    "proposal_upload",
]
