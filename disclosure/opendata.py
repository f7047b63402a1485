"""Open data (开放数据): the datasets anyone may download, their documented schema, and their
rows — in one place, so that the page that documents a dataset and the files that carry it
cannot disagree.

Each dataset is a list of columns (name, type, meaning) and a function that builds its rows
with a fixed number of queries. Only public data goes in: display names and aggregates, the
codes of public choices, figures already published in the disclosures. Never a phone number,
an ID number, an address, a household status, a private note, a comment, nor anything that
links a member to their choice on a secret ballot (its votes are listed by commitment only).
Values are codes (``engineering``, ``approved``) rather than labels, so that a file reads the
same whatever language the page speaks; the ballot's sentence is given in the official
language (Chinese), as in the decision disclosure.

Files: ``/open-data/<name>.json`` is ``{"dataset": name, "schema": [...], "rows": [...]}``;
``.jsonl`` holds one row per line; ``.csv`` is UTF-8 with a byte-order mark (so Excel reads the
Chinese), its header row the schema's column names; a text cell that a spreadsheet would read
as a formula (beginning ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) starts with a
single quote there, while the JSON files hold every value exactly.

A file is streamed as it is read, a chunk of records at a time, so a city's files take
constant memory however large. It may be one community's part (``?community=slug``), one
year's (``?year=2025``), or, for a dataset whose rows never change once in it, what closed
since a day (``?since=2025-06-01``); ``/open-data/index.json`` lists every part. Every file's
ETag and Last-Modified follow the last act the evidence log recorded, so a client that asks
again gets 304 until something has changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import batched
from urllib.parse import urlencode

from django.db.models import F, QuerySet
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from council.csvout import csv_chunks
from council.models import Community
from voting import selectors as voting_selectors

from . import selectors

OFFICIAL_LANGUAGE = "zh-hans"
FORMATS = ("csv", "json", "jsonl")

TYPES = {
    "integer": _("a whole number"),
    "decimal": _(
        "an exact decimal number written as text with a point, e.g. 11800.00 (yuan have two "
        "places); never a floating-point number"
    ),
    "string": _("text (UTF-8)"),
    "date": _("a date, YYYY-MM-DD, in China Standard Time"),
    "code": _("one of a fixed list of codes, given in the meaning"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: Promise


# Records read from the database at a time (and files written out at a time).
CHUNK = 500


@dataclass(frozen=True)
class Scope:
    """Which of a dataset's rows a file carries: one community's or all; one year's or all;
    with ``since``, only those dated (closed) on or after that day."""

    community: Community | None = None
    year: int | None = None
    since: dt.date | None = None

    def params(self) -> dict[str, str]:
        """The scope as the file's query string gives it."""
        params = {}
        if self.community is not None:
            params["community"] = self.community.slug
        if self.year is not None:
            params["year"] = str(self.year)
        if self.since is not None:
            params["since"] = self.since.isoformat()
        return params


@dataclass(frozen=True)
class Dataset:
    """A dataset: its columns, the records its rows come from (``records``, in file order),
    and how rows are built from them (``build``, streamed). ``community`` and ``dated`` are
    the records' paths to their community and to the moment that places them in a year
    (a path ending in ``year`` is the year itself). ``final``: a record never changes once it
    is in the file (a closed ballot, a closed window), so ``since=`` can list those dated
    since a day; a dataset whose rows still change (a proposal's stage, spending) is
    downloaded whole, by community or by year."""

    name: str
    title: Promise
    description: Promise
    columns: tuple[Column, ...]
    build: Callable[[Iterator, str], Iterator[dict]]
    records: Callable[[], QuerySet]
    community: str = "community"
    dated: str = "closed_at"
    final: bool = True

    @property
    def fields(self) -> list[str]:
        return [c.name for c in self.columns]

    def schema(self) -> list[dict]:
        return [{"name": c.name, "type": c.type, "meaning": str(c.meaning)} for c in self.columns]

    def records_in(self, scope: Scope) -> QuerySet:
        qs = self.records()
        if scope.community is not None:
            qs = qs.filter(**{self.community: scope.community})
        if scope.year is not None:
            year = self.dated if self.dated.endswith("year") else f"{self.dated}__year"
            qs = qs.filter(**{year: scope.year})
        if scope.since is not None:
            if not self.final:
                raise ValueError(f"{self.name} has no since=: its rows still change")
            start = dt.datetime.combine(scope.since, dt.time.min)
            qs = qs.filter(**{f"{self.dated}__gte": timezone.make_aware(start)})
        return qs

    def rows(self, scope: Scope | None = None, base_url: str = "") -> Iterator[dict]:
        """The rows, each a dict with exactly the schema's columns in its order, built in the
        official language, a chunk of records at a time."""
        records = self.records_in(scope or Scope()).iterator(chunk_size=CHUNK)
        rows = self.build(records, base_url)
        while True:
            # Only while a row is built: the rows come out between other work (a response
            # being sent), which must not find the language switched.
            with translation.override(OFFICIAL_LANGUAGE):
                row = next(rows, None)
            if row is None:
                return
            yield {name: row[name] for name in self.fields}

    def years(self) -> QuerySet:
        """(community slug, year) of every split file with rows, in order: one query."""
        year = F(self.dated) if self.dated.endswith("year") else ExtractYear(self.dated)
        return (
            self.records()
            .order_by()
            .annotate(split_year=year)
            .values_list(f"{self.community}__slug", "split_year")
            .distinct()
            .order_by(f"{self.community}__slug", "split_year")
        )


# --- Values -----------------------------------------------------------------------------------


def _date(moment) -> str | None:
    return timezone.localdate(moment).isoformat() if moment else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _percent(part, whole) -> str | None:
    return f"{Decimal(part) * 100 / Decimal(whole):.1f}" if whole else None


# --- Rows -------------------------------------------------------------------------------------
# Each builder takes the records a file covers, as an iterator read from the database a chunk
# at a time, and yields the file's rows: what one chunk needs besides (show-of-hands counts,
# published lists, members' choices) is read per chunk, so a file of any size is written in
# constant memory with a number of queries that grows with its chunks only.


def _proposals(proposals, base_url) -> Iterator[dict]:
    for p in proposals:
        yield {
            "proposal_id": p.pk,
            "community": p.community.name,
            "community_slug": p.community.slug,
            "title": p.title,
            "summary": p.summary,
            "project_type": p.project_type,
            "sub_kind": p.sub_kind,
            "stage": p.stage,
            "submitted": _date(p.submitted_at),
            "cost": _money(p.listed_cost),
            "url": base_url + reverse("project", args=[p.community.slug, p.pk]),
        }


def _ballots(ballots, base_url) -> Iterator[dict]:
    for chunk in batched(ballots, CHUNK):
        hands = voting_selectors.hand_counts(b.pk for b in chunk)
        for b in chunk:
            tally = voting_selectors.ballot_tally(b)  # a closed ballot's frozen counts: no query
            hands_yes, hands_no, hands_abstain = hands.get(b.pk, (0, 0, 0))
            yield {
                "ballot_id": b.pk,
                "proposal_id": b.proposal.pk,
                "community": b.community.name,
                "title": b.proposal.title,
                "opened": _date(b.opened_at),
                "closed": _date(b.closed_at),
                "secrecy": b.secrecy,
                "quorum": f"{b.quorum_numerator}/{b.quorum_denominator}",
                "threshold": b.threshold,
                "base": b.base,
                "yes": b.yes,
                "no": b.no,
                "abstain": b.abstain,
                "participation": tally.participation,
                "outcome": b.outcome,
                "sentence": tally.sentence(),
                "closed_early_reason": b.close_reason,
                "hands_yes": hands_yes,
                "hands_no": hands_no,
                "hands_abstain": hands_abstain,
                "votes_format": b.votes_format,
                "votes_sha256": b.votes_sha256,
                "url": base_url + reverse("ballot", args=[b.community.slug, b.pk]),
            }


def _receipt_rows(lists: dict, id_key: str, value_key: str) -> Iterator[dict]:
    """One row per published receipt, by ballot or round id (``lists`` maps each id to its
    ``(commitment, value)`` pairs, in the order they are published)."""
    for pk in sorted(lists):
        for commitment, value in lists[pk]:
            yield {id_key: pk, "commitment": commitment, value_key: value}


def _ballot_receipts(ballots, base_url) -> Iterator[dict]:
    for chunk in batched(ballots, CHUNK):
        lists = voting_selectors.ballot_lists(chunk)
        yield from _receipt_rows({pk: lists[pk].votes for pk in lists}, "ballot_id", "choice")


def _rounds(rounds, base_url) -> Iterator[dict]:
    for r in rounds:
        yield {
            "round_id": r.pk,
            "community": r.community.name,
            "title": r.title,
            "opened": _date(r.opened_at),
            "closed": _date(r.closed_at),
            "secrecy": r.secrecy,
            "quorum": f"{r.quorum_numerator}/{r.quorum_denominator}",
            "rule": r.rule,
            "completion": ("add1" if r.add1 else "none") if r.rule == "mes" else "",
            "base": r.base,
            "participation": r.participation,
            "outcome": "decided" if r.valid else "invalid",
            "money": _money(r.money),
            "spent": _money(r.spent),
            "closed_early_reason": r.close_reason,
            "votes_format": r.votes_format,
            "votes_sha256": r.votes_sha256,
            "url": base_url + reverse("round", args=[r.community.slug, r.pk]),
        }


def _round_projects(projects, base_url) -> Iterator[dict]:
    for rp in projects:
        yield {
            "round_id": rp.round.pk,
            "proposal_id": rp.proposal_id,
            "position": rp.position,
            "cost": _money(rp.cost),
            "approvals": rp.approvals,
            "funded": "undecided" if not rp.round.valid else "yes" if rp.funded else "no",
        }


def _round_receipts(rounds, base_url) -> Iterator[dict]:
    for chunk in batched(rounds, CHUNK):
        lists = voting_selectors.round_lists(chunk)
        yield from _receipt_rows({pk: lists[pk].ballots for pk in lists}, "round_id", "approved")


def _votes(ballots, base_url) -> Iterator[dict]:
    for chunk in batched(ballots, CHUNK):
        lines, choices = selectors.roll_call_lines(chunk)
        for line in lines:
            yield {
                "ballot_id": line.ballot.pk,
                "proposal_id": line.ballot.proposal_id,
                "member": line.member.public_name,
                "seat": line.seat_category,
                "choice": "recused"
                if line.recused
                else choices.get((line.ballot.pk, line.member_id), "did_not_vote"),
            }


def _spending(reservations, base_url) -> Iterator[dict]:
    for r in reservations:
        budget = selectors.budget_of(r)
        variance = None if r.actual is None else r.actual - budget
        yield {
            "proposal_id": r.proposal.pk,
            "community": r.proposal.community.name,
            "title": r.proposal.title,
            "project_type": r.proposal.project_type,
            "stage": r.proposal.stage,
            "envelope_year": r.envelope.year,
            "budget": _money(budget),
            "spent_so_far": _money(selectors.spent_of(r)),
            "actual": _money(r.actual),
            "variance": _money(variance),
            "variance_percent": None if variance is None else _percent(variance, budget),
        }


def _evaluations(windows, base_url) -> Iterator[dict]:
    for w in windows:
        total = (w.satisfied or 0) + (w.basic or 0) + (w.dissatisfied or 0)
        yield {
            "proposal_id": w.proposal.pk,
            "community": w.proposal.community.name,
            "title": w.proposal.title,
            "project_type": w.proposal.project_type,
            "opened": _date(w.opens_at),
            "closed": _date(w.closed_at),
            "satisfied": w.satisfied or 0,
            "basic": w.basic or 0,
            "dissatisfied": w.dissatisfied or 0,
            "total": total,
            "paper": w.paper,
            "residents": w.residents or 0,
            "participation_percent": _percent(total, w.residents or 0) or "0.0",
            "verdict": w.verdict,
        }


# --- The datasets -----------------------------------------------------------------------------

PROPOSAL_ID = Column("proposal_id", "integer", _("the project's (proposal's) number"))
COMMUNITY = Column("community", "string", _("the community's name"))
TITLE = Column("title", "string", _("the project's title"))
PROJECT_TYPE = Column(
    "project_type", "code", _("engineering (工程类), service (服务类) or goods (货物类)")
)
STAGE = Column(
    "stage",
    "code",
    _(
        "where the project stands: submitted, under_review, consultation, voting, approved, "
        "rejected, in_progress, completed, evaluated, inadmissible, merged or withdrawn"
    ),
)

VOTES_FORMAT = Column(
    "votes_format",
    "code",
    _(
        "receipts (votes_sha256 is of the published list, which anyone can recompute) or "
        "members (closed before receipts: the digest stays as it was published then)"
    ),
)

SECRECY = Column(
    "secrecy", "code", _("roll_call (each member's vote is published) or secret (totals only)")
)
QUORUM = Column("quorum", "string", _("the fraction of the base that must take part, e.g. 2/3"))
CLOSED_EARLY_REASON = Column(
    "closed_early_reason", "string", _("why the clerk closed it early, if so")
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "proposals",
            _("Proposals"),
            _("Every public proposal (drafts excepted), whatever its stage."),
            (
                PROPOSAL_ID,
                COMMUNITY,
                Column("community_slug", "string", _("the community's short name in addresses")),
                TITLE,
                Column("summary", "string", _("the proposer's one-paragraph summary")),
                PROJECT_TYPE,
                Column(
                    "sub_kind",
                    "code",
                    _(
                        "convenience (便民利民), activities (群众活动), public_spirit (公益风尚), "
                        "facilities (公共设施) or other (其他服务)"
                    ),
                ),
                STAGE,
                Column("submitted", "date", _("when it was submitted")),
                Column(
                    "cost",
                    "decimal",
                    _(
                        "the cost that counts, in yuan: staff's feasibility estimate from "
                        "consultation on, the proposer's estimate before"
                    ),
                ),
                Column("url", "string", _("the project's public page")),
            ),
            _proposals,
            records=selectors.public_proposals,
            dated="submitted_at",
            final=False,
        ),
        Dataset(
            "ballots",
            _("Council ballots"),
            _(
                "Every closed ballot of a residents' council on a project, with its tally under "
                "the rules of procedure it copied when it opened."
            ),
            (
                Column("ballot_id", "integer", _("the ballot's number")),
                PROPOSAL_ID,
                COMMUNITY,
                TITLE,
                Column("opened", "date", _("when the ballot opened")),
                Column("closed", "date", _("when the ballot closed")),
                SECRECY,
                QUORUM,
                Column(
                    "threshold",
                    "code",
                    _(
                        "majority_of_members (more than half of the base), majority_of_cast "
                        "(more than half of yes + no) or two_thirds_of_cast (at least two-thirds "
                        "of yes + no)"
                    ),
                ),
                Column("base", "integer", _("seated members who are not recused")),
                Column("yes", "integer", _("yes votes")),
                Column("no", "integer", _("no votes")),
                Column("abstain", "integer", _("abstentions (count toward quorum, not yes)")),
                Column("participation", "integer", _("yes + no + abstain")),
                Column(
                    "outcome",
                    "code",
                    _("approved, rejected or invalid (quorum not reached)"),
                ),
                Column(
                    "sentence",
                    "string",
                    _("the outcome and why, in one sentence, in the official language (Chinese)"),
                ),
                CLOSED_EARLY_REASON,
                Column(
                    "hands_yes",
                    "integer",
                    _("of the yes votes, those counted by the clerk in a show of hands"),
                ),
                Column("hands_no", "integer", _("of the no votes, those counted by show of hands")),
                Column(
                    "hands_abstain",
                    "integer",
                    _("of the abstentions, those counted by show of hands"),
                ),
                VOTES_FORMAT,
                Column(
                    "votes_sha256",
                    "string",
                    _(
                        "SHA-256 of the votes as closed, also in the evidence log. When "
                        "votes_format is receipts: the SHA-256, in lower-case hexadecimal, of the "
                        "UTF-8 text made of these lines, each ending with one line feed: "
                        "weishi:ballot_votes:v2; ballot:<ballot_id>; then vote:<commitment>:"
                        "<choice> for each of the ballot's rows in “ballot_receipts”, sorted by "
                        "commitment; then hands:<hands_yes>:<hands_no>:<hands_abstain>."
                    ),
                ),
                Column("url", "string", _("the ballot's public page")),
            ),
            _ballots,
            records=selectors.closed_ballots,
        ),
        Dataset(
            "ballot_receipts",
            _("Published lists of votes"),
            _(
                "Every vote of each closed ballot, without the member: its commitment and its "
                "choice. Each member holds the receipt of their own vote and finds it here by "
                "its commitment; nobody else can tell whose vote a line is. Ballots closed "
                "before receipts are not in it."
            ),
            (
                Column("ballot_id", "integer", _("the ballot's number (see “ballots”)")),
                Column(
                    "commitment",
                    "string",
                    _(
                        "SHA-256, in lower-case hexadecimal, of the UTF-8 text made of these "
                        "lines, each ending with one line feed: weishi:vote:v1; "
                        "ballot:<ballot_id>; receipt:<the member's receipt: 32 characters, A–Z "
                        "and 2–7, without the dashes>; choice:<choice>. Only the member was "
                        "shown the receipt."
                    ),
                ),
                Column("choice", "code", _("yes, no or abstain")),
            ),
            _ballot_receipts,
            records=selectors.closed_ballots,
        ),
        Dataset(
            "votes",
            _("Roll-call votes"),
            _(
                "Each member's vote on closed roll-call ballots, by display name and seat. "
                "Secret ballots are not in it: their totals are in “ballots”."
            ),
            (
                Column("ballot_id", "integer", _("the ballot's number (see “ballots”)")),
                PROPOSAL_ID,
                Column("member", "string", _("the member's display name")),
                Column(
                    "seat",
                    "code",
                    _(
                        "the seat's category: organisation, notable, registered (representative "
                        "of registered residents) or non_registered"
                    ),
                ),
                Column(
                    "choice",
                    "code",
                    _("yes, no, abstain, recused or did_not_vote"),
                ),
            ),
            _votes,
            records=selectors.closed_roll_call_ballots,
        ),
        Dataset(
            "rounds",
            _("Yearly rounds"),
            _(
                "Every closed yearly round: its money, rules and participation, and the "
                "SHA-256 of its approval ballots as closed. Each project's approvals and "
                "funding are in “round_projects” and in its decision disclosure."
            ),
            (
                Column("round_id", "integer", _("the round's number")),
                COMMUNITY,
                Column("title", "string", _("the round's title")),
                Column("opened", "date", _("when the round opened")),
                Column("closed", "date", _("when the round closed")),
                SECRECY,
                QUORUM,
                Column(
                    "rule",
                    "code",
                    _("greedy (by approvals, while money remains) or mes (Method of Equal Shares)"),
                ),
                Column(
                    "completion",
                    "code",
                    _(
                        "for mes: add1 (each voter's share raised one yuan at a time while the "
                        "outcome fits the money, as pabutools' voter_budget_increment=1) or none; "
                        "empty for greedy"
                    ),
                ),
                Column("base", "integer", _("seated members when the round opened")),
                Column(
                    "participation",
                    "integer",
                    _("members who handed in an approval ballot, even an empty one"),
                ),
                Column(
                    "outcome",
                    "code",
                    _("decided, or invalid (quorum not reached: every project stays in voting)"),
                ),
                Column("money", "decimal", _("yuan of the envelope the round had to share")),
                Column("spent", "decimal", _("yuan allocated to the funded projects")),
                CLOSED_EARLY_REASON,
                VOTES_FORMAT,
                Column(
                    "votes_sha256",
                    "string",
                    _(
                        "SHA-256 of the approval ballots as closed, also in the evidence log. "
                        "When votes_format is receipts: the SHA-256, in lower-case hexadecimal, "
                        "of the UTF-8 text made of these lines, each ending with one line feed: "
                        "weishi:round_ballots:v2; round:<round_id>; then ballot:<commitment>:"
                        "<approved> for each of the round's rows in “round_receipts”, sorted by "
                        "commitment."
                    ),
                ),
                Column("url", "string", _("the round's public page")),
            ),
            _rounds,
            records=selectors.closed_rounds,
        ),
        Dataset(
            "round_projects",
            _("Projects of yearly rounds"),
            _(
                "Every project on the slate of each closed yearly round: its place, its cost as "
                "counted when the round opened, its approvals and whether it was funded."
            ),
            (
                Column("round_id", "integer", _("the round's number (see “rounds”)")),
                PROPOSAL_ID,
                Column(
                    "position",
                    "integer",
                    _(
                        "its place on the slate, 1, 2, … in order of submission: of two projects "
                        "tied on approvals (greedy) or on price (mes) and cost, the earlier wins"
                    ),
                ),
                Column("cost", "decimal", _("yuan, as counted when the round opened")),
                Column("approvals", "integer", _("approval ballots that approve it")),
                Column(
                    "funded",
                    "code",
                    _("yes, no, or undecided (the round missed its quorum)"),
                ),
            ),
            _round_projects,
            records=selectors.closed_round_projects,
            community="round__community",
            dated="round__closed_at",
        ),
        Dataset(
            "round_receipts",
            _("Published lists of approval ballots"),
            _(
                "Every approval ballot of each closed yearly round, without the member: its "
                "commitment and the projects it approves. Each member holds the receipt of "
                "their own ballot and finds it here by its commitment; nobody else can tell "
                "whose ballot a line is. Rounds closed before receipts are not in it."
            ),
            (
                Column("round_id", "integer", _("the round's number (see “rounds”)")),
                Column(
                    "commitment",
                    "string",
                    _(
                        "SHA-256, in lower-case hexadecimal, of the UTF-8 text made of these "
                        "lines, each ending with one line feed: weishi:round_ballot:v1; "
                        "round:<round_id>; receipt:<the member's receipt: 32 characters, A–Z "
                        "and 2–7, without the dashes>; approved:<approved>. Only the member was "
                        "shown the receipt."
                    ),
                ),
                Column(
                    "approved",
                    "string",
                    _(
                        "the project (proposal) numbers approved, ascending, separated by "
                        "commas without spaces; empty for a ballot that approves none"
                    ),
                ),
            ),
            _round_receipts,
            records=selectors.closed_rounds,
        ),
        Dataset(
            "spending",
            _("Spending"),
            _(
                "Every funded project: the year of the envelope it is paid from, its budget, the "
                "money spent so far and the final accounts."
            ),
            (
                PROPOSAL_ID,
                COMMUNITY,
                TITLE,
                PROJECT_TYPE,
                STAGE,
                Column("envelope_year", "integer", _("the year of the community's envelope")),
                Column(
                    "budget",
                    "decimal",
                    _("yuan reserved from the envelope when the project was approved"),
                ),
                Column(
                    "spent_so_far",
                    "decimal",
                    _(
                        "yuan spent: the final accounts once completed, else the last progress "
                        "update's figure (0.00 before any)"
                    ),
                ),
                Column("actual", "decimal", _("the final accounts in yuan; empty until completed")),
                Column("variance", "decimal", _("actual − budget in yuan; empty until completed")),
                Column(
                    "variance_percent",
                    "decimal",
                    _("variance as a percentage of the budget, one place; empty until completed"),
                ),
            ),
            _spending,
            records=selectors.spending,
            community="proposal__community",
            dated="envelope__year",
            final=False,
        ),
        Dataset(
            "evaluations",
            _("Residents' evaluations"),
            _(
                "Every closed evaluation window: how many residents chose each rating, "
                "participation and the published verdict. Comments are not included."
            ),
            (
                PROPOSAL_ID,
                COMMUNITY,
                TITLE,
                PROJECT_TYPE,
                Column("opened", "date", _("when the window opened")),
                Column("closed", "date", _("when the window closed")),
                Column("satisfied", "integer", _("满意 (satisfied)")),
                Column("basic", "integer", _("基本满意 (basically satisfied)")),
                Column("dissatisfied", "integer", _("不满意 (dissatisfied)")),
                Column("total", "integer", _("evaluations given (online and paper)")),
                Column("paper", "integer", _("of which on paper, entered by staff")),
                Column(
                    "residents",
                    "integer",
                    _("residents of the community when the window closed"),
                ),
                Column(
                    "participation_percent",
                    "decimal",
                    _("total as a percentage of residents, one place"),
                ),
                Column(
                    "verdict",
                    "code",
                    _(
                        "satisfied (more than half 满意), basic (满意 and 基本满意 together more "
                        "than half), dissatisfied, or none (no evaluation given)"
                    ),
                ),
            ),
            _evaluations,
            records=selectors.closed_windows,
            community="proposal__community",
        ),
    )
}


def dataset(name: str) -> Dataset | None:
    return DATASETS.get(name)


# --- Files ---------------------------------------------------------------------------------


def file_chunks(ds: Dataset, fmt: str, rows: Iterator[dict]) -> Iterator[bytes]:
    """The file, in pieces of about ``CHUNK`` rows, written as the rows come."""
    if fmt == "csv":
        yield from _csv_chunks(ds, rows)
        return
    if fmt == "json":
        head = {"dataset": ds.name, "schema": ds.schema()}
        yield (json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "rows": [').encode()
    separator = "\n" if fmt == "json" else ""
    for chunk in batched(rows, CHUNK):
        lines = [json.dumps(row, ensure_ascii=False) for row in chunk]
        if fmt == "json":
            yield (separator + ",\n".join(lines)).encode()
            separator = ",\n"
        else:
            yield ("\n".join(lines) + "\n").encode()
    if fmt == "json":
        yield b"\n ]\n}\n"


NUMERIC_TYPES = frozenset({"integer", "decimal"})


def _csv_chunks(ds: Dataset, rows: Iterator[dict]) -> Iterator[bytes]:
    """As ``council.csvout`` writes every CSV file (formulas made inert, Excel's byte-order
    mark); the columns typed ``integer`` or ``decimal`` keep their numbers as they are."""
    numeric = {c.name for c in ds.columns if c.type in NUMERIC_TYPES}
    return csv_chunks(
        ds.fields,
        ([row[name] for name in ds.fields] for row in rows),
        numeric=numeric,
        rows_a_chunk=CHUNK,
    )


def index_chunks(base: str) -> Iterator[bytes]:
    """``index.json``: for each dataset, its files whole and by community and year, each
    with the address of every format; whether it takes ``since=``. ``base`` is the open data
    page's absolute address."""

    def urls(name: str, params: dict) -> dict:
        query = "?" + urlencode(params) if params else ""
        return {fmt: f"{base}{name}.{fmt}{query}" for fmt in FORMATS}

    yield b'{\n "datasets": ['
    for i, ds in enumerate(DATASETS.values()):
        with translation.override(OFFICIAL_LANGUAGE):
            head = {"name": ds.name, "title": str(ds.title), "since": ds.final}
        head["whole"] = urls(ds.name, {})
        text = json.dumps(head, ensure_ascii=False)[:-1] + ', "files": ['
        yield ((",\n  " if i else "\n  ") + text).encode()
        separator = "\n   "
        for chunk in batched(ds.years().iterator(chunk_size=CHUNK * 4), CHUNK):
            files = [
                json.dumps(
                    {
                        "community": slug,
                        "year": year,
                        **urls(ds.name, {"community": slug, "year": year}),
                    },
                    ensure_ascii=False,
                )
                for slug, year in chunk
            ]
            yield (separator + ",\n   ".join(files)).encode()
            separator = ",\n   "
        yield b"]}"
    yield b"\n ]\n}\n"
