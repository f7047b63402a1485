"""Notifications: in-app rows written on commit, emailed by the scheduler.

``notify_on_commit`` is what services call. Nothing is written if the transaction rolls back,
and each text is rendered in its recipient's own language. Email follows each recipient's
choice: one mail per notification, a daily digest (``manage.py send_digests``), or none.

No request sends email (``council.mail``): a notification is a row, and the minute scheduler
(``manage.py minutely``) emails it within a minute to a recipient who chose one mail per
notification (``immediate_emails_send``). An email that cannot be sent (a bad header, the
mail server down or refusing) is logged, left un-emailed for the next run to retry, and never
keeps the other recipients' emails from going. Subjects are one line whatever the text holds
(a title saved with a line break before such titles were refused, for one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from . import clock
from .mail import Mailer, one_line, password_reset_emails_send
from .models import Notification, User

# How long the minute scheduler keeps trying a notification's own email. One older than this
# that could not be sent (the mail server down all day), or that came while its recipient
# wanted no email, goes in the next digest instead of arriving alone, late.
IMMEDIATE_WINDOW = dt.timedelta(days=1)


def _absolute(url: str) -> str:
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{url}"


def _email(subject: str, body: str, user: User) -> EmailMessage:
    return EmailMessage(one_line(subject), body, None, [user.email])


def notify_on_commit(recipients: Iterable[User], text: Callable[[], str], url: str) -> None:
    """After the current transaction commits, notify each recipient: one row each, nothing
    emailed here (the scheduler does that).

    ``text`` is called once per recipient with that recipient's language active, so it can
    use gettext; ``url`` is the path the notification links to.
    """
    users = {u.pk: u for u in recipients if u is not None and u.is_active}

    def deliver() -> None:
        rows = []
        for user in users.values():
            with translation.override(user.language):
                rows.append(Notification(recipient=user, text=str(text())[:300], url=url))
        Notification.objects.bulk_create(rows)

    transaction.on_commit(deliver)


def _pending():
    return (
        Notification.objects.filter(emailed_at__isnull=True, recipient__is_active=True)
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("recipient_id", "created_at", "pk")
    )


def immediate_emails_send() -> int:
    """What the minute scheduler runs: email each notification of the last
    ``IMMEDIATE_WINDOW`` not emailed yet whose recipient chose one email per notification,
    one email each, and mark it emailed. Returns the number sent.

    Never raises. An email that cannot be sent is logged and stays pending for the next run
    (the others still go); once the mail server itself fails, the run stops there.
    """
    pending = _pending().filter(
        recipient__email_notifications="immediate",
        created_at__gte=clock.now() - IMMEDIATE_WINDOW,
    )
    sent = 0
    with Mailer() as mailer:
        for note in pending:
            user = note.recipient
            with translation.override(user.language):
                subject = _("Weishi: %(text)s") % {"text": one_line(note.text)[:60]}
                body = f"{note.text}\n\n{_absolute(note.url)}"
            if mailer.send(_email(subject, body, user), about=f"email to user {user.pk}"):
                Notification.objects.filter(pk=note.pk).update(emailed_at=clock.now())
                sent += 1
            elif mailer.away:
                break
    return sent


def send_digests() -> int:
    """Send each digest subscriber one email with their notifications not yet emailed, and
    anyone who chose one email per notification those older than ``IMMEDIATE_WINDOW`` still
    not emailed. Returns the number of emails sent. Safe to run again: what was sent is
    marked; an email that could not be sent is logged and its notifications stay pending for
    the next run, and the other subscribers get theirs.
    """
    daily = _pending().filter(recipient__email_notifications="daily")
    overdue = _pending().filter(
        recipient__email_notifications="immediate",
        created_at__lt=clock.now() - IMMEDIATE_WINDOW,
    )
    by_user: dict[int, list[Notification]] = {}
    for note in [*daily, *overdue]:
        by_user.setdefault(note.recipient_id, []).append(note)
    sent = 0
    with Mailer() as mailer:
        for notes in by_user.values():
            user = notes[0].recipient
            with translation.override(user.language):
                lines = [f"• {n.text}\n  {_absolute(n.url)}" for n in notes]
                subject = _("Weishi: your daily digest (%(count)d)") % {"count": len(notes)}
            if mailer.send(
                _email(subject, "\n\n".join(lines), user), about=f"digest to user {user.pk}"
            ):
                Notification.objects.filter(pk__in=[n.pk for n in notes]).update(
                    emailed_at=clock.now()
                )
                sent += 1
            elif mailer.away:
                break
    return sent


def email_tick() -> dict[str, int]:
    """What the minute scheduler runs after its other jobs: notifications' own emails, then
    the password-reset emails requested since the last run."""
    return {
        "emails_sent": immediate_emails_send(),
        "password_resets_handled": password_reset_emails_send(),
    }


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_mark_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=clock.now()
    )
