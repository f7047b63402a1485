"""What the voting app adds to a person's own page (我的, ``council.home``): the ballots and
yearly rounds awaiting their vote, for members of a council."""

from __future__ import annotations

from council.models import RoleKind
from council.rules import held_roles

from . import selectors


def awaiting_vote_section(request):
    """Open ballots and rounds where I may vote and have not yet (council members only)."""
    if not any(r.kind == RoleKind.COUNCIL_MEMBER for r in held_roles(request.user)):
        return None
    return ("voting/_mine_awaiting.html", selectors.awaiting_for(request.user))
