"""What the services of ballots, rounds and meetings share: the envelope of the year, the rules
they copy, permission checks, evidence and the live board's broadcast."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from council import clock
from council.deadlines import Deadline
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.models import Community, Council, RoleKind
from council.notifications import notify_on_commit
from council.realtime import send_event_on_commit

from ..models import BallotStatus, Envelope, RulesCopy
from ..receipts import receipt_new


def meeting_group(meeting_id: int) -> str:
    return f"meeting-{meeting_id}"


def board_changed(meeting_id: int | None) -> None:
    """Tell the meeting's live board to redraw, once the transaction commits. The event has an
    id of its own: every board socket of a process receives it, and the process redraws once
    (``voting.consumers.BoardRelay``)."""
    if meeting_id:
        send_event_on_commit(
            meeting_group(meeting_id), {"type": "board.changed", "id": uuid.uuid4().hex}
        )


def voter_commitment(obj, member) -> str:
    """A keyed commitment to the member who acted in a secret ballot or round (HMAC-SHA256
    under a key derived from ``SECRET_KEY``): stable for one member on one ballot, so the
    server can open it for an auditor by trying the ballot's list of members, while the public,
    who does not hold the key, cannot try member ids against it."""
    value = f"{obj._meta.label_lower}:{obj.pk}:{member.pk}"
    return salted_hmac("weishi.evidence.secret-voter", value, algorithm="sha256").hexdigest()


def record_secret_act(member, action: str, obj, community: Community, payload: dict) -> None:
    """Record a member's own act in a secret ballot or round without naming them.

    The entry's actor is left empty (its role says "council member") and its payload carries
    ``voter``, a keyed commitment (``voter_commitment``). An entry's hash covers its actor, so
    a named actor could be found by trying each member's id against the public head hash and
    the entry's time; with no actor there is nothing to try. Who took part stays a number.
    """
    evidence_record(
        actor=None,
        role=RoleKind.COUNCIL_MEMBER,
        action=action,
        obj=obj,
        payload={**payload, "voter": voter_commitment(obj, member)},
        community=community,
    )


# How long a ballot or round may stay open, from the moment the clerk opens it.
MIN_DURATION = dt.timedelta(minutes=5)
MAX_DURATION = dt.timedelta(days=30)


def closing_time_check(closes_at: dt.datetime, now: dt.datetime) -> None:
    """Refuse a closing time less than ``MIN_DURATION`` or more than ``MAX_DURATION`` after
    ``now``."""
    if closes_at < now + MIN_DURATION:
        raise InvalidMove(_("The closing time must be at least five minutes from now."))
    if closes_at > now + MAX_DURATION:
        raise InvalidMove(_("A ballot can stay open for thirty days at most."))


def locked(row, *related: str):
    """``row`` read again with its own row locked until the transaction ends (the ``related``
    rows come with it, unlocked)."""
    return type(row).objects.select_for_update(of=("self",)).select_related(*related).get(pk=row.pk)


def require(actor, perm: str, obj, message: str) -> None:
    if actor is None or not actor.has_perm(perm, obj):
        raise NotAllowed(message)


def clerk_deadline(model, *, lock, close, refusal, already_closed, reason_needed) -> Deadline:
    """How ballots or rounds (``model``) close at their time (``council.deadlines``): open
    while their status is open, closed early by the community's clerk alone (else
    ``refusal``)."""
    return Deadline(
        model=model,
        open=Q(status=BallotStatus.OPEN),
        lock=lock,
        close=close,
        may_close=lambda actor, row: require(
            actor, "voting.close_early", row.community, str(refusal)
        ),
        already_closed=already_closed,
        reason_needed=reason_needed,
    )


def council_of(community: Community) -> Council:
    council = Council.objects.filter(community=community).first()
    if council is None:
        raise InvalidMove(
            _("%(community)s has no residents' council yet; the district admin sets it up.")
            % {"community": community}
        )
    return council


def rules_copy(source: Council | RulesCopy) -> dict:
    """The rules of procedure of a council (those in force now), or those a ballot or round
    copied when it opened, as the fields a ballot or round copies."""
    return {
        "quorum_numerator": source.quorum_numerator,
        "quorum_denominator": source.quorum_denominator,
        "threshold": source.threshold,
        "secrecy": source.secrecy,
        "board_shows_running_count": source.board_shows_running_count,
    }


def envelope_of_year(community: Community, *, lock: bool = False) -> Envelope:
    year = clock.today().year
    envelopes = Envelope.objects.filter(community=community, year=year)
    if lock:
        envelopes = envelopes.select_for_update()
    envelope = envelopes.first()
    if envelope is None:
        raise InvalidMove(
            _("No envelope is set for %(community)s in %(year)s; the district admin sets it.")
            % {"community": community, "year": year}
        )
    return envelope


def opening_fields(actor, community: Community, closes_at: dt.datetime, now: dt.datetime) -> dict:
    """The fields a ballot or round is created with whatever it puts to the vote: the
    community, this year's envelope (locked until the transaction ends), who opened it, when,
    when it closes, and the council's rules of procedure as they are now (``rules_copy``).

    Raises ``InvalidMove`` if the community has no council or no envelope this year."""
    council = council_of(community)
    return {
        "community": community,
        "envelope": envelope_of_year(community, lock=True),
        "opened_by": actor,
        "opened_at": now,
        "closes_at": closes_at,
        **rules_copy(council),
    }


def when_text(moment: dt.datetime) -> str:
    """``moment`` in local time, in the active language's date and time format."""
    return date_format(localtime(moment), "DATETIME_FORMAT")


def opened_notify(members, message, title: str, closes_at: dt.datetime, url: str) -> None:
    """Tell ``members``, once the transaction commits, that a ballot or round is open:
    ``message`` (lazy, with ``%(title)s`` and ``%(when)s``) in each member's language."""
    notify_on_commit(members, lambda: message % {"title": title, "when": when_text(closes_at)}, url)


def member_entry(entries, *, member, recorded_by, now: dt.datetime, **content) -> tuple:
    """The member's one entry in ``entries`` (a ballot's votes, a round's approval ballots)
    and whether it was created now: created with ``content`` and a fresh receipt when the member
    has none yet. The database keeps one entry per member even if two requests race past the
    row lock (SQLite has no row locks): the later one finds the first one's entry, to change."""
    entry = entries.filter(member=member).first()
    if entry is not None:
        return entry, False
    try:
        with transaction.atomic():
            created = entries.create(
                member=member, receipt=receipt_new(), recorded_by=recorded_by, updated_at=now,
                **content,
            )  # fmt: skip
    except IntegrityError:
        return entries.get(member=member), False
    return created, True
