"""Notifications: in-app rows written on commit, and email now or in a daily digest.

``notify_on_commit`` is what services call. Nothing is written if the transaction rolls back,
and each text is rendered in its recipient's own language. Email follows each recipient's
choice: one mail per notification, a daily digest (``manage.py send_digests``), or none.

Sending email never fails the act that caused it: an email that cannot be sent (a bad header,
the mail server down or refusing) is logged, left un-emailed for ``send_digests`` to retry, and
never keeps the other recipients' emails from going. Subjects are one line whatever the text
holds (a title saved with a line break before such titles were refused, for one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from . import clock
from .models import Notification, User

logger = logging.getLogger(__name__)


def _absolute(url: str) -> str:
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{url}"


def one_line(text: str) -> str:
    """``text`` on one line: each run of blanks, line breaks and line or paragraph separators
    becomes one space (an email header cannot hold a line break)."""
    return " ".join(str(text).split())


def _send(subject: str, body: str, user: User) -> bool:
    """Send one email to ``user``; False, logged, if it could not be sent, whatever the cause:
    the caller leaves what it carried un-emailed, for the next digest run to retry."""
    try:
        send_mail(one_line(subject), body, None, [user.email])
    except Exception as error:  # noqa: BLE001 - any failure: logged, retried, never raised
        # One line without a traceback: the cause is in the message, and nothing else is lost.
        logger.warning(
            "email to user %s not sent (%s: %s); the next send_digests run retries it",
            user.pk,
            type(error).__name__,
            one_line(error),
        )
        return False
    return True


def notify_on_commit(recipients: Iterable[User], text: Callable[[], str], url: str) -> None:
    """After the current transaction commits, notify each recipient.

    ``text`` is called once per recipient with that recipient's language active, so it can
    use gettext; ``url`` is the path the notification links to.
    """
    users = {u.pk: u for u in recipients if u is not None and u.is_active}

    def deliver() -> None:
        rows, immediate = [], []
        for user in users.values():
            with translation.override(user.language):
                row = Notification(recipient=user, text=str(text())[:300], url=url)
            rows.append(row)
            if user.email and user.email_notifications == "immediate":
                immediate.append(row)
        Notification.objects.bulk_create(rows)
        emailed = []
        for row in immediate:
            with translation.override(row.recipient.language):
                subject = _("Weishi: %(text)s") % {"text": one_line(row.text)[:60]}
                body = f"{row.text}\n\n{_absolute(row.url)}"
            if _send(subject, body, row.recipient):
                emailed.append(row.pk)
        if emailed:
            Notification.objects.filter(pk__in=emailed).update(emailed_at=clock.now())

    transaction.on_commit(deliver)


def send_digests() -> int:
    """Send each digest subscriber one email with their notifications not yet emailed (and
    retry immediate emails that failed). Returns the number of emails sent. Safe to run
    again: what was sent is marked; an email that could not be sent is logged and its
    notifications stay pending for the next run, and the other subscribers get theirs.
    """
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            recipient__email_notifications__in=["daily", "immediate"],
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("recipient_id", "created_at")
    )
    by_user: dict[int, list[Notification]] = {}
    for note in pending:
        by_user.setdefault(note.recipient_id, []).append(note)
    sent = 0
    for notes in by_user.values():
        user = notes[0].recipient
        with translation.override(user.language):
            lines = [f"• {n.text}\n  {_absolute(n.url)}" for n in notes]
            subject = _("Weishi: your daily digest (%(count)d)") % {"count": len(notes)}
        if not _send(subject, "\n\n".join(lines), user):
            continue
        Notification.objects.filter(pk__in=[n.pk for n in notes]).update(emailed_at=clock.now())
        sent += 1
    return sent


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=clock.now()
    )
