import functools

from .notifications import unread_count
from .selectors import community_switcher


def weishi(request):
    """The header's community switcher and unread-notification count.

    Both are callables, evaluated only if a template asks for them, and at most once per
    request: a page that shows the badge costs one count query, a page that does not, none.
    """

    @functools.cache
    def unread() -> int:
        return unread_count(request.user)

    return {
        "switcher_communities": lambda: community_switcher(request.user),
        "notifications_unread": unread,
    }
