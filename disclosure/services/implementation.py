"""Implementation (实施过程): progress updates, one at a time or from a CSV file, each an
immutable published entry; disclosure 2 is redrafted with all updates after each."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from council.errors import InvalidMove, NotAllowed
from council.sanitiser import render_plain
from proposals.media import clean_upload
from proposals.models import Proposal, Stage

from ..models import ProgressPhoto, ProgressUpdate, Provider
from ._common import record, require_staff
from .publishing import implementation_draft

MAX_PHOTOS = 6
CSV_COLUMNS = ("proposal_id", "date", "percent", "spent", "provider", "text")
CSV_MAX_ROWS = 500


def _check(proposal: Proposal, *, date, percent, spent, provider, text) -> None:
    if proposal.stage != Stage.IN_PROGRESS:
        raise InvalidMove(
            _("Progress is posted only while a project is in progress (this one is %(stage)s).")
            % {"stage": proposal.get_stage_display()}
        )
    if provider.district_id != proposal.community.sub_district.district_id or not provider.active:
        raise InvalidMove(_("Choose a provider on the district's list."))
    if not 0 <= percent <= 100:
        raise InvalidMove(_("The percent done is between 0 and 100."))
    if spent < 0:
        raise InvalidMove(_("The money spent cannot be negative."))
    if not text.strip():
        raise InvalidMove(_("Say what was done."))
    last = proposal.progress_updates.order_by("-date", "-pk").first()
    if last is not None:
        if date < last.date:
            raise InvalidMove(_("An update cannot be dated before the previous one."))
        if percent < last.percent or spent < last.spent:
            raise InvalidMove(
                _("Percent done and money spent only grow: the last update said %(p)d%% and "
                  "%(s)s.") % {"p": last.percent, "s": last.spent}
            )  # fmt: skip


def _create(actor, proposal, *, date, text, percent, spent, provider, imported=False):
    update = ProgressUpdate.objects.create(
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
    record(
        actor,
        "progress.posted",
        update,
        proposal.community,
        {"proposal": proposal.pk, "percent": percent, "spent": str(spent), "imported": imported},
    )
    return update


@transaction.atomic
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
    stripped of EXIF; disclosure 2 is redrafted with every update so far."""
    proposal = (
        Proposal.objects.select_for_update()
        .select_related("community__sub_district")
        .get(pk=proposal.pk)
    )
    require_staff(actor, proposal.community, _("Only the community's staff post progress."))
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
        photo.image.save(item.name, item.content, save=False)
        photo.thumbnail.save(f"thumb-{item.name}", item.thumbnail, save=False)
        photo.save()
    implementation_draft(proposal)
    return update


@dataclass
class ImportReport:
    """What a CSV import did, row by row (line numbers as in the file, header = line 1)."""

    accepted: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _row_values(row: dict, community):
    try:
        proposal = Proposal.objects.select_related("community__sub_district").get(
            pk=int(row["proposal_id"]), community=community
        )
    except (ValueError, TypeError, Proposal.DoesNotExist) as error:
        raise InvalidMove(_("proposal_id: no project of this community has that id")) from error
    try:
        date = dt.date.fromisoformat(row["date"].strip())
    except ValueError as error:
        raise InvalidMove(_("date: write it as YYYY-MM-DD")) from error
    try:
        percent = int(row["percent"].strip())
    except ValueError as error:
        raise InvalidMove(_("percent: a whole number from 0 to 100")) from error
    try:
        spent = Decimal(row["spent"].strip().replace(",", "").lstrip("¥"))
        if spent != spent.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, ValueError) as error:
        raise InvalidMove(_("spent: an amount in yuan, at most two decimals")) from error
    district = community.sub_district.district_id
    provider = Provider.objects.filter(
        district_id=district, name=row["provider"].strip(), active=True
    ).first()
    if provider is None:
        raise InvalidMove(_("provider: not on the district's provider list"))
    return proposal, {
        "date": date,
        "percent": percent,
        "spent": spent,
        "provider": provider,
        "text": row["text"] or "",
    }


def progress_import_csv(*, actor, community, data: bytes) -> ImportReport:
    """Import progress updates from a CSV file (UTF-8, header ``proposal_id,date,percent,
    spent,provider,text``). Each good row is posted on its own; each bad row is reported with
    its line and why, and changes nothing."""
    require_staff(actor, community, _("Only the community's staff post progress."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidMove(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from error
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidMove(
            _("The first line must name the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ",".join(CSV_COLUMNS), "missing": ", ".join(missing)}
        )
    report = ImportReport()
    touched = set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > CSV_MAX_ROWS:
            report.rejected.append((number, _("more than %(n)d rows") % {"n": CSV_MAX_ROWS}))
            break
        if None in row or any(v is None for v in row.values()):
            report.rejected.append((number, _("wrong number of columns")))
            continue
        try:
            with transaction.atomic():
                proposal, values = _row_values(row, community)
                proposal = (
                    Proposal.objects.select_for_update()
                    .select_related("community__sub_district")
                    .get(pk=proposal.pk)
                )
                _check(proposal, **values)
                _create(actor, proposal, imported=True, **values)
        except (InvalidMove, NotAllowed) as error:
            report.rejected.append((number, str(error)))
            continue
        report.accepted.append(number)
        touched.add(proposal.pk)
    for proposal in Proposal.objects.filter(pk__in=touched):
        with transaction.atomic():
            implementation_draft(proposal)
    return report
