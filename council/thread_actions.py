"""One thread action, as the WebSocket consumer and the plain POST views both perform it.

Each action validates its form (``council.forms``) and calls its service
(``council.threads``); a refusal comes back as an ``Outcome`` with a code of the protocol
(docs/threads-protocol.md) and a message in the active language. Synchronous: the consumer
calls it through ``database_sync_to_async``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from . import selectors, threads
from .errors import InvalidMove, NotAllowed, RateLimited
from .forms import DeleteForm, EditForm, HideForm, MessageForm, ReportForm

FORMS = {
    "post": MessageForm,
    "edit": EditForm,
    "delete": DeleteForm,
    "hide": HideForm,
    "report": ReportForm,
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    code: str = ""  # one of the protocol's error codes when not ok
    text: str = ""
    message_id: int | None = None
    readable: bool = True  # False: the thread is missing or not readable by this user


def _form_error(form) -> Outcome:
    for field, errors in form.errors.as_data().items():
        for error in errors:
            if field == "body" and error.code == "max_length":
                return Outcome(
                    False,
                    "too_long",
                    _("A message may have at most %(max)d characters.")
                    % {"max": threads.MAX_LENGTH},
                )
    first = next(iter(form.errors.values()))[0]
    return Outcome(False, "invalid", str(first))


def perform(user, thread_id: int, action: str, data) -> Outcome:
    """Validate ``data`` with the action's form and call the service, as ``user``."""
    thread = selectors.thread_for(user, thread_id)
    if thread is None:
        return Outcome(
            False,
            "not_allowed",
            _("This thread does not exist or is not open to you."),
            readable=False,
        )
    form = FORMS[action](data)
    if not form.is_valid():
        return _form_error(form)
    cleaned = form.cleaned_data
    try:
        if action == "post":
            message = threads.message_post(
                actor=user,
                thread=thread,
                body=cleaned["body"],
                kind=cleaned["kind"],
                reply_to_id=cleaned["reply_to"],
            )
            return Outcome(True, text=_("Your message is posted."), message_id=message.pk)
        target = selectors.message_for(cleaned["message"])
        if target is None or target.thread_id != thread.pk:
            return Outcome(False, "invalid", _("That message is not in this thread."))
        if action == "edit":
            threads.message_edit(actor=user, message_id=target.pk, body=cleaned["body"])
            text = _("Your message is saved.")
        elif action == "delete":
            threads.message_delete(actor=user, message_id=target.pk)
            text = _("Your message is deleted.")
        elif action == "hide":
            threads.message_hide(actor=user, message_id=target.pk, reason=cleaned["reason"])
            text = _("The message is hidden.")
        else:
            threads.message_report(actor=user, message_id=target.pk, reason=cleaned["reason"])
            text = _("Thank you: staff of the community will look at it.")
        return Outcome(True, text=text, message_id=target.pk)
    except NotAllowed as error:
        return Outcome(False, "not_allowed", str(error))
    except RateLimited as error:
        return Outcome(False, "rate_limited", str(error))
    except InvalidMove as error:
        text = str(error)
        return Outcome(False, "invalid", text)
