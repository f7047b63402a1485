"""Non-trivial reads of the council app. Each returns a queryset or plain data whose query
count does not grow with the number of rows."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from . import clock
from .models import Community, EvidenceEvent, PrivateData, Role, RoleKind, RoleStatus
from .rules import held_roles

_ACTIVE = Q(roles__status=RoleStatus.ACTIVE)


def community_overview() -> QuerySet[Community]:
    """Every community with its sub-district and head-counts, for the home page (one query)."""
    return Community.objects.select_related("sub_district").annotate(
        # distinct: the join over roles and grids repeats each role once per grid.
        resident_count=Count(
            "roles", filter=_ACTIVE & Q(roles__kind=RoleKind.RESIDENT), distinct=True
        ),
        member_count=Count(
            "roles", filter=_ACTIVE & Q(roles__kind=RoleKind.COUNCIL_MEMBER), distinct=True
        ),
        grid_count=Count("grids", distinct=True),
    )


def community_switcher(user) -> list[Community]:
    """Communities for the header: the user's own first, then the rest."""
    own = {r.community_id for r in held_roles(user) if r.community_id}
    communities = list(Community.objects.only("name", "slug").order_by("name"))
    return sorted(communities, key=lambda c: (c.pk not in own, c.name))


def council_seats(community: Community) -> QuerySet[Role]:
    """The seated council members of a community, with their (public) seat category and
    term: active council-member roles whose term has not ended."""
    return (
        Role.objects.filter(
            community=community, kind=RoleKind.COUNCIL_MEMBER, status=RoleStatus.ACTIVE
        )
        .filter(Q(term_ends__isnull=True) | Q(term_ends__gte=clock.today()))
        .select_related("user")
        .order_by("seat_category", "user__display_name")
    )


def residents_for(user, community: Community) -> QuerySet[Role]:
    """Residencies of a community the user may see in the staff list.

    Staff see the whole community; a grid worker sees the residents of their own grids only.
    """
    base = Role.objects.filter(community=community, kind=RoleKind.RESIDENT).exclude(
        status=RoleStatus.ENDED
    )
    if user.has_perm("council.staff_community", community):
        visible = base
    else:
        grids = [
            r.grid_id
            for r in held_roles(user)
            if r.kind == RoleKind.GRID_WORKER and r.community_id == community.pk
        ]
        visible = base.filter(grid_id__in=grids)
    return visible.select_related("user", "grid", "private_data", "entered_by").order_by(
        "-status", "grid__name", "user__display_name"
    )


def private_data_for(user, residency_id: int) -> PrivateData | None:
    """A resident's private data, or None when it does not exist *or* the user may not read it.

    Both cases look the same to the caller, who answers 404.
    """
    data = (
        PrivateData.objects.select_related(
            "residency__user", "residency__grid", "residency__community"
        )
        .filter(residency_id=residency_id)
        .first()
    )
    if data is None or not user.has_perm("council.view_privatedata", data):
        return None
    return data


def evidence_public_page(*, before: int | None = None, limit: int = 50) -> list[EvidenceEvent]:
    """The newest events for the public view (who is shown by role, never by private data)."""
    events = EvidenceEvent.objects.select_related("actor", "community").order_by("-seq")
    if before is not None:
        events = events.filter(seq__lt=before)
    return list(events[:limit])


def collection_status(community: Community) -> str:
    """'open', 'upcoming' or 'closed', for today's date."""
    today = clock.today()
    if today < community.collection_opens:
        return "upcoming"
    if today > community.collection_closes:
        return "closed"
    return "open"
