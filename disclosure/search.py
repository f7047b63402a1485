"""What the search index holds of a disclosure: its title, and the text of its published
content (everything the public page and the PDF show, no HTML). Only published versions are
in it: ``services.disclosure_publish`` indexes each as it publishes it, and a published
version never changes. The content holds no private data (``disclosure.content``)."""

from __future__ import annotations

from collections.abc import Iterator

from council.search import SearchDocument, search_index_update

from .models import Disclosure, DisclosureStatus

KIND = "disclosure"
SKIPPED_KEYS = frozenset({"schema", "kind", "id"})


def _strings(value, key: str = "") -> Iterator[str]:
    """Every piece of text in a disclosure's content, in order: strings, less the HTML copies
    (``*_html``) and the keys that are codes."""
    if key.endswith("_html") or key in SKIPPED_KEYS:
        return
    if isinstance(value, str):
        if value.strip():
            yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def disclosure_text(disclosure: Disclosure) -> str:
    """The disclosure's searchable text below its title: its note and its content's text."""
    seen: dict[str, None] = {}
    for piece in (disclosure.note, *_strings(disclosure.content)):
        if piece and piece not in seen and piece != disclosure.title:
            seen[piece] = None
    return "\n".join(seen)


def disclosure_document(disclosure: Disclosure) -> SearchDocument:
    return SearchDocument(
        kind=KIND,
        object_id=disclosure.pk,
        community_id=disclosure.community_id,
        title=disclosure.title,
        body=disclosure_text(disclosure),
    )


def disclosure_index(disclosure: Disclosure) -> None:
    """Put a published disclosure in the index (a draft never goes in)."""
    if disclosure.status == DisclosureStatus.PUBLISHED:
        search_index_update(disclosure_document(disclosure))


def disclosure_documents() -> Iterator[SearchDocument]:
    """Every published disclosure, for rebuilding the index (hook ``search_documents``)."""
    rows = (
        Disclosure.objects.filter(status=DisclosureStatus.PUBLISHED)
        .only("pk", "community_id", "title", "note", "content")
        .order_by("pk")
    )
    for disclosure in rows.iterator(chunk_size=500):
        yield disclosure_document(disclosure)
