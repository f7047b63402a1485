"""Notifications: in-app rows written on commit, and email now or in a daily digest.

``notify_on_commit`` is what services call. Nothing is written if the transaction rolls back,
and each text is rendered in its recipient's own language. Email follows each recipient's
choice: one mail per notification, a daily digest (``manage.py send_digests``), or none.
"""

from __future__ import annotations

import logging
import smtplib
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
                try:
                    send_mail(
                        _("Weishi: %(text)s") % {"text": row.text[:60]},
                        f"{row.text}\n\n{_absolute(row.url)}",
                        None,
                        [row.recipient.email],
                    )
                except (OSError, smtplib.SMTPException):
                    # Left un-emailed: the next digest run retries it.
                    logger.warning("notification email to user %s failed", row.recipient_id)
                    continue
            emailed.append(row.pk)
        if emailed:
            Notification.objects.filter(pk__in=emailed).update(emailed_at=clock.now())

    transaction.on_commit(deliver)


def send_digests() -> int:
    """Send each digest subscriber one email with their notifications not yet emailed (and
    retry immediate emails that failed). Returns the number of emails sent. Safe to run
    again: what was sent is marked.
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
            send_mail(
                _("Weishi: your daily digest (%(count)d)") % {"count": len(notes)},
                "\n\n".join(lines),
                None,
                [user.email],
            )
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
