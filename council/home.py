"""A signed-in person's own page (我的), in the manner of Decidim's "My account": what they
proposed and where each stands, what awaits them, the threads they follow and their latest
notifications.

The page is council's, but most of its sections belong to the apps above (a proposal's
stepper, a ballot awaiting a vote, an evaluation to give): each app registers a
``home_sections`` hook (``council.hooks``), and the page renders every one, lowest ``order``
first. A section is a callable ``(request) -> (template, context) | None`` whose query count
does not grow with what it lists.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from . import selectors
from .hooks import get_hooks

THREADS_SHOWN = 8
NOTIFICATIONS_SHOWN = 5


def home_sections_render(request) -> list[str]:
    """Each ``home_sections`` hook rendered for this request, in hook order; a section that
    returns None shows nothing."""
    rendered = []
    for section in get_hooks("home_sections"):
        found = section(request)
        if found is not None:
            template, context = found
            rendered.append(render_to_string(template, context, request=request))
    return rendered


def followed_threads_section(request):
    """The threads the person follows, with how many messages they have not read."""
    return (
        "council/_mine_threads.html",
        {"threads": selectors.followed_threads(request.user, limit=THREADS_SHOWN)},
    )


def notifications_section(request):
    """The newest few notifications, with a link to all of them."""
    return (
        "council/_mine_notifications.html",
        {"notes": selectors.latest_notifications(request.user, limit=NOTIFICATIONS_SHOWN)},
    )
