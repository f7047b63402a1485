"""Errors services raise, each carrying a message fit to show the user."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.utils.translation import gettext


class NotAllowed(PermissionDenied):
    """The actor may not do this. For anything not public, views answer 404 instead."""


class InvalidMove(Exception):
    """The request is understood and allowed, but the state of things forbids it now."""


class RateLimited(InvalidMove):
    """Too many actions in a short time: allowed again after a moment."""


class NotUnderstood(BadRequest):
    """A page's address asks for something that cannot exist (a malformed cursor or number):
    the 400 page says this message, in the reader's language."""


class StoreUnavailable(InvalidMove):
    """The file store (``council.files``) could not be reached or refused: nothing was saved,
    and the reader may try again in a few minutes. Shown on the form when saving; reading
    answers the busy page (503) with its message."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or gettext(
                "Files cannot be saved right now, so nothing was changed. Please try again in "
                "a few minutes."
            )
        )
