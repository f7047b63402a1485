import functools

from .display import large_text_on
from .models import RoleKind
from .notifications import unread_count
from .rules import held_roles
from .selectors import community_switcher


def _staff_slug(user) -> str:
    """The slug of the (first) community the user works for as staff, or "" (no query: the
    roles loaded once per request carry it)."""
    slugs = sorted(r.community_slug for r in held_roles(user) if r.kind == RoleKind.STAFF)
    return slugs[0] if slugs else ""


def _district_admin_of(user) -> int | None:
    """The id of the (first) district the user administers, or None (no query)."""
    ids = sorted(r.district_id for r in held_roles(user) if r.kind == RoleKind.DISTRICT_ADMIN)
    return ids[0] if ids else None


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
        # Council members get an "awaiting my vote" link, residents "awaiting my evaluation",
        # staff their work queue (roles are loaded once per request).
        "is_council_member": lambda: any(
            r.kind == RoleKind.COUNCIL_MEMBER for r in held_roles(request.user)
        ),
        "is_resident": lambda: any(r.kind == RoleKind.RESIDENT for r in held_roles(request.user)),
        "staff_community_slug": lambda: _staff_slug(request.user),
        # 长辈版 (council.display): the <html> element's class and the header's switch.
        "large_text": large_text_on(request),
        "district_admin_of": lambda: _district_admin_of(request.user),
    }
