"""Implementation (实施过程): progress updates, one at a time or from a CSV file, each an
immutable published entry; disclosure 2 is redrafted with all updates after each."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from council.errors import InvalidMove
from council.evidence import evidence_record
from council.files import stored_file_save, stored_files_atomic
from council.money import format_yuan
from council.sanitiser import render_plain
from council.textfiles import NotUtf8Text, decode_utf8
from council.wording import listing
from proposals.media import clean_upload
from proposals.models import Proposal, Stage

from ..models import ProgressPhoto, ProgressUpdate, Provider
from ._common import ACTORS, require_staff
from .publishing import implementation_draft

MAX_PHOTOS = 6
CSV_COLUMNS = ("proposal_id", "date", "percent", "spent", "provider", "text")
# What a community imports: a few dozen projects a year, each updated every week or two, is a
# few hundred rows a year; a thousand holds a busy year's backlog. A file of that many rows of
# plain sentences is well under a megabyte.
CSV_MAX_ROWS = 1_000
CSV_MAX_BYTES = 5 * 1024 * 1024
CSV_MAX_CELL = 4_000  # characters: the longest "what was done" the form takes
ERRORS_SHOWN = 100
# ProgressUpdate.spent: 12 digits, 2 of them after the point.
SPENT_MAX = Decimal("9999999999.99")
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_AMOUNT = re.compile(r"([0-9]+)(\.[0-9]{1,2})?", re.ASCII)


def _problems(proposal: Proposal, last, *, date, percent, spent, provider, text):
    """Why this update cannot follow ``last`` (the proposal's previous update, or ``None``):
    ``(field, message)`` pairs, empty if it can."""
    if proposal.stage != Stage.IN_PROGRESS:
        return [(
            "proposal_id",
            _("Progress is posted only while a project is in progress (this one is %(stage)s).")
            % {"stage": proposal.get_stage_display()},
        )]  # fmt: skip
    problems = []
    if provider.district_id != proposal.community.sub_district.district_id or not provider.active:
        problems.append(("provider", _("Choose a provider on the district's list.")))
    if not 0 <= percent <= 100:
        problems.append(("percent", _("The percent done is between 0 and 100.")))
    if spent < 0:
        problems.append(("spent", _("The money spent cannot be negative.")))
    if not text.strip():
        problems.append(("text", _("Say what was done.")))
    if last is not None:
        if date < last.date:
            problems.append(("date", _("An update cannot be dated before the previous one.")))
        if percent < last.percent or spent < last.spent:
            problems.append((
                "percent" if percent < last.percent else "spent",
                _("Percent done and money spent only grow: the last update said %(p)d%% and "
                  "%(s)s.") % {"p": last.percent, "s": last.spent},
            ))  # fmt: skip
    return problems


def _last_update(proposal: Proposal):
    return proposal.progress_updates.order_by("-date", "-pk").first()


def _check(proposal: Proposal, **values) -> None:
    """Raise ``InvalidMove`` with the first reason this update cannot be posted now."""
    problems = _problems(proposal, _last_update(proposal), **values)
    if problems:
        raise InvalidMove(problems[0][1])


def _update(actor, proposal, *, date, text, percent, spent, provider, imported=False):
    """A progress update, not saved yet."""
    return ProgressUpdate(
        proposal=proposal,
        date=date,
        text=text.strip(),
        text_html=render_plain(text.strip()),
        percent=percent,
        spent=spent,
        provider=provider,
        created_by=actor,
        imported=imported,
    )


def _record_posted(actor, update: ProgressUpdate) -> None:
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="progress.posted",
        obj=update,
        community=update.proposal.community,
        payload={
            "proposal": update.proposal_id,
            "percent": update.percent,
            "spent": str(update.spent),
            "imported": update.imported,
        },
    )


def _create(actor, proposal, **values):
    update = _update(actor, proposal, **values)
    update.save()
    _record_posted(actor, update)
    return update


@stored_files_atomic()
def progress_post(
    *,
    actor,
    proposal: Proposal,
    date: dt.date,
    text: str,
    percent: int,
    spent: Decimal,
    provider: Provider,
    photos=(),
) -> ProgressUpdate:
    """Post a progress update (published at once; never edited) with photos re-encoded and
    stripped of EXIF; disclosure 2 is redrafted with every update so far. ``StoreUnavailable``
    (nothing posted, no photo kept) if the file store cannot take a photo."""
    proposal = (
        Proposal.objects.select_for_update()
        .select_related("community__sub_district")
        .get(pk=proposal.pk)
    )
    require_staff(
        actor,
        "disclosure.post_progress",
        proposal.community,
        _("Only the community's staff post progress."),
    )
    _check(proposal, date=date, percent=percent, spent=spent, provider=provider, text=text)
    if len(photos) > MAX_PHOTOS:
        raise InvalidMove(_("At most %(n)d photos per update.") % {"n": MAX_PHOTOS})
    cleaned = []
    for uploaded in photos:
        try:
            item = clean_upload(uploaded)
        except ValidationError as error:
            raise InvalidMove(" ".join(error.messages)) from error
        if item.kind != "photo":
            raise InvalidMove(_("Progress photos must be images."))
        cleaned.append(item)
    update = _create(
        actor, proposal, date=date, text=text, percent=percent, spent=spent, provider=provider
    )
    for item in cleaned:
        photo = ProgressPhoto(update=update, name=item.name[:120])
        stored_file_save(photo.image, item.name, item.content)
        stored_file_save(photo.thumbnail, f"thumb-{item.name}", item.thumbnail)
        photo.save()
    implementation_draft(proposal)
    return update


@dataclass
class ImportReport:
    """What a CSV import did: every row published (``imported``), or none and why.

    ``errors`` are ``(line, column, message)`` in file order (the header is line 1; column is
    ``""`` where the whole line is at fault), the first ``ERRORS_SHOWN`` of them;
    ``more_errors`` counts the rest."""

    imported: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    more_errors: int = 0

    def add(self, line: int, column: str, message: str) -> None:
        self.errors.append((line, column, message))

    def cap(self) -> None:
        """Put the errors in file order and keep the first ``ERRORS_SHOWN``."""
        self.errors.sort(key=lambda error: error[0])  # stable: a line's columns keep order
        self.more_errors = max(0, len(self.errors) - ERRORS_SHOWN)
        del self.errors[ERRORS_SHOWN:]


def csv_too_large(size: int) -> str:
    """The message for a CSV file of ``size`` bytes, over ``CSV_MAX_BYTES``."""
    return _(
        "The file is %(size)s MB; at most %(max)d MB can be imported at once. Split it into "
        "smaller files. Nothing was imported."
    ) % {"size": f"{size / 1024 / 1024:.1f}", "max": CSV_MAX_BYTES // 1024 // 1024}


def _grouped(number: int) -> str:
    """1,000 in both languages, as money is written (zh-hans would give 1000)."""
    return f"{number:,}"


def _read_rows(text: str):
    """The header, the non-blank rows (each with the line it starts on) and, if reading had
    to stop, ``(line, message)``; raises ``InvalidMove`` for a file without the columns or
    with more than ``CSV_MAX_ROWS`` rows."""
    # newline="": line breaks inside quoted cells are kept, as the csv module asks.
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    stopped = None
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # Not strict, the reader has one complaint left: a cell over its own limit
            # (131,072 characters, far above ours), which a quote left open also makes.
            stopped = (
                line,
                _("A cell from this line on is longer than %(max)s characters, or a quotation "
                  "mark is not closed; the rest of the file was not read.")
                % {"max": _grouped(CSV_MAX_CELL)},
            )  # fmt: skip
            break
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        count += 1
        if count <= CSV_MAX_ROWS:
            rows.append((line, cells))
        elif count == CSV_MAX_ROWS + 1:
            first_over = line
    if count > CSV_MAX_ROWS:
        raise InvalidMove(
            _("The file has %(count)s rows of updates; at most %(max)s can be imported at once "
              "(line %(line)s is the first one over). Split it into files of at most %(max)s "
              "rows. Nothing was imported.")
            % {"count": _grouped(count), "max": _grouped(CSV_MAX_ROWS),
               "line": _grouped(first_over)}
        )  # fmt: skip
    missing = [c for c in CSV_COLUMNS if c not in (header or [])]
    if missing and not (stopped and header is None):
        raise InvalidMove(
            _("The first line must name the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ",".join(CSV_COLUMNS), "missing": listing(missing)}
        )
    return header, rows, stopped


def _as_id(value: str) -> int | None:
    """The id a cell holds: digits only, at most 18 of them (a longer number is no id, nor
    any database integer, and is not converted)."""
    value = value.strip()
    return int(value) if _DIGITS.fullmatch(value) and len(value) <= 18 else None


class _Row:
    """One row's values, converted, with the problems found in its cells."""

    def __init__(self, line: int, cells: dict[str, str], lookups):
        self.line = line
        self.problems: list[tuple[str, str]] = []
        self.proposal = self._proposal(cells["proposal_id"], lookups)
        self.values = {
            "date": self._date(cells["date"]),
            "percent": self._percent(cells["percent"]),
            "spent": self._spent(cells["spent"]),
            "provider": self._provider(cells["provider"], lookups),
            "text": cells["text"],
        }

    def _refuse(self, column: str, message: str) -> None:
        self.problems.append((column, message))

    def _proposal(self, value: str, lookups):
        found = lookups.proposals.get(_as_id(value))
        if found is None:
            self._refuse("proposal_id", _("No project of this community has this id."))
        return found

    def _date(self, value: str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            self._refuse("date", _("Write the date as YYYY-MM-DD, for example 2026-03-01."))

    def _percent(self, value: str):
        value = value.strip()
        if _DIGITS.fullmatch(value) and len(value) <= 3 and int(value) <= 100:
            return int(value)
        self._refuse("percent", _("A whole number from 0 to 100."))

    def _spent(self, value: str):
        match = _AMOUNT.fullmatch(value.strip().replace(",", "").removeprefix("¥"))
        # The integer part is checked by its length first: a 5,000-digit number is refused
        # without being converted.
        if match and len(match[1].lstrip("0")) <= 10:
            return Decimal(match[0])
        self._refuse(
            "spent",
            _("An amount in yuan with at most two decimals, up to %(max)s.")
            % {"max": format_yuan(SPENT_MAX)},
        )

    def _provider(self, value: str, lookups):
        found = lookups.providers.get(value.strip())
        if found is None:
            self._refuse(
                "provider",
                _("Not on the district's provider list: write the name exactly as listed."),
            )
        return found


@dataclass
class _Lookups:
    proposals: dict[int, Proposal]
    providers: dict[str, Provider]


def _lookups(community, rows: list[tuple[int, dict[str, str]]]) -> _Lookups:
    """The proposals and providers the rows name, in two queries."""
    ids = {_as_id(cells["proposal_id"]) for _, cells in rows} - {None}
    names = {cells["provider"].strip() for _, cells in rows}
    proposals = Proposal.objects.select_related("community__sub_district").filter(
        community=community, pk__in=ids
    )
    providers = Provider.objects.filter(
        district_id=community.sub_district.district_id, name__in=names, active=True
    )
    return _Lookups({p.pk: p for p in proposals}, {p.name: p for p in providers})


def _checked_rows(header, rows, community, report: ImportReport) -> list[_Row]:
    """Every row checked, as it would be posted after the rows above it; problems go to
    ``report``. Reads only."""
    position = {column: header.index(column) for column in CSV_COLUMNS}
    shaped = []
    for line, cells in rows:
        if len(cells) != len(header):
            report.add(
                line,
                "",
                _("This line has %(count)d cells; the first line names %(expected)d columns.")
                % {"count": len(cells), "expected": len(header)},
            )
            continue
        long = [
            (column, len(cells[index]))
            for column, index in position.items()
            if len(cells[index]) > CSV_MAX_CELL
        ]
        for column, length in long:
            report.add(
                line,
                column,
                _("Longer than %(max)s characters (this cell has %(count)s).")
                % {"max": _grouped(CSV_MAX_CELL), "count": _grouped(length)},
            )
        if not long:
            shaped.append((line, {column: cells[index] for column, index in position.items()}))
    lookups = _lookups(community, shaped)
    # Each row follows the last good row of its project above it, or the project's last
    # update already published.
    last: dict[int, object] = {}
    checked = []
    for line, cells in shaped:
        row = _Row(line, cells, lookups)
        if not row.problems:
            proposal = row.proposal
            if proposal.pk not in last:
                last[proposal.pk] = _last_update(proposal)
            row.problems = _problems(proposal, last[proposal.pk], **row.values)
            if not row.problems:
                last[proposal.pk] = SimpleNamespace(**row.values)
        for column, message in row.problems:
            report.add(line, column, message)
        checked.append(row)
    return checked


def progress_import_csv(*, actor, community, data: bytes) -> ImportReport:
    """Import progress updates from a CSV file (UTF-8 with or without a byte-order mark; the
    first line names the columns ``proposal_id,date,percent,spent,provider,text``, in any
    order; one row per update).

    All or nothing. The whole file is checked first, reading only: its size (at most
    ``CSV_MAX_BYTES``), its encoding (another one is named, with how to save it as UTF-8), its
    header, its number of rows (at most ``CSV_MAX_ROWS``), then every row as it would be posted
    after the rows above it: each cell at most ``CSV_MAX_CELL`` characters, each number within
    what its column holds, each update allowed by the rules ``progress_post`` applies. A
    problem with the file raises ``InvalidMove``; problems in rows are returned in the report
    (by line and column, capped) and nothing is written. Otherwise every row is published in
    one transaction, under a lock on each project (checked again there), and disclosure 2 of
    each project is redrafted once."""
    require_staff(
        actor,
        "disclosure.import_progress",
        community,
        _("Only the community's staff post progress."),
    )
    if len(data) > CSV_MAX_BYTES:
        raise InvalidMove(csv_too_large(len(data)))
    try:
        text = decode_utf8(data)
    except NotUtf8Text as error:
        raise InvalidMove(str(error)) from error
    header, rows, stopped = _read_rows(text)
    report = ImportReport()
    checked = _checked_rows(header, rows, community, report) if header else []
    if stopped:
        report.add(stopped[0], "", stopped[1])
    if report.errors:
        report.cap()
        return report
    with transaction.atomic():
        locked = {
            p.pk: p
            for p in Proposal.objects.select_for_update()
            .select_related("community__sub_district")
            .filter(pk__in={row.proposal.pk for row in checked})
            .order_by("pk")
        }
        # Checked again under the lock: someone may have posted since the check above. Each
        # project's last update is read once; after that it is the row before.
        last = {pk: _last_update(proposal) for pk, proposal in locked.items()}
        updates = []
        for row in checked:
            proposal = locked[row.proposal.pk]
            problems = _problems(proposal, last[proposal.pk], **row.values)
            if problems:
                raise InvalidMove(
                    _("While the file was being imported, progress was posted for the project "
                      "on line %(line)s: %(why)s Nothing was imported.")
                    % {"line": _grouped(row.line), "why": problems[0][1]}
                )  # fmt: skip
            updates.append(_update(actor, proposal, imported=True, **row.values))
            last[proposal.pk] = updates[-1]
        ProgressUpdate.objects.bulk_create(updates)
        for proposal in locked.values():
            implementation_draft(proposal)
        # Last, as the evidence log asks: appending locks the chain's head until this
        # transaction commits, so every other writer of the site waits only for the appends.
        for update in updates:
            _record_posted(actor, update)
    report.imported = len(checked)
    return report
