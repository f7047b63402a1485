"""A person's own data, gathered for download (PIPL's right of access and portability).

Calls go down, never up: the council app cannot import proposals, voting or disclosure, so each
app registers a ``personal_data_sections`` hook (``council.hooks``), ``(user) -> {name: data}``,
what that app holds about the person as plain JSON-serialisable data. The export is the
council's sections (the account first), then every other app's, in hook order.

Apps may also register a ``personal_data_erasers`` hook ``(user) -> None``: what
``services.account_close`` must delete of that app's non-public personal data (what the
person follows, for instance). Public acts (proposals, messages, co-signs, votes,
evaluations) are never erased: they stay, shown under "Former resident (account closed)".
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext_lazy as _

from . import clock
from .hooks import get_hooks

FORMAT = "weishi-personal-data"
VERSION = 1

# The purposes a resident agrees to at sign-up (the sign-up form's consent box says exactly
# this); the export repeats them next to the time consent was given.
CONSENT_PURPOSES = _(
    "I agree that my phone, ID number and address are kept by my community's staff and "
    "grid worker only, to confirm that I live here and to contact me about proposals; "
    "they are never published."
)


def iso(value) -> str | None:
    """A date or time in a section, as ISO 8601 (None stays None)."""
    return value.isoformat() if value is not None else None


def entered_by_other(entered_by_id: int | None, user) -> bool:
    """Whether someone else (the clerk, staff, a grid worker) entered this act for ``user``."""
    return entered_by_id is not None and entered_by_id != user.pk


def personal_data_erase(user) -> None:
    """Run every ``personal_data_erasers`` hook for ``user`` (``services.account_close`` calls
    this, inside its transaction)."""
    for eraser in get_hooks("personal_data_erasers"):
        eraser(user)


def personal_data_export(user) -> dict:
    """Everything the app holds about ``user``, section by section: the account, consent,
    private data and roles, their thread messages and notifications (the council's own
    sections) and every other app's ``personal_data_sections``. Nobody else's private data."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": clock.now(),
        "user_id": user.pk,
    }
    for sections in get_hooks("personal_data_sections"):
        document.update(sections(user))
    return document


def personal_data_json(user) -> bytes:
    """The export as UTF-8 JSON (Chinese kept readable, dates ISO 8601, money as strings)."""
    return json.dumps(
        personal_data_export(user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
    ).encode()
