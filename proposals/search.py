"""What the search index holds of a proposal: its title, and its summary, description and
location as the body. Only public proposals are in it (never a draft); the proposer's name
and anything private are never in it.

``proposal_index`` is called by the writes that make a proposal public (the lifecycle's moves
out of draft) or change its text (``services.proposal_revise``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from council.search import SearchDocument, search_index_remove, search_index_update

from .models import Proposal, Stage

KIND = "proposal"
_MARKDOWN = re.compile(r"[#*_`>|~\[\]]+|!?\[|\]\([^)]*\)")


def proposal_text(proposal: Proposal) -> str:
    """The proposal's searchable text below its title, as plain text (Markdown's marks
    dropped): summary, description, location."""
    body = _MARKDOWN.sub(" ", proposal.body or "")
    return "\n".join((proposal.summary, body, proposal.location))


def proposal_document(proposal: Proposal) -> SearchDocument:
    return SearchDocument(
        kind=KIND,
        object_id=proposal.pk,
        community_id=proposal.community_id,
        title=proposal.title,
        body=proposal_text(proposal),
    )


def proposal_index(proposal: Proposal) -> None:
    """Keep the index in step with ``proposal``: in it when public, out of it when not."""
    if proposal.stage in Stage.PUBLIC:
        search_index_update(proposal_document(proposal))
    else:
        search_index_remove(KIND, proposal.pk)


def proposal_documents() -> Iterator[SearchDocument]:
    """Every public proposal, for rebuilding the index (hook ``search_documents``)."""
    rows = (
        Proposal.objects.public()
        .only("pk", "community_id", "title", "summary", "body", "location")
        .order_by("pk")
    )
    for proposal in rows.iterator(chunk_size=2000):
        yield proposal_document(proposal)
