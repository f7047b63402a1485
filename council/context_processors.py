from .selectors import community_switcher


def weishi(request):
    """The header's community switcher, evaluated only if a template asks for it."""
    return {"switcher_communities": lambda: community_switcher(request.user)}
