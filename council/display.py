"""长辈版 (large text): whether a request reads in it, and the cookie that keeps a browser's
choice.

A signed-in person's choice is ``User.large_text`` (``services.large_text_set``), so it follows
them to every browser; a visitor's is this cookie. The switch sets both, and signing in on a
browser whose cookie is on carries the choice over to the account, so the page someone just
made readable stays readable after they sign in.
"""

from __future__ import annotations

from django.conf import settings

from . import services

COOKIE = "weishi_large_text"
COOKIE_AGE = 365 * 24 * 60 * 60  # a year: it is a reading preference, not a secret


def _cookie_on(request) -> bool:
    return request.COOKIES.get(COOKIE) == "1"


def large_text_on(request) -> bool:
    """Whether this request's pages show in 长辈版."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.large_text
    return _cookie_on(request)


def large_text_remembered(request) -> bool:
    """Whether this browser's cookie asks for 长辈版: what a page that must not read the
    database (the 500 and 503 pages) knows of it. The switch and signing in keep the cookie
    in step with a signed-in person's account."""
    return _cookie_on(request)


def remember(response, on: bool) -> None:
    """Set (or clear) this browser's cookie on ``response``."""
    if on:
        response.set_cookie(
            COOKIE,
            "1",
            max_age=COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")


def carry_over(request, user, response) -> None:
    """After ``user`` signed in (or up) on this browser: a cookie that is on turns their
    account's 长辈版 on, and the account's choice sets the cookie."""
    if _cookie_on(request) and not user.large_text:
        services.large_text_set(user=user, on=True)
    remember(response, user.large_text)
