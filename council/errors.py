"""Errors services raise, each carrying a message fit to show the user."""

from django.core.exceptions import BadRequest, PermissionDenied


class NotAllowed(PermissionDenied):
    """The actor may not do this. For anything not public, views answer 404 instead."""


class InvalidMove(Exception):
    """The request is understood and allowed, but the state of things forbids it now."""


class RateLimited(InvalidMove):
    """Too many actions in a short time: allowed again after a moment."""


class NotUnderstood(BadRequest):
    """A page's address asks for something that cannot exist (a malformed cursor or number):
    the 400 page says this message, in the reader's language."""
