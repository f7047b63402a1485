"""What the proposals app adds to council's hooks (``council.hooks``)."""

from council import hooks

from .home import my_cosigns_section, my_proposals_section
from .lifecycle import TRANSITIONS
from .search import proposal_documents
from .selectors import evidence_names_of_proposals, followed_thread_ids, personal_data_of
from .services import ACTION_LABELS, follows_erase


@hooks.register("evidence_action_labels")
def action_labels() -> dict:
    """Each proposal action, and each move of the lifecycle as the move's own label."""
    return {**ACTION_LABELS, **{f"proposal.{move}": t.label for move, t in TRANSITIONS.items()}}


@hooks.register("evidence_object_names")
def object_names() -> dict:
    return {"proposals.proposal": evidence_names_of_proposals}


@hooks.register("personal_data_sections")
def personal_data(user) -> dict:
    return {"proposals": personal_data_of(user)}


# Closing an account forgets what the person followed.
hooks.register("personal_data_erasers", follows_erase)

# A person's own page (我的): their proposals with their steppers, then what they co-signed.
hooks.register("home_sections", my_proposals_section, order=30)
hooks.register("home_sections", my_cosigns_section, order=40)
# The discussion of a proposal one wrote, co-signed or follows is a thread one follows.
hooks.register("followed_threads", followed_thread_ids)
# Every public proposal, when the search index is rebuilt.
hooks.register("search_documents", proposal_documents)
