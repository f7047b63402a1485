"""Searching public proposals: the ranked hits of ``council.search``, made into results to
show (title and snippet with the matched words marked, community, stage, link).

Whatever the number of matches, a page of results costs a constant number of queries: the
count, the page of hits, and one query for the page's proposals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils.safestring import SafeString

from council.search import Hit, SearchHits, Term, highlighted, query_terms, snippet

from ..models import Proposal, Stage
from ..search import KIND, proposal_text


@dataclass(frozen=True)
class Found:
    """One search result, ready to show."""

    kind: str
    url: str
    title: SafeString  # escaped, the matched words in <mark>
    snippet: SafeString  # escaped, the matched words in <mark>
    community: object
    label: str  # the proposal's stage, or the disclosure's kind
    css: str  # the tag's class: stage-<stage> or kind-<kind>
    date: object = None
    open_for_cosigns: bool = False


def proposals_found(ids: Sequence[int], terms: Sequence[Term]) -> dict[int, Found]:
    """The results for these proposals, in one query; a proposal that is not public (or no
    longer exists) is left out, whatever the index says."""
    proposals = (
        Proposal.objects.public()
        .filter(pk__in=ids)
        .select_related("community")
        .only(
            "pk", "title", "summary", "body", "location", "stage", "submitted_at",
            "community__slug", "community__name",
        )
    )  # fmt: skip
    return {
        p.pk: Found(
            kind=KIND,
            url=reverse("proposal", args=[p.community.slug, p.pk]),
            title=highlighted(p.title, terms),
            snippet=snippet(proposal_text(p), terms),
            community=p.community,
            label=p.get_stage_display(),
            css=f"stage-{p.stage}",
            date=p.submitted_at,
            open_for_cosigns=p.stage == Stage.SUBMITTED,
        )
        for p in proposals
    }


def proposal_search(q: str, community=None) -> SearchHits:
    """Public proposals matching ``q`` (of ``community`` if given), best first, as ``Found``
    results; paginate it or slice it."""
    terms = query_terms(q)

    def resolve(hits: list[Hit]) -> list[Found]:
        found = proposals_found([h.object_id for h in hits], terms)
        return [found[h.object_id] for h in hits if h.object_id in found]

    return SearchHits(
        terms,
        kinds=[KIND],
        community_id=community.pk if community is not None else None,
        resolve=resolve,
    )
