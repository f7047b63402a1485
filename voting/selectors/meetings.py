"""Reads of council meetings for their page: the agenda with the ballots opened at the
meeting, attendance against the seated members, and what the clerk may do next.

Each function runs a fixed number of queries, whatever the length of the agenda or the size
of the council. They never write: the page closes the ballots whose time has passed
(``voting.services.ballots_close_if_due``) before it builds the agenda from them, so it never
shows a stale "open".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from council import clock
from council.models import Community
from council.selectors import council_seats
from proposals.models import Proposal, Stage

from ..models import (
    SIGN_IN_EARLY,
    AgendaItem,
    Attendance,
    Ballot,
    BallotStatus,
    Meeting,
    MeetingStatus,
)
from .results import ballot_tally
from .votes import proposals_on_open_vote


def meeting_for_page(community: Community, pk: int) -> Meeting | None:
    """The meeting ``pk`` of ``community``, or None (missing, or of another community)."""
    return (
        Meeting.objects.filter(community=community, pk=pk)
        .select_related("community", "created_by", "current_item__proposal")
        .first()
    )


def agenda_choices(community: Community, meeting: Meeting | None = None):
    """Proposals that may be put on a meeting's agenda: the community's proposals in
    consultation or voting, and those already on ``meeting``'s agenda (so they can stay)."""
    wanted = Q(stage__in=Stage.DELIBERATION)
    if meeting is not None:
        wanted |= Q(pk__in=AgendaItem.objects.filter(meeting=meeting).values("proposal_id"))
    return Proposal.objects.filter(wanted, community=community).order_by("submitted_at", "pk")


def agenda_proposals(meeting: Meeting) -> list[Proposal]:
    return [item.proposal for item in meeting.items.select_related("proposal")]


@dataclass
class AgendaLine:
    item: AgendaItem
    proposal: Proposal
    current: bool
    ballots: list[Ballot] = field(default_factory=list)
    # The clerk may open a ballot on it at this meeting (in voting, on no open vote).
    may_open_ballot: bool = False


def meeting_ballots(meeting: Meeting) -> list[Ballot]:
    """The ballots opened at ``meeting``, newest first. One query."""
    return list(Ballot.objects.filter(meeting=meeting).order_by("-opened_at", "-pk"))


def meeting_agenda(
    meeting: Meeting, ballots: list[Ballot], *, clerk: bool = False
) -> list[AgendaLine]:
    """The agenda in order, each item with its ``ballots`` (those of ``meeting_ballots``, in
    their order, each with its ``tally`` once closed). For the clerk, whether a ballot may be
    opened on the item now. Two queries, four for the clerk."""
    items = list(meeting.items.select_related("proposal").order_by("position"))
    proposal_ids = [item.proposal_id for item in items]
    by_proposal: dict[int, list[Ballot]] = {}
    for ballot in ballots:
        if ballot.status == BallotStatus.CLOSED:
            ballot.tally = ballot_tally(ballot)  # frozen counts: no query
        by_proposal.setdefault(ballot.proposal_id, []).append(ballot)
    on_open_vote: set[int] = set()
    if clerk and meeting.status != MeetingStatus.ENDED:
        on_open_vote = proposals_on_open_vote(proposal_ids)
    lines = []
    for item in items:
        lines.append(
            AgendaLine(
                item=item,
                proposal=item.proposal,
                current=item.pk == meeting.current_item_id,
                ballots=by_proposal.get(item.proposal_id, []),
                may_open_ballot=clerk
                and meeting.status != MeetingStatus.ENDED
                and item.proposal.stage == Stage.VOTING
                and item.proposal_id not in on_open_vote,
            )
        )
    return lines


def meeting_exists(meeting_id: int) -> bool:
    return Meeting.objects.filter(pk=meeting_id).exists()


def meeting_for_board(meeting_id: int) -> Meeting | None:
    """The meeting ``meeting_id`` with what its board shows of it, or None."""
    return (
        Meeting.objects.filter(pk=meeting_id)
        .select_related("community", "current_item__proposal")
        .first()
    )


def board_counts(meeting: Meeting) -> dict[str, int]:
    """The board's numbers: agenda items, members present, seated members. Three queries."""
    return {
        "items_count": meeting.items.count(),
        "present": meeting.attendance.filter(excused=False).count(),
        "seated": council_seats(meeting.community).count(),
    }


def board_ballot(meeting: Meeting) -> Ballot | None:
    """The ballot the live board shows: the newest opened at ``meeting`` on the item under
    discussion, or None. One query, none without an item."""
    item = meeting.current_item
    if item is None:
        return None
    return (
        Ballot.objects.filter(meeting=meeting, proposal_id=item.proposal_id)
        .order_by("-opened_at", "-pk")
        .first()
    )


@dataclass
class AttendanceLine:
    member: object
    seat: str
    present: bool
    by_clerk: bool
    seated: bool = True
    excused: bool = False  # absent with leave, marked by the clerk


@dataclass
class MeetingAttendance:
    lines: list[AttendanceLine]
    present: int
    seated: int
    # The viewer: a seated member, whether present, whether signing in is open now.
    viewer_seated: bool
    viewer_present: bool
    sign_in_open: bool
    sign_in_opens_at: object

    @property
    def unmarked(self) -> int:
        """Seated members neither present nor excused (whom 「全部出席」 would mark)."""
        return sum(1 for x in self.lines if x.seated and not x.present and not x.excused)


def meeting_attendance(meeting: Meeting, viewer=None) -> MeetingAttendance:
    """Every seated member with present or absent and, if present, whether they signed in
    themselves or the clerk marked them; then anyone recorded present who no longer holds a
    seat. Two queries."""
    seats = list(council_seats(meeting.community))
    rows = {
        row.member_id: row
        for row in Attendance.objects.filter(meeting=meeting).select_related("member")
    }
    lines = []
    for seat in seats:
        row = rows.pop(seat.user_id, None)
        lines.append(
            AttendanceLine(
                member=seat.user,
                seat=seat.get_seat_category_display(),
                present=row is not None and not row.excused,
                by_clerk=row is not None and row.recorded_by_id is not None,
                excused=row is not None and row.excused,
            )
        )
    # Anyone recorded present who no longer holds a seat (an excused one is left out).
    rows = {pk: row for pk, row in rows.items() if not row.excused}
    for row in sorted(rows.values(), key=lambda r: (r.member.display_name, r.member_id)):
        lines.append(
            AttendanceLine(
                member=row.member,
                seat="",
                present=True,
                by_clerk=row.recorded_by_id is not None,
                seated=False,
            )
        )
    viewer_id = getattr(viewer, "pk", None) if viewer is not None else None
    opens_at = meeting.starts_at - SIGN_IN_EARLY
    return MeetingAttendance(
        lines=lines,
        present=sum(1 for line in lines if line.present),
        seated=len(seats),
        viewer_seated=viewer_id is not None and any(s.user_id == viewer_id for s in seats),
        viewer_present=viewer_id is not None
        and any(line.present and line.member.pk == viewer_id for line in lines),
        sign_in_open=meeting.status == MeetingStatus.IN_SESSION
        or (meeting.status == MeetingStatus.SCHEDULED and clock.now() >= opens_at),
        sign_in_opens_at=opens_at,
    )
