"""Deliberation threads: every write (what the pages and the consumer read is in
``council.selectors``).

A message is saved first and broadcast on commit (``council.realtime``); the broadcast
carries the message id, and each connection renders it for its own viewer. Permission is
checked on every call with ``council.rules``, and the actor's roles are re-read each time,
so someone who loses the right to post is refused on their very next message.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import clock
from .errors import InvalidMove, NotAllowed, RateLimited
from .evidence import evidence_append
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
from .realtime import send_event_on_commit, thread_group
from .rules import forget_roles, held_roles
from .sanitiser import render_markdown
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
}


def _fresh(user):
    """The user with roles re-read: a role removed a moment ago counts now."""
    if user.is_authenticated:
        forget_roles(user)
    return user


def _role(user, thread: Thread) -> str:
    held = {r.kind for r in held_roles(user) if r.community_id == thread.community_id}
    for kind in (RoleKind.STAFF, RoleKind.EXPERT, RoleKind.COUNCIL_MEMBER, RoleKind.RESIDENT):
        if kind in held:
            return kind
    return ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _record(actor, thread: Thread, action: str, message: Message, **payload) -> None:
    evidence_append(
        actor=actor,
        actor_role=_role(actor, thread),
        action=action,
        obj=message,
        payload={"thread": thread.pk, **payload},
        community=thread.community,
    )


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
    send_event_on_commit(thread_group(message.thread_id), event)


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
    send_event_on_commit(thread_group(thread.pk), {"type": "thread.changed", "change": "state"})


def thread_guest_add(*, thread: Thread, user) -> None:
    thread.guests.add(user)


@transaction.atomic
def message_post(
    *, actor, thread: Thread, body: str, kind: str = MessageKind.COMMENT, quote_id=None
) -> Message:
    """Post a message. Refused with a clear message: no right to post (not of the community,
    barred, thread closed), an official kind by a non-staff, empty or overlong text, quoting
    a message of another thread, or posting too fast."""
    actor = _fresh(actor)
    thread = Thread.objects.select_related("community").get(pk=thread.pk)
    if not actor.has_perm("council.post_in_thread", thread):
        if not thread.is_open:
            raise NotAllowed(_("This thread is closed to new messages."))
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
    quote = None
    if quote_id:
        quote = Message.objects.filter(pk=quote_id, thread=thread).first()
        if quote is None:
            raise InvalidMove(_("The quoted message is not in this thread."))
    _rate_limit(actor, thread)
    message = Message.objects.create(
        thread=thread,
        author=actor,
        author_role=_role(actor, thread),
        kind=kind,
        body=body,
        body_html=render_markdown(body),
        quote=quote,
    )
    _record(actor, thread, "thread.message_posted", message, sha256=_digest(body))
    _announce(message, "new")
    return message


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
def posting_ban(*, actor, community, user, reason: str) -> PostingBan:
    """Staff bar someone from posting in the community's threads (moderation)."""
    if not actor.has_perm("council.ban_from_posting", Thread(community=community)):
        raise NotAllowed(_("Only staff of this community can do this."))
    refuse_line_breaks(reason)
    ban, _created = PostingBan.objects.get_or_create(
        community=community, user=user, defaults={"reason": reason[:300], "banned_by": actor}
    )
    evidence_append(
        actor=actor,
        actor_role=RoleKind.STAFF,
        action="thread.posting_banned",
        obj=("council.user", user.pk),
        community=community,
    )
    return ban


def _presence_changed(thread_id: int) -> None:
    send_event_on_commit(
        thread_group(thread_id), {"type": "thread.presence", "version": clock.now().isoformat()}
    )


def presence_join(*, thread: Thread, user, channel_name: str) -> None:
    ThreadPresence.objects.update_or_create(
        channel_name=channel_name,
        defaults={
            "thread": thread,
            "user": user if user.is_authenticated else None,
            "seen_at": clock.now(),
        },
    )
    _presence_changed(thread.pk)


def presence_touch(*, channel_name: str) -> None:
    ThreadPresence.objects.filter(channel_name=channel_name).update(seen_at=clock.now())


def presence_leave(*, thread_id: int, channel_name: str) -> None:
    ThreadPresence.objects.filter(channel_name=channel_name).delete()
    _presence_changed(thread_id)


def thread_mark_read(*, user, thread_id: int, message_id: int | None) -> None:
    """Remember that ``user`` has been shown ``thread_id`` up to ``message_id`` (on its page
    or through its socket): what comes after is unread for them. The mark never moves back;
    nothing is kept for an anonymous reader or an empty thread."""
    if not message_id or user is None or not user.is_authenticated:
        return
    # One statement, so that a page view costs one query and two readers of one account
    # (a page and a socket) cannot race: insert the mark, or raise it, never lower it.
    quote = connection.ops.quote_name
    table = quote(ThreadRead._meta.db_table)
    column = quote("last_read_message_id")
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    with connection.cursor() as cursor:
        cursor.execute(
            # Only quoted names of our own table go into the text; the values are parameters.
            f"INSERT INTO {table} ({quote('user_id')}, {quote('thread_id')}, {column}) "  # noqa: S608
            f"VALUES (%s, %s, %s) ON CONFLICT ({quote('user_id')}, {quote('thread_id')}) "
            f"DO UPDATE SET {column} = {greatest}({table}.{column}, EXCLUDED.{column})",
            [user.pk, thread_id, message_id],
        )


def thread_reads_erase(user) -> None:
    """Closing an account (``services.account_close``) forgets how far the person read each
    thread: private, not a public act (a ``personal_data_erasers`` hook)."""
    ThreadRead.objects.filter(user=user).delete()
