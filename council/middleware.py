"""Request middleware of the council app."""

from django.shortcuts import redirect
from django.utils.deprecation import MiddlewareMixin

# What someone who must first choose a new password may still do.
OPEN_WHILE_PASSWORD_MUST_CHANGE = frozenset(
    {"password_change", "logout", "set_language", "large_text"}
)


class PasswordMustChangeMiddleware(MiddlewareMixin):
    """After staff or a grid worker reset someone's password (they read it, to hand it over
    on paper), the person's next sign-in leads to the password form and nowhere else until
    they have chosen their own."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.password_must_change:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_WHILE_PASSWORD_MUST_CHANGE:
            return None
        return redirect("password_change")
