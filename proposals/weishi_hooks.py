"""What the proposals app adds to council's hooks (``council.hooks``)."""

from council import hooks

from .lifecycle import TRANSITIONS
from .search import proposal_documents
from .selectors import personal_data_of
from .services import ACTION_LABELS, follows_erase


@hooks.register("evidence_action_labels")
def action_labels() -> dict:
    """Each proposal action, and each move of the lifecycle as the move's own label."""
    return {**ACTION_LABELS, **{f"proposal.{move}": t.label for move, t in TRANSITIONS.items()}}


@hooks.register("personal_data_sections")
def personal_data(user) -> dict:
    return {"proposals": personal_data_of(user)}


# Closing an account forgets what the person followed.
hooks.register("personal_data_erasers", follows_erase)

# Every public proposal, when the search index is rebuilt.
hooks.register("search_documents", proposal_documents)
