"""How the evidence log names ballots, meetings, yearly rounds and envelopes
(``evidence_object_names``, ``council.hooks``). A secret ballot's entries name the ballot,
never who voted: the entry itself has no actor (``voting.services._common``)."""

from django.urls import reverse
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

from council.evidence import ObjectName, object_pks, objects_named

from ..models import Ballot, Envelope, Meeting, Round


def _ballot_name(ballot: Ballot) -> ObjectName:
    if not ballot.proposal.is_public:
        return ObjectName(_("a ballot on a proposal not made public"))
    return ObjectName(
        _("ballot on “%(title)s”") % {"title": ballot.proposal.title},
        reverse("ballot", args=[ballot.community.slug, ballot.pk]),
    )


def evidence_names_of_ballots(ids) -> dict[str, ObjectName]:
    """「表决《更换小区路灯》」, linked to the ballot's page."""
    rows = (
        Ballot.objects.filter(pk__in=object_pks(ids))
        .select_related("proposal", "community")
        .only("community__slug", "proposal__title", "proposal__stage")
    )
    return objects_named(ids, rows, _ballot_name, _("a ballot since deleted"))


def evidence_names_of_meetings(ids) -> dict[str, ObjectName]:
    """「议事会会议 2026-03-01」, linked to the meeting's page."""
    rows = (
        Meeting.objects.filter(pk__in=object_pks(ids))
        .select_related("community")
        .only("starts_at", "community__slug")
    )
    return objects_named(
        ids,
        rows,
        lambda meeting: ObjectName(
            _("council meeting %(date)s") % {"date": localdate(meeting.starts_at).isoformat()},
            reverse("meeting", args=[meeting.community.slug, meeting.pk]),
        ),
        _("a council meeting since deleted"),
    )


def evidence_names_of_rounds(ids) -> dict[str, ObjectName]:
    """「年度集中表决《2026 年度项目》」, linked to the round's page."""
    rows = (
        Round.objects.filter(pk__in=object_pks(ids))
        .select_related("community")
        .only("title", "community__slug")
    )
    return objects_named(
        ids,
        rows,
        lambda round_: ObjectName(
            _("yearly round “%(title)s”") % {"title": round_.title},
            reverse("round", args=[round_.community.slug, round_.pk]),
        ),
        _("a yearly round since deleted"),
    )


def evidence_names_of_envelopes(ids) -> dict[str, ObjectName]:
    """「2026 年度资金额度」."""
    rows = Envelope.objects.filter(pk__in=object_pks(ids)).only("year")
    return objects_named(
        ids,
        rows,
        lambda envelope: ObjectName(_("the %(year)s envelope") % {"year": envelope.year}),
        _("a yearly envelope since deleted"),
    )
