"""Sections that apps above this one add to a proposal's page.

Calls go down, never up: the proposals app cannot import voting or disclosure, so those apps
register a ``proposal_panels`` hook (``council.hooks``) and the proposal page renders every
one. A panel is a callable ``(request, proposal) -> (template, context) | None``.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from council.hooks import get_hooks


def panels_render(request, proposal) -> list[str]:
    """Each ``proposal_panels`` hook rendered for this request, in hook order (voting's,
    then disclosure's: ``INSTALLED_APPS`` order); a panel that returns None shows nothing."""
    rendered = []
    for panel in get_hooks("proposal_panels"):
        found = panel(request, proposal)
        if found is not None:
            template, context = found
            rendered.append(render_to_string(template, context, request=request))
    return rendered
