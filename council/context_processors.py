import functools

from .models import RoleKind
from .notifications import unread_count
from .rules import held_roles
from .selectors import community_switcher


def weishi(request):
    """The header's community switcher, unread-notification count and member link.

    Both are callables, evaluated only if a template asks for them, and at most once per
    request: a page that shows the badge costs one count query, a page that does not, none.
    """

    @functools.cache
    def unread() -> int:
        return unread_count(request.user)

    return {
        "switcher_communities": lambda: community_switcher(request.user),
        "notifications_unread": unread,
        # Council members get an "awaiting my vote" link (roles are loaded once per request).
        "is_council_member": lambda: any(
            r.kind == RoleKind.COUNCIL_MEMBER for r in held_roles(request.user)
        ),
    }
