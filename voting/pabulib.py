"""Read and write Pabulib ``.pb`` files, the format researchers' tools read (pabulib.org).

A file has three sections, in this order: ``META`` (a ``key;value`` header, then one row per
key), ``PROJECTS`` (a header naming at least ``project_id`` and ``cost``) and ``VOTES`` (a
header naming at least ``voter_id`` and ``vote``). Each section starts with a line holding
only its name; rows are semicolon-separated CSV with double-quote quoting. Ids are strings;
``vote`` is a comma-separated list of project ids. Only approval ballots
(``vote_type;approval``) are read. Other columns and META keys are kept as they are.

Pure parsing and writing: no database. Error messages are translatable and name the line
(counted from 1, as an editor shows it) and the field at fault; every problem in the rows is
reported, not only the first.

Limits (``Limits``): a file is read whole into memory and every cell kept, so its size, its
number of rows and the length of a cell are bounded, and a number holds at most 10 digits
before the point and 2 after (up to 9,999,999,999.99: what Weishi's money columns hold, and far
beyond any budget on pabulib.org). ``RESEARCH`` fits pabulib.org's largest instances;
``ROUND`` is one community's round, as ``import_pabulib`` reads it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from django.utils.translation import gettext as _

from council.textfiles import NotUtf8Text, decode_utf8

from .allocation import Project

SECTIONS = ("META", "PROJECTS", "VOTES")
REQUIRED_COLUMNS = {"PROJECTS": ("project_id", "cost"), "VOTES": ("voter_id", "vote")}

# Plain decimal numbers only: Decimal() would also take "NaN", "1e5" or "1_000".
_NUMBER = re.compile(r"-?([0-9]+)(\.[0-9]+)?", re.ASCII)
MAX_INTEGER_DIGITS = 10  # money columns: 12 digits, 2 of them after the point
LARGEST = "9,999,999,999.99"
ERRORS_SHOWN = 20


@dataclass(frozen=True)
class Limits:
    """What one file may hold."""

    max_projects: int
    max_votes: int
    max_bytes: int = 64 * 1024 * 1024
    max_cell: int = 10_000  # characters: a project's name or a voter's list, with room


# pabulib.org's largest instances (a capital city's yearly vote) hold some thousand projects
# and a few hundred thousand votes in tens of megabytes.
RESEARCH = Limits(max_projects=10_000, max_votes=1_000_000, max_bytes=64 * 1024 * 1024)
# One community's round: a slate of proposals and one ballot per seated member.
ROUND = Limits(max_projects=200, max_votes=1_000, max_bytes=1024 * 1024)


class PabulibError(ValueError):
    """A malformed file. The message names the line and, where one is at fault, the field;
    both are also kept as attributes (``field`` may be a section name, or ``None``).

    ``errors`` lists every problem found (this one alone, unless several rows are at fault:
    then ``line`` and ``field`` are the first's, and the message lists the first
    ``ERRORS_SHOWN``, one per line, with a count of the rest)."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.line = line
        self.field = field
        self.errors = [self]

    @classmethod
    def of(cls, errors: list[PabulibError]) -> PabulibError:
        if len(errors) == 1:
            return errors[0]
        lines = [str(error) for error in errors[:ERRORS_SHOWN]]
        if len(errors) > ERRORS_SHOWN:
            lines.append(
                _("… and %(count)s more problems.") % {"count": f"{len(errors) - ERRORS_SHOWN:,}"}
            )
        combined = cls("\n".join(lines), line=errors[0].line, field=errors[0].field)
        combined.errors = errors
        return combined


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


def _shown(value):
    """A value as a message quotes it: a very long one is cut, with its length."""
    if isinstance(value, str) and len(value) > 40:
        return _("%(start)s… (%(count)s characters)") % {
            "start": value[:16],
            "count": f"{len(value):,}",
        }
    return value


def _error(message: str, line: int, field: str | None = None, **values) -> PabulibError:
    values = {name: _shown(value) for name, value in values.items()}
    return PabulibError(
        message % {"line": line, "field": _shown(field), **values}, line=line, field=field
    )


class _Collected:
    """Gathers the problems of many rows, to report them all at once."""

    def __init__(self):
        self.errors: list[PabulibError] = []

    def check(self, function, *args) -> None:
        try:
            function(*args)
        except PabulibError as error:
            self.errors.extend(error.errors)

    def raise_any(self) -> None:
        if self.errors:
            raise PabulibError.of(sorted(self.errors, key=lambda error: error.line or 0))


@dataclass
class _Section:
    name: str
    line: int  # of the line naming the section
    header: list[str] = field(default_factory=list)
    header_line: int = 0
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def _rows(text: str, limits: Limits) -> tuple[list[tuple[int, list[str]]], int]:
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
            # The csv module's own limit on a cell (131,072 characters) is far above ours; a
            # quote left open also reaches it.
            if "field limit" in str(exc):
                raise _error(
                    _("line %(line)d: a cell from this line on is longer than %(max)s "
                      "characters, or a quotation mark is not closed"),
                    start,
                    max=f"{limits.max_cell:,}",
                ) from exc  # fmt: skip
            raise _error(
                _("line %(line)d: malformed quoting (%(problem)s)"), start, problem=str(exc)
            ) from exc
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append((start, cells))
            end = reader.line_num


def _sections(text: str, limits: Limits) -> dict[str, _Section]:
    """Split the rows into the three sections, checking their order and headers."""
    rows, last_line = _rows(text, limits)
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


def _fits(value: str, line: int, field_name: str, limits: Limits) -> None:
    if len(value) > limits.max_cell:
        raise _error(
            _("line %(line)d, field %(field)s: longer than %(max)s characters (%(count)s)"),
            line,
            field_name,
            max=f"{limits.max_cell:,}",
            count=f"{len(value):,}",
        )


def _meta(section: _Section, limits: Limits) -> tuple[dict[str, str], dict[str, int]]:
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
        _fits(key, line, "META", limits)
        _fits(value, line, key, limits)
        if key in meta:
            raise _error(
                _("line %(line)d, field %(field)s: already set on line %(first)d"),
                line,
                key,
                first=lines[key],
            )
        meta[key], lines[key] = value, line
    return meta, lines


def _table(
    section: _Section, limits: Limits, max_rows: int, problems: _Collected
) -> list[tuple[int, dict[str, str]]]:
    """The PROJECTS or VOTES rows as dicts, with the line of each; a row that is not whole
    goes to ``problems`` instead."""
    header = section.header
    if len(section.rows) > max_rows:
        raise _error(
            _("line %(line)d, field %(field)s: more than %(max)s rows; at most %(max)s can be "
              "read here"),
            section.rows[max_rows][0],
            section.name,
            max=f"{max_rows:,}",
        )  # fmt: skip
    seen = set()
    for column in header:
        _fits(column, section.header_line, section.name, limits)
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
        problems.check(_row, table, header, line, cells, limits)
    return table


def _row(table: list, header: list[str], line: int, cells: list[str], limits: Limits) -> None:
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
    for column, cell in zip(header, cells, strict=True):
        _fits(cell, line, column, limits)
    table.append((line, dict(zip(header, cells, strict=True))))


def _number(value: str, line: int, field_name: str) -> Decimal:
    """A plain decimal number of at most ``MAX_INTEGER_DIGITS`` digits before the point
    (checked on the text: a 5,000-digit number is never converted)."""
    match = _NUMBER.fullmatch(value)
    if not match:
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' is not a number"),
            line,
            field_name,
            value=value,
        )
    if len(match[1].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' is too large: at most %(largest)s"),
            line,
            field_name,
            value=value,
            largest=LARGEST,
        )
    return Decimal(value)


def _two_places(value: Decimal, text: str, line: int, field_name: str) -> None:
    if (Fraction(value) * 100).denominator != 1:
        raise _error(
            _("line %(line)d, field %(field)s: %(value)s has more than two decimal places"),
            line,
            field_name,
            value=text,
        )


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


def _check_budget(meta, meta_lines) -> None:
    budget = _number(meta["budget"], meta_lines["budget"], "budget")
    if budget < 0:
        raise _error(
            _("line %(line)d, field %(field)s: %(value)s is negative"),
            meta_lines["budget"],
            "budget",
            value=meta["budget"],
        )
    _two_places(budget, meta["budget"], meta_lines["budget"], "budget")


def _check_vote_type(meta, meta_lines) -> None:
    if meta["vote_type"] != "approval":
        raise _error(
            _("line %(line)d, field %(field)s: '%(value)s' is not supported, only approval"),
            meta_lines["vote_type"],
            "vote_type",
            value=meta["vote_type"],
        )


def _check_count(meta, meta_lines, key: str, counted: int) -> None:
    value = meta[key]
    # Compared as text: a 5,000-digit count is never converted to a number.
    if not (value.isascii() and value.isdigit() and value.lstrip("0") == str(counted).lstrip("0")):
        raise _error(
            _("line %(line)d, field %(field)s: the file says %(value)s but lists %(count)d"),
            meta_lines[key],
            key,
            value=value,
            count=counted,
        )


def _check_project(line: int, row: dict[str, str], project_lines: dict[str, int]) -> None:
    _unique(row["project_id"], line, "project_id", project_lines)
    cost = _number(row["cost"], line, "cost")
    if cost <= 0:
        raise _error(
            _("line %(line)d, field %(field)s: %(value)s is not more than 0"),
            line,
            "cost",
            value=row["cost"],
        )
    _two_places(cost, row["cost"], line, "cost")


def _check_vote(line, row, project_lines: dict[str, int], voter_lines: dict[str, int]) -> None:
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


def parse(text: str, limits: Limits = RESEARCH) -> Instance:
    """The instance in a ``.pb`` file's text.

    Guarantees: the three sections were present, in order, with their required columns; no
    more rows and no longer cells than ``limits`` allow; the budget is a number >= 0 and every
    cost a number > 0, each with at most two decimal places and at most ``MAX_INTEGER_DIGITS``
    digits before the point; ``vote_type`` is ``approval``; project ids and voter ids are
    non-empty and unique; every vote names known projects, each once; ``num_projects`` and
    ``num_votes``, if given, are right. Cells are stripped of surrounding blanks. Otherwise
    raises ``PabulibError``: at the first fault in the file's structure, or with every fault
    found in its rows.
    """
    sections = _sections(text, limits)
    meta, meta_lines = _meta(sections["META"], limits)
    problems = _Collected()
    projects = _table(sections["PROJECTS"], limits, limits.max_projects, problems)
    votes = _table(sections["VOTES"], limits, limits.max_votes, problems)

    for key in ("budget", "vote_type"):
        if key not in meta:
            problems.errors.append(
                _error(
                    _("line %(line)d, field %(field)s: missing from the META section"),
                    sections["META"].line,
                    key,
                )
            )
    if "budget" in meta:
        problems.check(_check_budget, meta, meta_lines)
    if "vote_type" in meta:
        problems.check(_check_vote_type, meta, meta_lines)
    for key, counted in (("num_projects", len(projects)), ("num_votes", len(votes))):
        if key in meta and not problems.errors:  # a count is off when rows were refused
            problems.check(_check_count, meta, meta_lines, key, counted)

    project_lines: dict[str, int] = {}
    for line, row in projects:
        problems.check(_check_project, line, row, project_lines)
    voter_lines: dict[str, int] = {}
    for line, row in votes:
        problems.check(_check_vote, line, row, project_lines, voter_lines)
    problems.raise_any()

    return Instance(
        meta=meta,
        projects=[row for _, row in projects],
        votes=[row for _, row in votes],
    )


def read(path: str | Path, limits: Limits = RESEARCH) -> Instance:
    """The instance in the ``.pb`` file at ``path``: at most ``limits.max_bytes``, UTF-8 with
    or without a byte-order mark (another encoding is named in the error), then ``parse``d.

    Raises ``PabulibError`` (with no line) for a file too large or not UTF-8 text, ``OSError``
    for a file that cannot be read."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read(limits.max_bytes + 1)  # never more than the limit and one byte
    if len(data) > limits.max_bytes:
        raise PabulibError(
            _("%(file)s is larger than %(max)s MB, the most a file may be here.")
            % {"file": path.name, "max": f"{limits.max_bytes / 1024 / 1024:g}"}
        )
    try:
        text = decode_utf8(data)
    except NotUtf8Text as error:
        raise PabulibError(f"{path.name}: {error}") from error
    return parse(text, limits)


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
