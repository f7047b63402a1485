"""Sections that apps above this one add to a proposal's page.

Calls go down, never up: the proposals app cannot import voting or disclosure, so those apps
register a panel here (in their ``AppConfig.ready``) and the proposal page renders whatever
is registered. A panel is a callable ``(request, proposal) -> (template, context) | None``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.template.loader import render_to_string

Panel = Callable[..., tuple[str, dict] | None]
_PANELS: list[Panel] = []


def panel_register(panel: Panel) -> Panel:
    if panel not in _PANELS:
        _PANELS.append(panel)
    return panel


def panels_render(request, proposal) -> list[str]:
    """Each registered panel rendered for this request, in registration order."""
    rendered = []
    for panel in _PANELS:
        found = panel(request, proposal)
        if found is not None:
            template, context = found
            rendered.append(render_to_string(template, context, request=request))
    return rendered
