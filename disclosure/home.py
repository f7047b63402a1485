"""What the disclosure app adds to a person's own page (我的, ``council.home``): finished
projects of their community awaiting their evaluation."""

from __future__ import annotations

from council.models import RoleKind
from council.rules import held_roles

from .queue import evaluations_awaiting


def awaiting_evaluation_section(request):
    """Finished projects in their evaluation window I have not evaluated (residents only)."""
    if not any(r.kind == RoleKind.RESIDENT for r in held_roles(request.user)):
        return None
    return ("disclosure/_mine_evaluations.html", {"windows": evaluations_awaiting(request.user)})
