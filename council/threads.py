"""Deliberation threads: every write (what the pages and the consumer read is in
``council.selectors``).

A message is saved first and broadcast on commit (``council.realtime``); the broadcast
carries the message id and the message rendered once per audience
(``council.thread_render.message_broadcast``), which each connection sends as it is. Permission is
checked on every call with ``council.rules``, and the actor's roles are re-read each time,
so someone who loses the right to post is refused on their very next message.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import clock
from .errors import InvalidMove, NotAllowed, RateLimited
from .evidence import acting_role, evidence_record
from .mail import one_line
from .models import (
    Message,
    MessageEdit,
    MessageKind,
    MessageReport,
    PostingBan,
    RoleKind,
    Thread,
    ThreadPresence,
    ThreadRead,
)
from .notifications import notify_on_commit
from .realtime import send_event_on_commit, thread_group
from .rules import forget_roles
from .sanitiser import plain_text, render_markdown
from .validators import refuse_line_breaks

MAX_LENGTH = 4000
EDIT_WINDOW = dt.timedelta(minutes=5)
RATE_LIMIT = 5  # messages …
RATE_WINDOW = 30  # … per this many seconds, per person and thread

ACTION_LABELS = {
    "thread.message_posted": gettext_lazy("posted in a thread"),
    "thread.message_edited": gettext_lazy("edited a message"),
    "thread.message_deleted": gettext_lazy("deleted a message"),
    "thread.message_hidden": gettext_lazy("hid a message"),
    "thread.message_reported": gettext_lazy("reported a message"),
    "thread.posting_banned": gettext_lazy("barred someone from posting"),
    "thread.posting_ban_lifted": gettext_lazy("let someone post again"),
    "thread.report_dismissed": gettext_lazy("dismissed a report"),
}


def _fresh(user):
    """The user with roles re-read: a role removed a moment ago counts now."""
    if user.is_authenticated:
        forget_roles(user)
    return user


# The role someone speaks in, in a community's threads: the first of these they hold there.
SPEAKERS = (RoleKind.STAFF, RoleKind.EXPERT, RoleKind.COUNCIL_MEMBER, RoleKind.RESIDENT)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record(actor, thread: Thread, action: str, message: Message, **payload) -> None:
    """Record an act on a message of ``thread``, in the role its actor speaks in there."""
    evidence_record(
        actor=actor,
        roles=SPEAKERS,
        action=action,
        obj=message,
        payload={"thread": thread.pk, **payload},
        community=thread.community,
    )


def _rendered(message_id: int, change: str):
    def render() -> dict:
        # Imported here: thread_render reads this module's rules (EDIT_WINDOW, bans).
        from .thread_render import message_broadcast

        return message_broadcast(message_id, change)

    return render


def _announce(message: Message, change: str) -> None:
    event = {
        "type": "thread.changed",
        "message": message.pk,
        "change": change,
        # Distinguishes two changes of one message, for renderings shared between readers.
        "version": clock.now().isoformat(),
    }
    if change == "new":
        # The message before it in the thread: a connection that has not sent that one missed
        # a broadcast (Redis away or hung) and fetches what it missed first (the consumer).
        event["prev"] = (
            Message.objects.filter(thread_id=message.thread_id, pk__lt=message.pk)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
    send_event_on_commit(
        thread_group(message.thread_id), event, render=_rendered(message.pk, change)
    )


def _rate_limit(user, thread: Thread) -> None:
    key = f"thread-rate:{thread.pk}:{user.pk}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    if count > RATE_LIMIT:
        raise RateLimited(
            _("You are posting too fast: at most %(n)d messages in %(s)d seconds. Wait a moment.")
            % {"n": RATE_LIMIT, "s": RATE_WINDOW}
        )


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidMove(_("Write something first."))
    if len(body) > MAX_LENGTH:
        raise InvalidMove(
            _("A message may have at most %(max)d characters; this one has %(n)d.")
            % {"max": MAX_LENGTH, "n": len(body)}
        )
    return body


def thread_create(*, community, title: str, is_public: bool = True, page_url: str = "") -> Thread:
    return Thread.objects.create(
        community=community, title=title[:120], is_public=is_public, page_url=page_url
    )


def thread_set_open(*, thread: Thread, is_open: bool) -> None:
    """Open or close a thread to new messages (it stays readable)."""
    Thread.objects.filter(pk=thread.pk).update(is_open=is_open)
    # The version: anonymous readers share one rendering of the new state per language.
    send_event_on_commit(
        thread_group(thread.pk),
        {"type": "thread.changed", "change": "state", "version": clock.now().isoformat()},
    )


def thread_guest_add(*, thread: Thread, user) -> None:
    thread.guests.add(user)


def _answered(thread: Thread, message_id) -> Message:
    """The message a reply answers: of this thread, neither hidden nor deleted."""
    message = Message.objects.select_related("author").filter(pk=message_id).first()
    if message is None or message.thread_id != thread.pk:
        raise InvalidMove(_("The message you are replying to is not in this discussion."))
    if message.hidden_at or message.deleted_at:
        raise InvalidMove(_("That message was hidden or deleted: it can no longer be answered."))
    return message


def banned_text(ban: PostingBan) -> str:
    """What a barred person is told when they try to post."""
    if ban.until is None:
        return _("Staff have barred you from posting in %(community)s's threads: %(reason)s") % {
            "community": ban.community,
            "reason": ban.reason,
        }
    return _(
        "Staff have barred you from posting in %(community)s's threads until %(until)s: %(reason)s"
    ) % {
        "community": ban.community,
        "until": date_format(localtime(ban.until), "DATETIME_FORMAT"),
        "reason": ban.reason,
    }


@transaction.atomic
def message_post(
    *, actor, thread: Thread, body: str, kind: str = MessageKind.COMMENT, reply_to_id=None
) -> Message:
    """Post a message, or a reply to message ``reply_to_id``. Refused with a clear message: no
    right to post (not of the community, barred, thread closed), an official kind by a
    non-staff, empty or overlong text, a reply to a message of another thread or to a hidden
    or deleted one, or posting too fast.

    A reply records the message it answers (``quote``) and is shown under that message's
    top-level one (``reply_to``): a reply to a reply joins the same group, one level deep."""
    actor = _fresh(actor)
    thread = Thread.objects.select_related("community").get(pk=thread.pk)
    if not actor.has_perm("council.post_in_thread", thread):
        if not thread.is_open:
            raise NotAllowed(_("This thread is closed to new messages."))
        ban = posting_ban_of(thread.community_id, actor) if actor.is_authenticated else None
        if ban is not None:
            raise NotAllowed(banned_text(ban))
        if actor.has_perm("council.await_confirmation", thread):
            raise NotAllowed(
                _("You can take part in the discussion once your residency is confirmed.")
            )
        raise NotAllowed(
            _("Only residents of %(community)s, invited experts and staff can post here.")
            % {"community": thread.community}
        )
    if kind not in (MessageKind.COMMENT, MessageKind.OFFICIAL, MessageKind.MEETING_NOTE):
        raise InvalidMove(_("Unknown kind of message."))
    if kind != MessageKind.COMMENT and not actor.has_perm("council.post_official", thread):
        raise NotAllowed(_("Only staff post official answers and meeting notes."))
    body = _clean_body(body)
    quote = _answered(thread, reply_to_id) if reply_to_id else None
    _rate_limit(actor, thread)
    message = Message.objects.create(
        thread=thread,
        author=actor,
        author_role=acting_role(actor, thread.community, *SPEAKERS),
        kind=kind,
        body=body,
        body_html=render_markdown(body),
        quote=quote,
        reply_to_id=(quote.reply_to_id or quote.pk) if quote else None,
    )
    _record(actor, thread, "thread.message_posted", message, sha256=_digest(body))
    _announce(message, "new")
    if quote is not None and quote.author_id != actor.pk:
        _reply_notify(quote.author, actor, thread, message)
    return message


REPLY_EXCERPT = 60  # characters of a reply shown in its notification


def _reply_notify(recipient, actor, thread: Thread, reply: Message) -> None:
    """Tell the author of the message answered who replied, and the reply's first words, as
    text (never its Markdown)."""
    words = one_line(plain_text(reply.body))
    if len(words) > REPLY_EXCERPT:
        words = words[: REPLY_EXCERPT - 1] + "…"
    name = actor.public_name
    notify_on_commit(
        [recipient],
        lambda: _("%(name)s replied to you: %(text)s") % {"name": name, "text": words},
        f"{thread.page_url}#message-{reply.pk}" if thread.page_url else "",
    )


def post_expert_opinion(*, actor, thread: Thread, text: str) -> Message:
    """The formal expert opinion, shown in the thread where it was given (no rate limit)."""
    message = Message.objects.create(
        thread=thread,
        author=actor,
        author_role=RoleKind.EXPERT,
        kind=MessageKind.EXPERT_OPINION,
        body=text,
        body_html=render_markdown(text),
    )
    _announce(message, "new")
    return message


def _own_message(actor, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("thread__community")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.author_id != actor.pk:
        raise NotAllowed(_("Only its author can change a message."))
    if message.deleted_at or message.hidden_at:
        raise InvalidMove(_("This message can no longer be changed."))
    return message


@transaction.atomic
def message_edit(*, actor, message_id: int, body: str) -> Message:
    """The author edits within a few minutes of posting; the earlier text is kept."""
    actor = _fresh(actor)
    message = _own_message(actor, message_id)
    if clock.now() - message.created_at > EDIT_WINDOW:
        raise InvalidMove(
            _("A message can be edited for %(minutes)d minutes after posting.")
            % {"minutes": EDIT_WINDOW.seconds // 60}
        )
    if not message.thread.is_open:
        raise NotAllowed(_("This thread is closed to new messages."))
    body = _clean_body(body)
    if body == message.body:
        return message
    MessageEdit.objects.create(message=message, body=message.body)
    message.body, message.body_html, message.edited_at = body, render_markdown(body), clock.now()
    message.save(update_fields=["body", "body_html", "edited_at"])
    _record(actor, message.thread, "thread.message_edited", message, sha256=_digest(body))
    _announce(message, "edit")
    return message


@transaction.atomic
def message_delete(*, actor, message_id: int) -> Message:
    """The author deletes: a tombstone stays in the thread; the text is kept off the page."""
    actor = _fresh(actor)
    message = _own_message(actor, message_id)
    MessageEdit.objects.create(message=message, body=message.body)
    message.body, message.body_html, message.deleted_at = "", "", clock.now()
    message.save(update_fields=["body", "body_html", "deleted_at"])
    _record(actor, message.thread, "thread.message_deleted", message)
    _announce(message, "delete")
    return message


@transaction.atomic
def message_hide(*, actor, message_id: int, reason: str) -> Message:
    """Staff hide a message with a public reason."""
    actor = _fresh(actor)
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("thread__community")
        .filter(pk=message_id)
        .first()
    )
    if message is None or not actor.has_perm("council.hide_message", message.thread):
        raise NotAllowed(_("Only staff of this community can hide messages."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidMove(_("Give the reason for hiding it; it is shown in its place."))
    refuse_line_breaks(reason)
    if message.hidden_at:
        raise InvalidMove(_("This message is already hidden."))
    message.hidden_at, message.hidden_by, message.hidden_reason = clock.now(), actor, reason[:300]
    message.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    MessageReport.objects.filter(message=message, handled_at__isnull=True).update(
        handled_at=clock.now()
    )
    _record(actor, message.thread, "thread.message_hidden", message, reason=reason[:300])
    _announce(message, "hide")
    return message


@transaction.atomic
def message_report(*, actor, message_id: int, reason: str) -> MessageReport:
    """A reader reports a message to staff (once each)."""
    actor = _fresh(actor)
    message = Message.objects.select_related("thread__community").filter(pk=message_id).first()
    if message is None or not actor.has_perm("council.report_message", message.thread):
        raise NotAllowed(_("Sign in to report a message."))
    reason = (reason or "").strip()[:300]
    if not reason:
        raise InvalidMove(_("Say what is wrong with it."))
    refuse_line_breaks(reason)
    try:
        with transaction.atomic():
            report = MessageReport.objects.create(message=message, reporter=actor, reason=reason)
    except IntegrityError as error:
        raise InvalidMove(_("You have already reported this message.")) from error
    _record(actor, message.thread, "thread.message_reported", message)
    return report


@transaction.atomic
def report_dismiss(*, actor, report_id: int, reason: str) -> MessageReport:
    """Staff dismiss a report: the message stays as it is, the report leaves the work queue,
    and the reason is kept on the report and in the evidence log. Refused, changing nothing:
    not staff of the message's community (missing reports look the same), no reason, or a
    report already handled."""
    actor = _fresh(actor)
    report = (
        MessageReport.objects.select_for_update(of=("self",))
        .select_related("message__thread__community")
        .filter(pk=report_id)
        .first()
    )
    if report is None or not actor.has_perm("council.dismiss_report", report.message.thread):
        raise NotAllowed(_("Only staff of this community can dismiss reports."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidMove(_("Say why the report is dismissed."))
    refuse_line_breaks(reason)
    if report.handled_at is not None:
        raise InvalidMove(_("This report is already handled."))
    report.handled_at, report.dismissed_by, report.dismissed_reason = (
        clock.now(),
        actor,
        reason[:300],
    )
    report.save(update_fields=["handled_at", "dismissed_by", "dismissed_reason"])
    _record(
        actor,
        report.message.thread,
        "thread.report_dismissed",
        report.message,
        report=report.pk,
        reason=reason[:300],
    )
    return report


def posting_ban_of(community_id: int, user) -> PostingBan | None:
    """The ban in force on ``user`` in the threads of community ``community_id``, or None
    (none, or ended). One query."""
    return (
        PostingBan.objects.filter(community_id=community_id, user=user)
        .select_related("community")
        .filter(Q(until__isnull=True) | Q(until__gt=clock.now()))
        .first()
    )


def _ban_check(actor, community) -> None:
    if not actor.has_perm("council.ban_from_posting", Thread(community=community)):
        raise NotAllowed(_("Only staff of this community can do this."))


@transaction.atomic
def posting_ban(*, actor, community, user, reason: str, until=None) -> PostingBan:
    """Staff bar someone from posting in the community's threads until ``until`` (no end if
    None), with a reason the barred person is shown. A ban already in force is replaced by
    this one. Refused, changing nothing: not staff of the community, barring oneself, no
    reason, or an end in the past."""
    actor = _fresh(actor)
    _ban_check(actor, community)
    if user.pk == actor.pk:
        raise InvalidMove(_("You cannot bar yourself from posting."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidMove(_("Say why they may not post; they are shown the reason."))
    refuse_line_breaks(reason)
    if until is not None and until <= clock.now():
        raise InvalidMove(_("The end of the ban must be in the future."))
    ban, _created = PostingBan.objects.update_or_create(
        community=community,
        user=user,
        defaults={"reason": reason[:300], "banned_by": actor, "until": until},
    )
    evidence_record(
        actor=actor,
        role=RoleKind.STAFF,
        action="thread.posting_banned",
        obj=("council.user", user.pk),
        payload={"until": until.isoformat() if until else None, "reason": reason[:300]},
        community=community,
    )
    return ban


@transaction.atomic
def posting_ban_lift(*, actor, ban_id: int) -> None:
    """Staff lift a ban before its end: the person may post again at once (evidence)."""
    actor = _fresh(actor)
    ban = PostingBan.objects.select_for_update().filter(pk=ban_id).first()
    if ban is None:
        raise NotAllowed(_("Only staff of this community can do this."))
    _ban_check(actor, ban.community)
    evidence_record(
        actor=actor,
        role=RoleKind.STAFF,
        action="thread.posting_ban_lifted",
        obj=("council.user", ban.user_id),
        community=ban.community,
    )
    ban.delete()


def _presence_rendered(thread_id: int):
    def render() -> dict:
        from .thread_render import presence_broadcast  # see _rendered

        return presence_broadcast(thread_id)

    return render


def _presence_changed(thread_id: int) -> None:
    """Broadcast who is viewing ``thread_id`` after the commit (read then, rendered once)."""
    send_event_on_commit(
        thread_group(thread_id), {"type": "thread.presence"}, render=_presence_rendered(thread_id)
    )


def presence_update(*, thread_id: int, joined: dict | None = None, touched=(), left=()) -> None:
    """Apply what one server process saw of a thread's connections since its last update, in
    one go: ``joined`` (channel name → user id, None for an anonymous reader), ``touched``
    (channels still there, a ping) and ``left`` (channels gone). When anyone joined or left,
    who is viewing is read once after the commit and broadcast to the thread, rendered in
    every language, with a ``version`` (the time it was read) so a reader never goes back to
    an older count. Three statements at most, whatever the number of connections."""
    now = clock.now()
    joined = {name: user for name, user in (joined or {}).items() if name not in set(left)}
    with transaction.atomic():
        if left:
            ThreadPresence.objects.filter(channel_name__in=list(left)).delete()
        if joined:
            ThreadPresence.objects.bulk_create(
                [
                    ThreadPresence(
                        thread_id=thread_id, user_id=user, channel_name=name, seen_at=now
                    )
                    for name, user in joined.items()
                ],
                update_conflicts=True,
                unique_fields=["channel_name"],
                update_fields=["thread", "user", "seen_at"],
            )
        stale = set(touched) - set(joined) - set(left)
        if stale:
            ThreadPresence.objects.filter(channel_name__in=list(stale)).update(seen_at=now)
        if joined or left:
            _presence_changed(thread_id)


def thread_mark_read(*, user, thread_id: int, message_id: int | None) -> None:
    """Remember that ``user`` has been shown ``thread_id`` up to ``message_id`` (on its page
    or through its socket): what comes after is unread for them. The mark never moves back;
    nothing is kept for an anonymous reader or an empty thread."""
    if not message_id or user is None or not user.is_authenticated:
        return
    thread_marks_read({(user.pk, thread_id): message_id})


def thread_marks_read(marks: dict[tuple[int, int], int]) -> None:
    """``thread_mark_read`` for many readers at once: ``{(user_id, thread_id): message_id}``
    in one statement (a server process writes its sockets' marks together). Each mark is
    inserted or raised, never lowered; one whose account or thread is gone is left out."""
    marks = {key: upto for key, upto in marks.items() if upto}
    if not marks:
        return
    # One statement, so that a page view costs one query and two readers of one account
    # (a page and a socket) cannot race: insert the mark, or raise it, never lower it.
    # (VALUES names its columns column1… in both PostgreSQL and SQLite; SQLite wants the
    # WHERE before ON CONFLICT in any case.)
    quote = connection.ops.quote_name
    table = quote(ThreadRead._meta.db_table)
    users = quote(ThreadRead._meta.get_field("user").related_model._meta.db_table)
    threads_table = quote(Thread._meta.db_table)
    column = quote("last_read_message_id")
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    rows = ", ".join(["(%s, %s, %s)"] * len(marks))
    values = [
        value
        for (user_id, thread_id), upto in marks.items()
        for value in (user_id, thread_id, upto)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            # Only quoted names of our own tables go into the text; the values are parameters.
            f"INSERT INTO {table} ({quote('user_id')}, {quote('thread_id')}, {column}) "  # noqa: S608
            f"SELECT v.column1, v.column2, v.column3 FROM (VALUES {rows}) AS v "
            f"WHERE EXISTS (SELECT 1 FROM {users} WHERE {users}.{quote('id')} = v.column1) "
            f"AND EXISTS (SELECT 1 FROM {threads_table} "
            f"WHERE {threads_table}.{quote('id')} = v.column2) "
            f"ON CONFLICT ({quote('user_id')}, {quote('thread_id')}) "
            f"DO UPDATE SET {column} = {greatest}({table}.{column}, EXCLUDED.{column})",
            values,
        )


def thread_reads_erase(user) -> None:
    """Closing an account (``services.account_close``) forgets how far the person read each
    thread: private, not a public act (a ``personal_data_erasers`` hook)."""
    ThreadRead.objects.filter(user=user).delete()
