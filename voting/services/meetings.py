"""Council meetings (议事会会议): schedule with an agenda, attendance, minutes, the live board."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.models import Community, RoleKind
from council.notifications import notify_on_commit
from council.sanitiser import render_markdown
from council.validators import refuse_line_breaks
from proposals.models import Proposal

from ..models import (
    SIGN_IN_EARLY,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingStatus,
)
from ..selectors.votes import seated_members
from ._common import board_changed, locked, require


def _url(meeting: Meeting) -> str:
    return reverse("meeting", args=[meeting.community.slug, meeting.pk])


def _lock(meeting: Meeting) -> Meeting:
    return locked(meeting, "community")


def _agenda(meeting: Meeting, proposals: list[Proposal]) -> None:
    community = meeting.community
    seen = set()
    for proposal in proposals:
        if proposal.community_id != community.pk:
            raise InvalidMove(
                _("Every agenda item must be a proposal of %(c)s.") % {"c": community}
            )
        if proposal.pk in seen:
            raise InvalidMove(_("A proposal is on the agenda once."))
        seen.add(proposal.pk)
    if not proposals:
        raise InvalidMove(_("Put at least one proposal on the agenda."))
    meeting.current_item = None
    meeting.save(update_fields=["current_item"])
    meeting.items.all().delete()
    AgendaItem.objects.bulk_create(
        [AgendaItem(meeting=meeting, proposal=p, position=n) for n, p in enumerate(proposals, 1)]
    )


def _notice(meeting: Meeting, text) -> None:
    members = [user for user, _seat in seated_members(meeting.community)]
    when, place, title = meeting.starts_at, meeting.place, meeting.title
    notify_on_commit(
        members,
        lambda: (
            text()
            % {
                "title": title,
                "when": date_format(localtime(when), "DATETIME_FORMAT"),
                "place": place,
            }
        ),
        _url(meeting),
    )


@transaction.atomic
def meeting_schedule(
    *,
    actor,
    community: Community,
    title: str,
    starts_at: dt.datetime,
    place: str,
    proposals: list[Proposal],
) -> Meeting:
    """Schedule a meeting with an agenda of proposals; every seated member gets the notice."""
    require(
        actor,
        "voting.schedule_meeting",
        community,
        _("Only the community's staff schedule meetings."),
    )
    if starts_at < clock.now():
        raise InvalidMove(_("A meeting is scheduled in the future."))
    refuse_line_breaks(title, place)
    meeting = Meeting.objects.create(
        community=community,
        title=title.strip(),
        starts_at=starts_at,
        place=place.strip(),
        created_by=actor,
    )
    _agenda(meeting, proposals)
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="meeting.scheduled",
        obj=meeting,
        community=community,
        payload={"starts_at": starts_at.isoformat(), "agenda": [p.pk for p in proposals]},
    )
    _notice(meeting, lambda: _("Council meeting “%(title)s”: %(when)s at %(place)s."))
    return meeting


@transaction.atomic
def meeting_agenda_set(*, actor, meeting: Meeting, proposals: list[Proposal]) -> Meeting:
    meeting = _lock(meeting)
    require(actor, "voting.set_agenda", meeting.community, _("Only the clerk changes the agenda."))
    if meeting.status == MeetingStatus.ENDED:
        raise InvalidMove(_("The meeting has ended; its agenda is kept as it was."))
    _agenda(meeting, proposals)
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="meeting.agenda_changed",
        obj=meeting,
        community=meeting.community,
        payload={"agenda": [p.pk for p in proposals]},
    )
    board_changed(meeting.pk)
    return meeting


@transaction.atomic
def meeting_set_status(*, actor, meeting: Meeting, status: str) -> Meeting:
    """Open the session or end the meeting (scheduled → in session → ended)."""
    meeting = _lock(meeting)
    require(actor, "voting.run_meeting", meeting.community, _("Only the clerk runs the meeting."))
    allowed = {
        MeetingStatus.SCHEDULED: MeetingStatus.IN_SESSION,
        MeetingStatus.IN_SESSION: MeetingStatus.ENDED,
    }
    if allowed.get(meeting.status) != status:
        raise InvalidMove(
            _("The meeting is %(status)s.") % {"status": meeting.get_status_display()}
        )
    meeting.status = status
    fields = ["status"]
    if status == MeetingStatus.ENDED:
        meeting.current_item = None
        fields.append("current_item")
    meeting.save(update_fields=fields)
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action=f"meeting.{status}",
        obj=meeting,
        community=meeting.community,
    )
    board_changed(meeting.pk)
    return meeting


@transaction.atomic
def meeting_set_current(*, actor, meeting: Meeting, item: AgendaItem | None) -> Meeting:
    """Show ``item`` on the live board as the item under discussion."""
    meeting = _lock(meeting)
    require(actor, "voting.run_meeting", meeting.community, _("Only the clerk runs the meeting."))
    if item is not None and item.meeting_id != meeting.pk:
        raise InvalidMove(_("That item is not on this meeting's agenda."))
    if meeting.status != MeetingStatus.IN_SESSION:
        raise InvalidMove(_("Open the session first."))
    meeting.current_item = item
    meeting.save(update_fields=["current_item"])
    board_changed(meeting.pk)
    return meeting


def _check_can_attend(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.ENDED:
        raise InvalidMove(_("The meeting has ended."))
    if meeting.status == MeetingStatus.SCHEDULED and clock.now() < (
        meeting.starts_at - SIGN_IN_EARLY
    ):
        raise InvalidMove(_("Signing in opens an hour before the meeting starts."))


@transaction.atomic
def attendance_sign_in(*, actor, meeting: Meeting) -> Attendance:
    """A member signs themselves in on their phone."""
    meeting = _lock(meeting)
    require(
        actor,
        "voting.sign_in",
        meeting.community,
        _("Only members of %(c)s's council sign in to its meetings.") % {"c": meeting.community},
    )
    _check_can_attend(meeting)
    attendance, created = Attendance.objects.get_or_create(meeting=meeting, member=actor)
    if attendance.excused:  # excused beforehand, and came after all
        attendance.excused, attendance.recorded_by = False, None
        attendance.save(update_fields=["excused", "recorded_by"])
        created = True
    if created:
        evidence_record(
            actor=actor,
            roles=(RoleKind.COUNCIL_MEMBER,),
            action="meeting.signed_in",
            obj=meeting,
            community=meeting.community,
        )
        board_changed(meeting.pk)
    return attendance


@transaction.atomic
def attendance_mark(
    *, actor, meeting: Meeting, member, present: bool, excused: bool = False
) -> None:
    """The clerk marks a member present (recorded by the clerk), excused (not ``present``
    and ``excused``: absent with leave) or absent (neither). A change is one evidence event;
    marking what is already so changes nothing."""
    meeting = _lock(meeting)
    require(
        actor,
        "voting.record_attendance",
        meeting.community,
        _("Only the clerk records attendance."),
    )
    if meeting.status == MeetingStatus.ENDED:
        raise InvalidMove(_("The meeting has ended."))
    if member.pk not in {user.pk for user, _seat in seated_members(meeting.community)}:
        raise NotAllowed(_("That person holds no seat on this council."))
    excused = excused and not present
    row = Attendance.objects.filter(meeting=meeting, member=member).first()
    changed = True
    if present or excused:
        if row is None:
            Attendance.objects.create(
                meeting=meeting, member=member, recorded_by=actor, excused=excused
            )
        elif row.excused != excused:
            row.excused, row.recorded_by = excused, actor
            row.save(update_fields=["excused", "recorded_by"])
        else:
            changed = False
    else:
        changed = row is not None and bool(row.delete()[0])
    if changed:
        evidence_record(
            actor=actor,
            roles=(RoleKind.STAFF,),
            action="meeting.attendance_marked",
            obj=meeting,
            community=meeting.community,
            payload={"member": member.display_name, "present": present, "excused": excused},
        )
        board_changed(meeting.pk)


@transaction.atomic
def minutes_save(*, actor, meeting: Meeting, text: str) -> Meeting:
    """Keep the minutes (Markdown, sanitised at write time). Each save is evidence."""
    meeting = _lock(meeting)
    require(actor, "voting.keep_minutes", meeting.community, _("Only the clerk keeps the minutes."))
    meeting.minutes = text.strip()
    meeting.minutes_html = render_markdown(meeting.minutes)
    meeting.save(update_fields=["minutes", "minutes_html"])
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="meeting.minutes_saved",
        obj=meeting,
        community=meeting.community,
        payload={"sha256": hashlib.sha256(meeting.minutes.encode()).hexdigest()},
    )
    return meeting


def meetings_remind() -> int:
    """Remind members a day ahead of a scheduled meeting, once (scheduler)."""
    now = clock.now()
    sent = 0
    due = Meeting.objects.filter(
        status=MeetingStatus.SCHEDULED,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + dt.timedelta(days=1),
    ).select_related("community")
    for meeting in due:
        with transaction.atomic():
            if Meeting.objects.filter(pk=meeting.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                _notice(
                    meeting,
                    lambda: _("Reminder: council meeting “%(title)s”, %(when)s at %(place)s."),
                )
                sent += 1
    return sent
