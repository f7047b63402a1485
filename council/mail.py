"""Email leaves from the scheduler, never from a request.

No request talks to the mail server: a mail server that is slow, drops packets or is down
would otherwise hold the request (and its database connection) for as long as SMTP waits, and
a password-reset request would take longer when the address has an account than when it has
none. Instead:

- notifications are written as rows (``council.notifications``); the minute scheduler emails
  those of recipients who chose one email per notification, and ``send_digests`` the rest;
- a password-reset request writes one ``PasswordResetRequest`` row with the address typed,
  whatever it is (``password_reset_email_queue``): the same work, so the same time, whether
  or not an account has it. The minute scheduler looks the address up and sends the email
  (``password_reset_emails_send``).

``Mailer`` sends one run's emails over one connection. It never raises: a message refused
(an address the server does not take, a header that cannot be written) is logged on one line
and left for the next run while the others still go; once the server itself fails (cannot be
reached, times out, drops the connection, refuses us) the rest of the run is left for the next
one, so a mail server that does not answer costs one timeout a run, not one per email.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib

from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMessage, EmailMultiAlternatives, mailers
from django.template import loader
from django.utils import translation

from . import clock
from .models import PasswordResetRequest

logger = logging.getLogger(__name__)

# Refusals of one message: the server answered, and may take the next one.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, ValueError)

# A reset request still unsent after this long is dropped: by then the person has asked
# again, or given up; its link would be stale news.
RESET_REQUEST_KEPT = dt.timedelta(days=1)


def one_line(text: str) -> str:
    """``text`` on one line: each run of blanks, line breaks and line or paragraph separators
    becomes one space (an email header cannot hold a line break)."""
    return " ".join(str(text).split())


class Mailer:
    """One run's emails, over one connection to the mail server (``with Mailer() as m``)."""

    def __init__(self):
        self._connection = None
        self.away = False  # the server itself failed: leave the rest for the next run

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()

    def send(self, message: EmailMessage, *, about: str) -> bool:
        """Send ``message``; False, logged on one line, if it was not sent. ``about`` names it
        in the log (never an address)."""
        if self.away:
            return False
        try:
            if self._connection is None:
                self._connection = mailers.default
                self._connection.open()
            self._connection.send_messages([message])
        except MESSAGE_REFUSED as error:
            logger.warning(
                "%s not sent (%s: %s); the next run retries it",
                about,
                type(error).__name__,
                one_line(error),
            )
            return False
        except Exception as error:  # noqa: BLE001 - the server failed: logged, retried later
            self.away = True
            logger.warning(
                "%s not sent: the mail server failed (%s: %s); the rest waits for the next run",
                about,
                type(error).__name__,
                one_line(error),
            )
            return False
        return True


# --- Password-reset emails --------------------------------------------------------------------


def password_reset_email_queue(*, email: str, language: str, domain: str, use_https: bool):
    """Queue a password-reset email for ``email``, as typed, for the minute scheduler.

    Guarantees: one row written, nothing else read or sent, whether or not an account has
    that address — so the request answers at once, in the same time either way. ``domain``
    and ``use_https`` are those of the request (the link's address), ``language`` the one it
    was made in (the email's).
    """
    return PasswordResetRequest.objects.create(
        email=email, language=language, domain=domain, use_https=use_https
    )


class _QueuedResetForm(PasswordResetForm):
    """Django's reset form, sending through a run's ``Mailer`` and saying whether it did
    (Django's own logs a failure and carries on, which would lose the email)."""

    def __init__(self, *args, mailer: Mailer, **kwargs):
        super().__init__(*args, **kwargs)
        self.mailer = mailer
        self.failed = False

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = one_line(loader.render_to_string(subject_template_name, context))
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            html = loader.render_to_string(html_email_template_name, context)
            message.attach_alternative(html, "text/html")
        if not self.mailer.send(
            message, about=f"password reset email to user {context['user'].pk}"
        ):
            self.failed = True


def password_reset_emails_send() -> int:
    """What the minute scheduler runs: handle each queued reset request, oldest first.

    For an address that an active account with a usable password has, that account gets
    Django's reset email (its link valid for ``PASSWORD_RESET_TIMEOUT``), in the language of
    the request; for any other address nothing is sent. A handled request is deleted; one
    whose email could not be sent stays for the next run, and is dropped, logged, once it is
    older than ``RESET_REQUEST_KEPT``. Returns the number of requests handled.
    """
    stale = PasswordResetRequest.objects.filter(created_at__lt=clock.now() - RESET_REQUEST_KEPT)
    dropped, _ = stale.delete()
    if dropped:
        logger.warning("%d password reset request(s) dropped unsent after a day", dropped)
    handled = 0
    with Mailer() as mailer:
        for request in PasswordResetRequest.objects.order_by("created_at", "pk"):
            form = _QueuedResetForm({"email": request.email}, mailer=mailer)
            if form.is_valid():
                with translation.override(request.language):
                    form.save(domain_override=request.domain, use_https=request.use_https)
            if mailer.away:
                break
            if not form.failed:
                request.delete()
                handled += 1
    return handled
