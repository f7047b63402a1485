"""Council meetings: schedule, the meeting's page and its forms, the live board.

A meeting, its agenda, attendance, minutes and board are public (a council meeting is a
public act); scheduling and changing the agenda are staff pages (404 to anyone else). The
buttons of the meeting's page post to views that call ``voting.services``: a refusal
becomes a message on the page and a redirect back (PRG), or, for htmx, the refreshed part
of the page with the message in it.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from council.access import access_community
from council.errors import InvalidMove, NotAllowed

from .. import selectors, services
from ..board import board_context, check_in_qr
from ..forms.meetings import AgendaForm, AttendanceForm, CurrentItemForm, MeetingForm, MinutesForm
from ..models import MeetingStatus

TEMPLATE = "voting/meeting_detail.html"
STATUS_DONE = {
    MeetingStatus.IN_SESSION: lambda: _("The session is open."),
    MeetingStatus.ENDED: lambda: _("The meeting has ended."),
}


def _meeting_of(request, slug, pk):
    community = access_community(request.user, slug)
    meeting = selectors.meeting_for_page(community, pk)
    if meeting is None:
        raise Http404
    return meeting


def _back(meeting, anchor: str = ""):
    response = redirect("meeting", slug=meeting.community.slug, pk=meeting.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _may(request, meeting, perm: str) -> bool:
    return request.user.has_perm(perm, meeting.community)


def _agenda_context(request, meeting, outcome=None) -> dict:
    clerk = _may(request, meeting, "voting.see_clerk_tools")
    # Ballots past their time are closed first (the scheduler does it too, every minute): the
    # agenda never shows a stale "open".
    ballots = services.ballots_close_if_due(selectors.meeting_ballots(meeting))
    return {
        "meeting": meeting,
        "community": meeting.community,
        "is_clerk": clerk,
        "agenda": selectors.meeting_agenda(meeting, ballots, clerk=clerk),
        "outcome": outcome,
    }


def _attendance_context(request, meeting, outcome=None) -> dict:
    return {
        "meeting": meeting,
        "community": meeting.community,
        "is_clerk": _may(request, meeting, "voting.see_clerk_tools"),
        "attendance": selectors.meeting_attendance(meeting, request.user),
        "outcome": outcome,
    }


def _reply(request, meeting, partial: str, context, outcome, anchor: str):
    """The refreshed part for htmx (message inside it); else a message and a redirect."""
    if request.htmx:
        return render(request, f"{TEMPLATE}#{partial}", context(request, meeting, outcome))
    getattr(messages, outcome[0])(request, outcome[1])
    return _back(meeting, anchor)


# --- Scheduling -----------------------------------------------------------------------------


def meeting_new(request, slug):
    """Staff schedule a meeting with its agenda; the members get the notice."""
    community = access_community(request.user, slug, "voting.schedule_meeting")
    proposals = selectors.agenda_choices(community)
    form = MeetingForm(request.POST if request.method == "POST" else None, proposals=proposals)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_schedule(
                actor=request.user,
                community=community,
                title=data["title"],
                starts_at=data["starts_at"],
                place=data["place"],
                proposals=data["agenda"],
            )
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("The meeting is scheduled; the council's members are notified.")
            )
            return _back(meeting)
    return render(
        request,
        "voting/meeting_form.html",
        {"community": community, "form": form, "proposals_available": proposals.exists()},
    )


def meeting_agenda(request, slug, pk):
    """The clerk changes the agenda of a meeting that has not ended."""
    meeting = _meeting_of(request, slug, pk)
    if not _may(request, meeting, "voting.set_agenda"):
        raise Http404
    if meeting.status == MeetingStatus.ENDED:
        messages.info(request, _("The meeting has ended; its agenda is kept as it was."))
        return _back(meeting)
    proposals = selectors.agenda_choices(meeting.community, meeting)
    current = selectors.agenda_proposals(meeting)
    form = AgendaForm(
        request.POST if request.method == "POST" else None,
        proposals=proposals,
        initial={"agenda": [p.pk for p in current]},
        order={p.pk: n for n, p in enumerate(current, 1)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_agenda_set(
                actor=request.user, meeting=meeting, proposals=form.cleaned_data["agenda"]
            )
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The agenda is changed."))
            return _back(meeting, "agenda")
    return render(
        request,
        "voting/meeting_form.html",
        {
            "community": meeting.community,
            "meeting": meeting,
            "form": form,
            "proposals_available": True,
        },
    )


# --- The meeting's page -----------------------------------------------------------------------


def _page(request, meeting, *, minutes_form=None):
    """The meeting's public page. Its query count does not grow with the agenda, the ballots
    or the council's size."""
    if minutes_form is None and _may(request, meeting, "voting.keep_minutes"):
        minutes_form = MinutesForm(initial={"text": meeting.minutes})
    context = {
        **_agenda_context(request, meeting),
        **_attendance_context(request, meeting),
        "minutes_form": minutes_form,
    }
    return render(request, TEMPLATE, context)


def meeting_detail(request, slug, pk):
    return _page(request, _meeting_of(request, slug, pk))


@require_POST
def meeting_status(request, slug, pk):
    """Open the session, or end the meeting."""
    meeting = _meeting_of(request, slug, pk)
    status = request.POST.get("status", "")
    try:
        services.meeting_set_status(actor=request.user, meeting=meeting, status=status)
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, STATUS_DONE[status]())
    return _back(meeting)


@require_POST
def meeting_current(request, slug, pk):
    """Show an agenda item on the board as under discussion (or none, with no item)."""
    meeting = _meeting_of(request, slug, pk)
    form = CurrentItemForm(request.POST, meeting=meeting)
    try:
        if not form.is_valid():
            raise InvalidMove(form.errors["item"][0])
        item = form.cleaned_data["item"]
        meeting = services.meeting_set_current(actor=request.user, meeting=meeting, item=item)
    except (InvalidMove, NotAllowed) as error:
        outcome = ("error", str(error))
    else:
        outcome = (
            "success",
            _("Now discussing: %(title)s.") % {"title": item.proposal.title}
            if item is not None
            else _("No item is under discussion now."),
        )
    meeting = selectors.meeting_for_page(meeting.community, meeting.pk)
    return _reply(request, meeting, "agenda", _agenda_context, outcome, "agenda")


@require_POST
def meeting_sign_in(request, slug, pk):
    """A member signs themselves in."""
    meeting = _meeting_of(request, slug, pk)
    try:
        services.attendance_sign_in(actor=request.user, meeting=meeting)
    except (InvalidMove, NotAllowed) as error:
        outcome = ("error", str(error))
    else:
        outcome = ("success", _("You are signed in: welcome to the meeting."))
    return _reply(request, meeting, "attendance", _attendance_context, outcome, "attendance")


@require_POST
def meeting_attendance(request, slug, pk):
    """The clerk marks a member present, excused or absent."""
    meeting = _meeting_of(request, slug, pk)
    form = AttendanceForm(request.POST)
    try:
        if not form.is_valid():
            raise NotAllowed(form.errors["member"][0])
        member, present = form.cleaned_data["member"], form.cleaned_data["present"]
        excused = form.cleaned_data["excused"]
        services.attendance_mark(
            actor=request.user, meeting=meeting, member=member, present=present, excused=excused
        )
    except (InvalidMove, NotAllowed) as error:
        outcome = ("error", str(error))
    else:
        name = member.public_name
        if present:
            text = _("%(name)s is marked present.")
        elif excused:
            text = _("%(name)s is marked excused.")
        else:
            text = _("%(name)s is marked absent.")
        outcome = ("success", text % {"name": name})
    return _reply(request, meeting, "attendance", _attendance_context, outcome, "attendance")


@require_POST
def meeting_attendance_all(request, slug, pk):
    """「全部出席」: the clerk marks every seated member not yet present (nor excused) as
    present, one ``attendance_mark`` each (each its own evidence event); exceptions are then
    marked absent or excused one by one."""
    meeting = _meeting_of(request, slug, pk)
    marked = 0
    try:
        if not _may(request, meeting, "voting.record_attendance"):
            raise NotAllowed(_("Only the clerk records attendance."))
        for line in selectors.meeting_attendance(meeting).lines:
            if line.seated and not line.present and not line.excused:
                services.attendance_mark(
                    actor=request.user, meeting=meeting, member=line.member, present=True
                )
                marked += 1
    except (InvalidMove, NotAllowed) as error:
        outcome = ("error", str(error))
    else:
        outcome = (
            "success",
            ngettext(
                "Every seated member is marked present (%(n)d just now). Mark those who are "
                "not here absent.",
                "Every seated member is marked present (%(n)d just now). Mark those who are "
                "not here absent.",
                marked,
            )
            % {"n": marked},
        )
    return _reply(request, meeting, "attendance", _attendance_context, outcome, "attendance")


@login_required
def meeting_check_in(request, slug, pk):
    """Self check-in, reached from the QR code on the live board: a seated member signs
    themselves in on their phone. Only for seated members and only while signing in is open
    (from an hour before the start until the meeting ends); for anyone else, or at another
    time, the page answers 404 as if it did not exist. Checking in twice changes nothing."""
    meeting = _meeting_of(request, slug, pk)
    attendance = selectors.meeting_attendance(meeting, request.user)
    if not (attendance.viewer_seated and attendance.sign_in_open):
        raise Http404
    if request.method == "POST":
        try:
            services.attendance_sign_in(actor=request.user, meeting=meeting)
        except (InvalidMove, NotAllowed) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("You are signed in: welcome to the meeting."))
        return redirect("meeting_check_in", slug=meeting.community.slug, pk=meeting.pk)
    return render(
        request,
        "voting/meeting_check_in.html",
        {"meeting": meeting, "community": meeting.community, "attendance": attendance},
    )


@require_POST
def meeting_minutes(request, slug, pk):
    """The clerk keeps the minutes (Markdown, cleaned when saved)."""
    meeting = _meeting_of(request, slug, pk)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        if not _may(request, meeting, "voting.keep_minutes"):
            messages.error(request, _("Only the clerk keeps the minutes."))
            return _back(meeting, "minutes")
        return _page(request, meeting, minutes_form=form)
    try:
        services.minutes_save(actor=request.user, meeting=meeting, text=form.cleaned_data["text"])
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The minutes are saved."))
    return _back(meeting, "minutes")


# --- The live board ---------------------------------------------------------------------------


def meeting_board(request, slug, pk):
    """The board for the projector: public, live over the meeting's WebSocket."""
    meeting = _meeting_of(request, slug, pk)
    return render(
        request,
        "voting/meeting_board.html",
        {**board_context(meeting), "check_in_qr": check_in_qr(meeting, request)},
    )
