"""Read and write Pabulib ``.pb`` files, the format researchers' tools read (pabulib.org).

A file has three sections, in this order: ``META`` (a ``key;value`` header, then one row per
key), ``PROJECTS`` (a header naming at least ``project_id`` and ``cost``) and ``VOTES`` (a
header naming at least ``voter_id`` and ``vote``). Each section starts with a line holding
only its name; rows are semicolon-separated CSV with double-quote quoting. Ids are strings;
``vote`` is a comma-separated list of project ids. Only approval ballots
(``vote_type;approval``) are read. Other columns and META keys are kept as they are.

Pure parsing and writing: no database. Error messages are translatable and name the line
(counted from 1, as an editor shows it) and the field at fault.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _

from .allocation import Project

SECTIONS = ("META", "PROJECTS", "VOTES")
REQUIRED_COLUMNS = {"PROJECTS": ("project_id", "cost"), "VOTES": ("voter_id", "vote")}

# Plain decimal numbers only: Decimal() would also take "NaN", "1e5" or "1_000".
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


class PabulibError(ValueError):
    """A malformed file. The message names the line and, where one is at fault, the field;
    both are also kept as attributes (``field`` may be a section name, or ``None``)."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.line = line
        self.field = field


@dataclass
class Instance:
    """The content of a ``.pb`` file, as strings, in file order."""

    meta: dict[str, str] = field(default_factory=dict)
    # In file order; each has at least project_id and cost, plus the file's other columns.
    projects: list[dict[str, str]] = field(default_factory=list)
    # Each has at least voter_id and vote (project ids, comma-separated; empty: approves none).
    votes: list[dict[str, str]] = field(default_factory=list)

    def to_allocation(self) -> tuple[list[Project], list[set[str]], Decimal]:
        """The round as ``voting.allocation`` takes it: projects (``order`` = row order),
        one approval set per vote (in row order), and the budget from ``meta["budget"]``.

        The instance is checked as ``parse`` checks a file first: a ``PabulibError`` names the
        line and field as they are in ``write(self)``.
        """
        checked = parse(write(self))
        projects = [
            Project(id=row["project_id"], cost=Decimal(row["cost"]), order=order)
            for order, row in enumerate(checked.projects)
        ]
        ballots = [_ballot(row["vote"]) for row in checked.votes]
        return projects, ballots, Decimal(checked.meta["budget"])


def _ballot(vote: str) -> set[str]:
    return {project_id.strip() for project_id in vote.split(",") if project_id.strip()}


def _error(message: str, line: int, field: str | None = None, **values) -> PabulibError:
    return PabulibError(message % {"line": line, "field": field, **values}, line=line, field=field)


@dataclass
class _Section:
    name: str
    line: int  # of the line naming the section
    header: list[str] = field(default_factory=list)
    header_line: int = 0
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _rows(text: str) -> tuple[list[tuple[int, list[str]]], int]:
    """Non-blank CSV rows with the line each starts on, cells stripped of surrounding blanks;
    and the line after the last row."""
    # Strict: an unclosed quote is an error here, not the rest of the file read as one cell.
    source = io.StringIO(text.removeprefix("\ufeff"), newline="")
    reader = csv.reader(source, delimiter=";", strict=True)
    rows, end = [], 0
    while True:
        # A quoted cell may span lines: the row starts on the line after the last one read.
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows, end + 1
        except csv.Error as exc:
            raise _error(
                _("line %(line)d: malformed quoting (%(problem)s)"), start, problem=str(exc)
            ) from exc
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append((start, cells))
            end = reader.line_num


def _sections(text: str) -> dict[str, _Section]:
    """Split the rows into the three sections, checking their order and headers."""
    rows, last_line = _rows(text)
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    for line, cells in rows:
        name = cells[0].upper() if len(cells) == 1 else None
        if name in SECTIONS:
            expected = SECTIONS[len(sections)] if len(sections) < len(SECTIONS) else None
            if name != expected:
                if name in sections:
                    raise _error(
                        _("line %(line)d, field %(field)s: a second %(field)s section"),
                        line,
                        name,
                    )
                raise _error(
                    _("line %(line)d, field %(field)s: section missing before %(found)s"),
                    line,
                    expected,
                    found=name,
                )
            current = sections[name] = _Section(name, line)
        elif current is None:
            raise _error(
                _("line %(line)d, field %(field)s: the file must start with this section"),
                line,
                "META",
            )
        elif not current.header_line:
            current.header, current.header_line = cells, line
        else:
            current.rows.append((line, cells))
    for name in SECTIONS:
        if name not in sections:
            raise _error(_("line %(line)d, field %(field)s: section missing"), last_line, name)
        if not sections[name].header_line:
            raise _error(
                _("line %(line)d, field %(field)s: the section has no header line"),
                sections[name].line + 1,
                name,
            )
    return sections


def _meta(section: _Section) -> tuple[dict[str, str], dict[str, int]]:
    """The META rows, and the line of each key."""
    if [cell.lower() for cell in section.header] != ["key", "value"]:
        raise _error(
            _("line %(line)d, field %(field)s: the header must be key;value"),
            section.header_line,
            "META",
        )
    meta: dict[str, str] = {}
    lines: dict[str, int] = {}
    for line, cells in section.rows:
        if len(cells) != 2:
            raise _error(
                _("line %(line)d, field %(field)s: a row holds a key and a value, not %(count)d"),
                line,
                "META",
                count=len(cells),
            )
        key, value = cells
        if key in meta:
            raise _error(
                _("line %(line)d, field %(field)s: already set on line %(first)d"),
                line,
                key,
                first=lines[key],
            )
        meta[key], lines[key] = value, line
    return meta, lines


def _table(section: _Section) -> list[tuple[int, dict[str, str]]]:
    """The PROJECTS or VOTES rows as dicts, with the line of each."""
    header = section.header
    seen = set()
    for column in header:
        if column in seen or not column:
            raise _error(
                _("line %(line)d, field %(field)s: an empty or repeated column name"),
                section.header_line,
                column,
            )
        seen.add(column)
    for column in REQUIRED_COLUMNS[section.name]:
        if column not in seen:
            raise _error(
                _("line %(line)d, field %(field)s: column missing from the %(section)s header"),
                section.header_line,
                column,
                section=section.name,
            )
    table = []
    for line, cells in section.rows:
        if len(cells) < len(header):
            raise _error(
                _("line %(line)d, field %(field)s: missing (%(count)d of %(expected)d fields)"),
                line,
                header[len(cells)],
                count=len(cells),
                expected=len(header),
            )
        if len(cells) > len(header):
            raise _error(
                _("line %(line)d: %(count)d fields, but the header names only %(expected)d"),
                line,
                count=len(cells),
                expected=len(header),
            )
        table.append((line, dict(zip(header, cells, strict=True))))
    return table


def _number(value: str, line: int, field_name: str) -> Decimal:
    if not _NUMBER.fullmatch(value):
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' is not a number"),
            line,
            field_name,
            value=value,
        )
    return Decimal(value)


def _unique(value: str, line: int, field_name: str, seen: dict[str, int]) -> None:
    if not value:
        raise _error(_("line %(line)d, field %(field)s: empty"), line, field_name)
    if value in seen:
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' already appears on line %(first)d"),
            line,
            field_name,
            value=value,
            first=seen[value],
        )
    seen[value] = line


def parse(text: str) -> Instance:
    """The instance in a ``.pb`` file's text.

    Guarantees: the three sections were present, in order, with their required columns; the
    budget is a number >= 0; ``vote_type`` is ``approval``; every cost is a number > 0 with at
    most two decimal places; project ids and voter ids are non-empty and unique; every vote
    names known projects, each once; ``num_projects`` and ``num_votes``, if given, are right.
    Cells are stripped of surrounding blanks. Otherwise raises ``PabulibError``.
    """
    sections = _sections(text)
    meta, meta_lines = _meta(sections["META"])
    meta_line = sections["META"].line
    projects = _table(sections["PROJECTS"])
    votes = _table(sections["VOTES"])

    for key in ("budget", "vote_type"):
        if key not in meta:
            raise _error(
                _("line %(line)d, field %(field)s: missing from the META section"),
                meta_line,
                key,
            )
    budget = _number(meta["budget"], meta_lines["budget"], "budget")
    if budget < 0:
        raise _error(
            _("line %(line)d, field %(field)s: %(value)s is negative"),
            meta_lines["budget"],
            "budget",
            value=meta["budget"],
        )
    if meta["vote_type"] != "approval":
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' is not supported, only approval"),
            meta_lines["vote_type"],
            "vote_type",
            value=meta["vote_type"],
        )
    for key, counted in (("num_projects", len(projects)), ("num_votes", len(votes))):
        if key in meta and not (
            meta[key].isascii() and meta[key].isdigit() and int(meta[key]) == counted
        ):
            raise _error(
                _("line %(line)d, field %(field)s: the file says %(value)s but lists %(count)d"),
                meta_lines[key],
                key,
                value=meta[key],
                count=counted,
            )

    project_lines: dict[str, int] = {}
    for line, row in projects:
        _unique(row["project_id"], line, "project_id", project_lines)
        cost = _number(row["cost"], line, "cost")
        if cost <= 0:
            raise _error(
                _("line %(line)d, field %(field)s: %(value)s is not more than 0"),
                line,
                "cost",
                value=row["cost"],
            )
        if (Fraction(cost) * 100).denominator != 1:
            raise _error(
                _("line %(line)d, field %(field)s: %(value)s has more than two decimal places"),
                line,
                "cost",
                value=row["cost"],
            )

    voter_lines: dict[str, int] = {}
    for line, row in votes:
        _unique(row["voter_id"], line, "voter_id", voter_lines)
        approved: set[str] = set()
        for project_id in (item.strip() for item in row["vote"].split(",")):
            if not project_id and row["vote"].strip():
                raise _error(
                    _("line %(line)d, field %(field)s: an empty project id in the list"),
                    line,
                    "vote",
                )
            if not project_id:
                continue
            if project_id not in project_lines:
                raise _error(
                    _("line %(line)d, field %(field)s: no project '%(value)s' in this file"),
                    line,
                    "vote",
                    value=project_id,
                )
            if project_id in approved:
                raise _error(
                    _("line %(line)d, field %(field)s: project '%(value)s' is listed twice"),
                    line,
                    "vote",
                    value=project_id,
                )
            approved.add(project_id)

    return Instance(
        meta=meta,
        projects=[row for _, row in projects],
        votes=[row for _, row in votes],
    )


def _columns(rows: list[dict[str, str]], required: tuple[str, ...]) -> list[str]:
    """The columns in order of first appearance (a parsed file's header order); the required
    ones alone if there are no rows."""
    columns = list(rows[0]) if rows else list(required)
    for row in rows[1:]:
        columns.extend(key for key in row if key not in columns)
    return columns


def write(instance: Instance) -> str:
    """The ``.pb`` text of an instance: sections in order, ``\\n`` line ends, cells quoted only
    where needed; the PROJECTS and VOTES columns in order of first appearance (a row lacking a
    column gets an empty cell).

    Guarantees ``parse(write(i)) == i`` for a valid instance whose cells have no surrounding
    blanks and whose rows all have the same columns; and ``write(parse(text)) == text`` for a
    text in that layout (the layout of Pabulib's own files, minus any blank lines or ``\\r``).
    """
    # Written with the plain csv module, not council.csvout: a .pb file is a research format
    # read by parsers (pabutools, this module's ``parse``), not a spreadsheet, and a quote put
    # in front of a project name beginning "=" would change the data and break the round trip
    # guaranteed above. Exports go to researchers through a management command, never to a
    # browser as a .csv download.
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows(instance.meta.items())
    for name, rows in (("PROJECTS", instance.projects), ("VOTES", instance.votes)):
        columns = _columns(rows, REQUIRED_COLUMNS[name])
        writer.writerow([name])
        writer.writerow(columns)
        writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return out.getvalue()
