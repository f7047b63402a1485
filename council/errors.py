"""Errors services raise, each carrying a message fit to show the user."""

from django.core.exceptions import PermissionDenied


class NotAllowed(PermissionDenied):
    """The actor may not do this. For anything not public, views answer 404 instead."""


class InvalidMove(Exception):
    """The request is understood and allowed, but the state of things forbids it now."""


class RateLimited(InvalidMove):
    """Too many actions in a short time: allowed again after a moment."""
