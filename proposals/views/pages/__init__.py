"""A proposal's page and its actions: thin views that read through ``proposals.selectors``
and write through ``proposals.services`` and ``proposals.lifecycle``.

Every view finds the community first (``access_community``), then the proposal *of that
community*; a proposal the user may not see (a draft of someone else's) is 404, like one that
does not exist. Refusals of a service become a message on the page, never an error page: a
POST ends in a redirect to the proposal (PRG), or in a fragment for htmx.

``detail``: the page, the moves of its buttons, co-signs and follows; ``drafting``: writing,
editing and submitting a proposal; ``staff``: the forms of staff and invited experts;
``revisions``: revising the text and comparing revisions; ``files``: adding and serving photos
and documents; ``share``: the share box and the A5 sheet for co-signs; ``common``: what they share.
"""

from .detail import (
    community_follow,
    proposal_cosign,
    proposal_detail,
    proposal_follow,
    proposal_move_view,
)
from .drafting import proposal_create, proposal_edit, proposal_similar
from .files import attachment_file, attachment_thumbnail, proposal_upload
from .revisions import proposal_diff, proposal_revise_view
from .share import proposal_cosign_sheet
from .staff import (
    proposal_admissibility,
    proposal_feasibility,
    proposal_invite_expert,
    proposal_opinion,
)

__all__ = [
    "attachment_file",
    "attachment_thumbnail",
    "community_follow",
    "proposal_admissibility",
    "proposal_cosign",
    "proposal_cosign_sheet",
    "proposal_create",
    "proposal_detail",
    "proposal_diff",
    "proposal_edit",
    "proposal_feasibility",
    "proposal_follow",
    "proposal_invite_expert",
    "proposal_move_view",
    "proposal_opinion",
    "proposal_revise_view",
    "proposal_similar",
    "proposal_upload",
]
