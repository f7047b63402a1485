"""Ranked Chinese search: word segmentation, pinyin, and the index on both databases.

What a document becomes (``document_tokens``): its words as rjieba segments them (in search
mode, so a long word also gives its shorter words), each Chinese word's pinyin in full and
its initials (路灯 → ``路灯 ludeng ld``), each Chinese character on its own, and for a title
the pinyin of each run of Chinese characters from each of its characters on
(``_run_pinyin``). Tokens are joined with spaces and stored in ``SearchEntry`` (``title``
and ``body``).

What a search becomes (``query_terms``): the words of what was typed, segmented the same way,
less the little words that say nothing (了, 的, 吗…); Latin letters lower-cased, tone digits
dropped from pinyin (``lu4deng1`` → ``ludeng``), and a Latin word of two letters or more
matched as a prefix (``lud`` finds ``ludeng``). A document matches if it has **any** term, so
路灯坏了 (路灯, 坏) finds 更换小区路灯; documents having more of the terms, and in the title,
rank first.

The index, per database:

- PostgreSQL: full-text search with the ``simple`` configuration over the tokens (title
  weighted A, body D) in a stored generated ``tsvector`` column with a GIN index, ranked by
  ``ts_rank``;
- SQLite: an FTS5 table mirroring the tokens (rowid = the entry's id), ranked by ``bm25``
  with the title weighing ten times the body.

Every term reaches the database as a quoted string, never as query syntax, so nothing typed
(``"``, ``*``, ``NEAR``, ``AND``, ``-``, ``:``) is an operator.

``search_index_update`` and ``search_index_remove`` are the only writers, called by the
services that make something public or change its text; ``search_index_rebuild`` (the
``search_index_rebuild`` command) rewrites the whole index from the hook
``search_documents``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .hooks import get_hooks
from .models import SearchEntry

QUERY_MAX = 100  # characters of a search that are read; the rest is ignored
TERMS_MAX = 12  # terms of a search that are looked for
BODY_MAX = 20_000  # characters of a body that are indexed
SNIPPET_CHARS = 90
FTS_TABLE = "council_searchentry_fts"
# PostgreSQL: the weighted tsvector of an entry's tokens, a stored generated column that the
# migration adds (the model does not know it) and the GIN index serves. Stored rather than an
# index over an expression: ranking reads the vector of every match, and recomputing it from
# the tokens made a search of 25,000 matches take seconds.
PG_VECTOR = "e.vector"
PG_INDEX = "council_searchentry_tsv"
SQLITE_WEIGHTS = "10.0, 1.0, 0.0"  # bm25 weights of the title, the body and the tags

# Little words that carry no meaning in a search (particles, pronouns, the commonest verbs).
_STOPWORDS = (
    "的 了 吗 呢 啊 吧 呀 哦 嘛 么 和 与 及 或 是 在 有 也 就 都 而 很 把 被 让 给 这 那 "
    "我 你 他 她 它 们 我们 你们 他们 之 其 又 还 要 会 能 可以 一个 什么 怎么 为什么 如何 "
    "请 请问 一下 没有 不 没 着 过 得 地 个 些"
)
STOPWORDS = frozenset(_STOPWORDS.split())
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_PIECE = re.compile(r"[^\W_]+")
_TONED_PINYIN = re.compile(r"(?:[a-z]+[0-5]?)+")
_LATIN = re.compile(r"[a-z0-9]+")


# --- Tokens -----------------------------------------------------------------------------------


def _pieces(text: str) -> Iterator[str]:
    """The words of ``text`` (rjieba, search mode), lower-cased, with punctuation, spaces and
    underscores dropped (a token mixing them is split)."""
    # Imported on first use: the dictionaries take a quarter of a second to load, which every
    # process (a worker, each manage.py command) would pay at start, searching or not.
    import rjieba

    for word in rjieba.cut_for_search(text):
        yield from _PIECE.findall(word.lower())


@lru_cache(maxsize=200_000)
def _pinyin(word: str) -> tuple[str, str]:
    """A Chinese word's pinyin in full and its initials, letters and digits only."""
    from pypinyin import Style, lazy_pinyin  # on first use, as rjieba above

    full = "".join(_LATIN.findall("".join(lazy_pinyin(word)).lower()))
    initials = "".join(_LATIN.findall("".join(lazy_pinyin(word, style=Style.FIRST_LETTER)).lower()))
    return full, initials


def _run_pinyin(text: str) -> list[str]:
    """For each run of Chinese characters in ``text`` (three or more), the pinyin in full and
    the initials of the run from each of its characters to its end: 更换小区路灯 gives
    ``genghuanxiaoquludeng`` … ``ludeng`` and ``ghxqld`` … ``ld``, so that the pinyin of
    any part of a title, typed as one word, finds it by prefix, however the title was
    segmented (电动车充电桩 is 电动车 / 充电 / 桩, yet ``cdz`` finds it)."""
    tokens: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) < 3:
            continue
        syllables = [_pinyin(c) for c in run]
        for i in range(len(run) - 1):
            tokens.append("".join(full for full, _initial in syllables[i:]))
            tokens.append("".join(initial for _full, initial in syllables[i:]))
    return [t for t in tokens if t]


def document_tokens(text: str, *, title: bool = False) -> str:
    """``text`` as the index stores it: space-joined tokens (see the module's docstring)."""
    text = (text or "")[:BODY_MAX]
    tokens: list[str] = []
    chars: dict[str, None] = {}
    for word in _pieces(text):
        if word in STOPWORDS:
            continue
        tokens.append(word)
        if _CJK_CHAR.search(word):
            full, initials = _pinyin(word)
            tokens += [t for t in (full, initials) if t and t != word]
            if len(word) > 1:
                chars.update(dict.fromkeys(word))
    if title:
        tokens += _run_pinyin(text)
    seen = set(tokens)
    tokens += [c for c in chars if c not in seen and c not in STOPWORDS and _CJK_CHAR.match(c)]
    return " ".join(tokens)


@dataclass(frozen=True)
class Term:
    """One thing a search looks for: a token, matched whole or as a prefix."""

    token: str
    prefix: bool = False

    @property
    def is_latin(self) -> bool:
        return not _CJK_CHAR.search(self.token)


def query_terms(q: str) -> list[Term]:
    """What a search typed as ``q`` looks for (see the module's docstring); empty when it
    holds nothing to look for (blank, punctuation only, little words only)."""
    q = (q or "")[:QUERY_MAX]
    terms: dict[str, Term] = {}
    for word in _pieces(q):
        if _TONED_PINYIN.fullmatch(word) and re.search(r"[a-z]", word):
            word = re.sub(r"[0-5]", "", word)  # lu4deng1 → ludeng
        if not word or word in STOPWORDS or word in terms:
            continue
        latin = not _CJK_CHAR.search(word)
        terms[word] = Term(word, prefix=latin and len(word) >= 2 and not word.isdigit())
    return list(terms.values())[:TERMS_MAX]


def _fts5_match(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression on the title and the body: each term a quoted string (a prefix
    with ``*`` outside the quotes), joined by OR. Quoting makes anything typed a string, never
    syntax."""
    quoted = ('"' + t.token.replace('"', '""') + '"' + ("*" if t.prefix else "") for t in terms)
    return "{title body} : (" + " OR ".join(quoted) + ")"


def _tsquery(terms: Sequence[Term]) -> str:
    """A PostgreSQL ``to_tsquery`` string: each term a quoted lexeme (``:*`` a prefix),
    joined by ``|``."""
    quoted = ("'" + t.token.replace("'", "''") + "'" + (":*" if t.prefix else "") for t in terms)
    return " | ".join(quoted)


# --- Writing the index ------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchDocument:
    """One public object as the index receives it: what it is, where, and its text."""

    kind: str
    object_id: int
    community_id: int
    title: str
    body: str


def _fts_tags(kind: str, community_id: int) -> str:
    """SQLite: the FTS5 row's ``tags``, what a search filters on inside FTS5 (the kind and the
    community as tokens), so that it never reads an entry it will not show."""
    return f"k{kind} c{community_id}"


def _fts_write(entry: SearchEntry | None, entry_id: int) -> None:
    """SQLite: replace (or, without an entry, delete) the FTS5 row of an entry."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [entry_id])  # noqa: S608
        if entry is not None:
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, title, body, tags) "  # noqa: S608
                "VALUES (%s, %s, %s, %s)",
                [entry.pk, entry.title, entry.body, _fts_tags(entry.kind, entry.community_id)],
            )


@transaction.atomic
def search_index_update(document: SearchDocument) -> SearchEntry:
    """Put ``document`` in the index, or replace what the index had of it: from the commit on,
    a search finds it by its words as they are now. Call it in the transaction that makes the
    object public or changes its text."""
    title = document_tokens(document.title, title=True)
    body = document_tokens(document.body)
    entry, _created = SearchEntry.objects.update_or_create(
        kind=document.kind,
        object_id=document.object_id,
        defaults={"community_id": document.community_id, "title": title, "body": body},
    )
    if connection.vendor == "sqlite":
        _fts_write(entry, entry.pk)
    return entry


@transaction.atomic
def search_index_remove(kind: str, object_id: int) -> None:
    """Take an object out of the index (no search finds it any more); nothing if absent."""
    for entry_id in SearchEntry.objects.filter(kind=kind, object_id=object_id).values_list(
        "pk", flat=True
    ):
        if connection.vendor == "sqlite":
            _fts_write(None, entry_id)
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


def search_documents() -> Iterator[SearchDocument]:
    """Every public object of every app, from the hook ``search_documents``."""
    for documents in get_hooks("search_documents"):
        yield from documents()


@transaction.atomic
def search_index_rebuild(documents: Iterable[SearchDocument] | None = None) -> int:
    """Empty the index and fill it again with ``documents`` (by default every public object,
    ``search_documents``); returns how many went in. Bulk writes, for the command and the
    benchmark."""
    SearchEntry.objects.all().delete()
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
    total = 0
    batch: list[SearchEntry] = []

    def flush() -> None:
        entries = SearchEntry.objects.bulk_create(batch)
        if sqlite:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, title, body, tags) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s)",
                    [(e.pk, e.title, e.body, _fts_tags(e.kind, e.community_id)) for e in entries],
                )
        batch.clear()

    for document in documents if documents is not None else search_documents():
        batch.append(
            SearchEntry(
                kind=document.kind,
                object_id=document.object_id,
                community_id=document.community_id,
                title=document_tokens(document.title, title=True),
                body=document_tokens(document.body),
            )
        )
        total += 1
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    return total


# --- Reading the index ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str
    object_id: int


class SearchHits:
    """The entries matching ``terms`` (of ``kinds``, or of every kind when None, and of a
    community if given), best first, as a ``Paginator`` wants them: ``count()``
    (one query) and a slice (one query, then ``resolve`` on the slice's hits: what the caller
    makes of them, in a constant number of queries). No terms, no query at all."""

    def __init__(
        self,
        terms: Sequence[Term],
        *,
        kinds: Sequence[str] | None = None,
        community_id: int | None = None,
        resolve: Callable[[list[Hit]], list] = list,
    ):
        self.terms = list(terms)
        self.kinds = list(kinds) if kinds is not None else None  # None: every kind
        self.community_id = community_id
        self.resolve = resolve
        self._count: int | None = None

    def _postgres(self, select: str, tail: str = "", tail_params: Sequence = ()):
        """PostgreSQL: the entries whose weighted tsvector (the GIN index's expression) matches
        the terms, of the kinds and community asked for."""
        vector = PG_VECTOR
        sql, params = "", [_tsquery(self.terms)]
        if self.kinds is not None:
            sql += " AND e.kind IN (" + ", ".join(["%s"] * len(self.kinds)) + ")"
            params += self.kinds
        if self.community_id is not None:
            sql += " AND e.community_id = %s"
            params.append(self.community_id)
        return (
            f"SELECT {select} FROM council_searchentry e, "  # noqa: S608
            f"to_tsquery('simple'::regconfig, %s) AS q(q) WHERE {vector} @@ q.q{sql}{tail}",
            [*params, *tail_params],
        )

    def _sqlite_match(self) -> str:
        """SQLite: one FTS5 MATCH expression for the terms, the kinds and the community (the
        last two on the ``tags`` column, which only the code writes), so FTS5 alone finds the
        rows: no entry is read but those of the page."""
        match = _fts5_match(self.terms)
        if self.kinds is not None:  # a filter costs: every kind needs none
            match += " AND tags : (" + " OR ".join(f'"k{kind}"' for kind in self.kinds) + ")"
        if self.community_id is not None:
            match += f' AND tags : "c{int(self.community_id)}"'
        return match

    def count(self) -> int:
        if self._count is None:
            if not self.terms or self.kinds == []:
                self._count = 0
            else:
                if connection.vendor == "postgresql":
                    sql, params = self._postgres("count(*)")
                else:
                    sql = f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
                    params = [self._sqlite_match()]
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    self._count = cursor.fetchone()[0]
        return self._count

    def __len__(self) -> int:
        return self.count()

    def hits(self, offset: int, limit: int) -> list[Hit]:
        """The hits from ``offset``, at most ``limit``, best first (newer first on a tie)."""
        if not self.terms or self.kinds == [] or limit <= 0:
            return []
        if connection.vendor == "postgresql":
            rank = f"ts_rank({PG_VECTOR}, q.q)"
            sql, params = self._postgres(
                "e.kind, e.object_id",
                f" ORDER BY {rank} DESC, e.id DESC LIMIT %s OFFSET %s",
                [limit, offset],
            )
        else:
            sql = (
                "SELECT e.kind, e.object_id FROM ("  # noqa: S608
                f"SELECT rowid AS id, bm25({FTS_TABLE}, {SQLITE_WEIGHTS}) AS rank "
                f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                "ORDER BY rank, rowid DESC LIMIT %s OFFSET %s"
                ") AS h JOIN council_searchentry e ON e.id = h.id ORDER BY h.rank, h.id DESC"
            )
            params = [self._sqlite_match(), limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [Hit(kind, object_id) for kind, object_id in cursor.fetchall()]

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("SearchHits supports slices only")
        start = item.start or 0
        stop = item.stop if item.stop is not None else start + 1000
        return self.resolve(self.hits(start, stop - start))


# --- Showing a hit ------------------------------------------------------------------------------


def _pinyin_spans(run: str, token: str) -> Iterator[str]:
    """The pieces of a run of Chinese characters whose pinyin spells ``token``: in full
    (``ludeng``, or its start ``lud``, gives 路灯) or by initials (``ld`` gives 路灯)."""
    syllables = [_pinyin(c) for c in run]
    for i in range(len(run)):
        initials = "".join(initial for _full, initial in syllables[i : i + len(token)])
        if initials == token:
            yield run[i : i + len(token)]
        spelled = ""
        for j in range(i, len(run)):
            spelled += syllables[j][0]
            if len(spelled) >= len(token):
                if spelled.startswith(token) and (j > i or spelled == token):
                    yield run[i : j + 1]
                break
            if not token.startswith(spelled):
                break


def marked_words(text: str, terms: Sequence[Term]) -> list[str]:
    """The words of ``text`` a search for ``terms`` matched, to highlight, longest first:
    each Chinese term as it is, each Latin term as it is, and each piece of Chinese whose
    pinyin a Latin term spells (``_pinyin_spans``)."""
    words = {t.token for t in terms}
    latin = [t.token for t in terms if t.is_latin and not t.token.isdigit()]
    if latin and text:
        for run in set(_CJK_RUN.findall(text[:2000])):
            for token in latin:
                words.update(_pinyin_spans(run, token))
    return sorted((w for w in words if w), key=len, reverse=True)


def _marks(text: str, words: Sequence[str]) -> SafeString:
    """``text`` escaped, with each of ``words`` (case-insensitive) in ``<mark>``."""
    if not words:
        return format_html("{}", text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    pieces, at = [], 0
    for match in pattern.finditer(text):
        pieces.append((text[at : match.start()], match.group()))
        at = match.end()
    return format_html(
        "{}{}",
        format_html_join("", "{}<mark>{}</mark>", pieces),
        text[at:],
    )


def highlighted(text: str, terms: Sequence[Term]) -> SafeString:
    """``text`` (a title) escaped, the words the search matched in ``<mark>``."""
    return _marks(text, marked_words(text, terms))


def snippet(text: str, terms: Sequence[Term], size: int = SNIPPET_CHARS) -> SafeString:
    """About ``size`` characters of ``text`` (plain text) around its first match, escaped,
    the matches in ``<mark>``; its start when nothing in it matches."""
    text = " ".join((text or "").split())
    words = marked_words(text, terms)
    first = min((i for i in (text.lower().find(w.lower()) for w in words) if i >= 0), default=0)
    start = max(0, min(first - size // 4, len(text) - size))
    piece = text[start : start + size]
    before = "…" if start > 0 else ""
    after = "…" if start + size < len(text) else ""
    return format_html("{}{}{}", before, _marks(piece, words), after)
