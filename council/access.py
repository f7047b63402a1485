"""Access helpers for views (Zulip's ``access_*``): for anything not public, a missing object
and a forbidden one give the same answer, 404, so that nothing leaks by its status code."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Community


def access_community(user, slug: str, perm: str | None = None) -> Community:
    """The community named by ``slug``; 404 if it does not exist or ``perm`` is not held there."""
    community = get_object_or_404(Community.objects.select_related("sub_district"), slug=slug)
    if perm is not None and not user.has_perm(perm, community):
        raise Http404
    return community


class CommunityPermissionMixin:
    """For class-based views under ``/c/<slug>/``: sets ``self.community`` and checks
    ``permission_required`` against it with the predicates of ``council.rules``.

    Anonymous, outsiders and the wrong role all get 404, as if the page did not exist.
    """

    permission_required: str | None = None

    def dispatch(self, request, *args, **kwargs):
        self.community = access_community(request.user, kwargs["slug"], self.permission_required)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("community", self.community)
        return super().get_context_data(**kwargs)
