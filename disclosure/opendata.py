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
``/open-data/<name>.csv`` is UTF-8 with a byte-order mark (so Excel reads the Chinese), its
header row the schema's column names; a text cell that a spreadsheet would read as a formula
(beginning ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) starts with a single quote
there, while the JSON file holds every value exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from council.csvout import csv_bytes
from council.models import Community
from voting import selectors as voting_selectors

from . import selectors

OFFICIAL_LANGUAGE = "zh-hans"
FORMATS = ("csv", "json")

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


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Promise
    description: Promise
    columns: tuple[Column, ...]
    build: Callable[[Community | None, str], list[dict]]

    @property
    def fields(self) -> list[str]:
        return [c.name for c in self.columns]

    def schema(self) -> list[dict]:
        return [{"name": c.name, "type": c.type, "meaning": str(c.meaning)} for c in self.columns]

    def rows(self, community: Community | None = None, base_url: str = "") -> list[dict]:
        """The rows, each a dict with exactly the schema's columns, in its order."""
        with translation.override(OFFICIAL_LANGUAGE):
            rows = self.build(community, base_url)
        return [{name: row[name] for name in self.fields} for row in rows]


# --- Values -----------------------------------------------------------------------------------


def _date(moment) -> str | None:
    return timezone.localdate(moment).isoformat() if moment else None


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _percent(part, whole) -> str | None:
    return f"{Decimal(part) * 100 / Decimal(whole):.1f}" if whole else None


# --- Rows -------------------------------------------------------------------------------------


def _proposals(community, base_url) -> list[dict]:
    return [
        {
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
        for p in selectors.public_proposals(community)
    ]


def _ballots(community, base_url) -> list[dict]:
    rows = []
    ballots = list(selectors.closed_ballots(community))
    hands = voting_selectors.hand_counts(b.pk for b in ballots)
    for b in ballots:
        tally = voting_selectors.ballot_tally(b)  # a closed ballot's frozen counts: no query
        hands_yes, hands_no, hands_abstain = hands.get(b.pk, (0, 0, 0))
        rows.append(
            {
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
        )
    return rows


def _receipt_rows(lists: dict, id_key: str, value_key: str) -> list[dict]:
    """One row per published receipt, by ballot or round id (``lists`` maps each id to its
    ``(commitment, value)`` pairs, in the order they are published)."""
    return [
        {id_key: pk, "commitment": commitment, value_key: value}
        for pk in sorted(lists)
        for commitment, value in lists[pk]
    ]


def _ballot_receipts(community, base_url) -> list[dict]:
    lists = voting_selectors.ballot_lists(selectors.closed_ballots(community))
    return _receipt_rows({pk: lists[pk].votes for pk in lists}, "ballot_id", "choice")


def _rounds(community, base_url) -> list[dict]:
    return [
        {
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
        for r in selectors.closed_rounds(community)
    ]


def _round_projects(community, base_url) -> list[dict]:
    return [
        {
            "round_id": rp.round.pk,
            "proposal_id": rp.proposal_id,
            "position": rp.position,
            "cost": _money(rp.cost),
            "approvals": rp.approvals,
            "funded": "undecided" if not rp.round.valid else "yes" if rp.funded else "no",
        }
        for rp in selectors.closed_round_projects(community)
    ]


def _round_receipts(community, base_url) -> list[dict]:
    lists = voting_selectors.round_lists(selectors.closed_rounds(community))
    return _receipt_rows({pk: lists[pk].ballots for pk in lists}, "round_id", "approved")


def _votes(community, base_url) -> list[dict]:
    lines, choices = selectors.roll_call_lines(community)
    return [
        {
            "ballot_id": line.ballot.pk,
            "proposal_id": line.ballot.proposal_id,
            "member": line.member.public_name,
            "seat": line.seat_category,
            "choice": "recused"
            if line.recused
            else choices.get((line.ballot.pk, line.member_id), "did_not_vote"),
        }
        for line in lines
    ]


def _spending(community, base_url) -> list[dict]:
    rows = []
    for r in selectors.spending(community):
        budget = selectors.budget_of(r)
        variance = None if r.actual is None else r.actual - budget
        rows.append(
            {
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
        )
    return rows


def _evaluations(community, base_url) -> list[dict]:
    rows = []
    for w in selectors.closed_windows(community):
        total = (w.satisfied or 0) + (w.basic or 0) + (w.dissatisfied or 0)
        rows.append(
            {
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
        )
    return rows


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
        ),
    )
}


def dataset(name: str) -> Dataset | None:
    return DATASETS.get(name)


# --- Files ------------------------------------------------------------------------------------


def as_json(ds: Dataset, rows: list[dict]) -> bytes:
    document = {"dataset": ds.name, "schema": ds.schema(), "rows": rows}
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


NUMERIC_TYPES = frozenset({"integer", "decimal"})


def as_csv(ds: Dataset, rows: list[dict]) -> bytes:
    """The CSV file: text cells a spreadsheet would run as formulas made inert (``council.
    csvout``); the columns typed ``integer`` or ``decimal`` keep their numbers as they are."""
    numeric = {c.name for c in ds.columns if c.type in NUMERIC_TYPES}
    return csv_bytes(
        ds.fields, ([row[name] for name in ds.fields] for row in rows), numeric=numeric
    )
