"""What each evidence action of the voting app means, for the public evidence log."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "ballot.opened": _("opened a council ballot"),
    "ballot.closed": _("closed a council ballot"),
    "ballot.hands_counted": _("recorded the totals of a show of hands"),
    "ballot.recusal_declared": _("declared a conflict of interest"),
    "ballot.member_recused": _("left an open ballot, recused"),
    "vote.cast": _("voted"),
    "vote.changed": _("changed vote"),
    "vote.recorded_by_clerk": _("recorded a member's vote given by show of hands"),
    "meeting.scheduled": _("scheduled a council meeting"),
    "meeting.agenda_changed": _("changed a meeting's agenda"),
    "meeting.in_session": _("opened a meeting's session"),
    "meeting.ended": _("ended a meeting"),
    "meeting.signed_in": _("signed in to a meeting"),
    "meeting.attendance_marked": _("recorded a member's attendance"),
    "meeting.minutes_saved": _("saved a meeting's minutes"),
    "round.opened": _("opened a yearly round"),
    "round.closed": _("closed a yearly round"),
    "round.ballot_cast": _("handed in an approval ballot"),
    "round.ballot_changed": _("changed an approval ballot"),
    "round.ballot_recorded_by_clerk": _("recorded a member's paper approval ballot"),
    "round.imported": _("imported a yearly round from a Pabulib file"),
    "envelope.created": _("set a community's yearly envelope"),
    "envelope.changed": _("changed a community's yearly envelope"),
}


def _without(key: str):
    return lambda payload: key not in payload


# A secret ballot's or round's entries never carry the choice (old entries included): those are
# shown by role, so the public log does not say who took part either.
ACTORS_BY_ROLE_ONLY = {
    "vote.cast": _without("choice"),
    "vote.changed": _without("choice"),
    "round.ballot_cast": _without("approved"),
    "round.ballot_changed": _without("approved"),
}
