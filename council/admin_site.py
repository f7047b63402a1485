from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from .forms import AdminSignInForm


class WeishiAdminSite(admin.AdminSite):
    """The setup site: open to superusers, district admins and community staff, each of whom
    then sees only their own scope (``council.admin``)."""

    site_header = _("Weishi setup")
    site_title = _("Weishi setup")
    index_title = _("Setup")
    login_form = AdminSignInForm

    def login(self, request, extra_context=None):
        """The same throttled sign-in as the site's (``council.signin``): a lockout is said on
        the form, with 429."""
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.has_error(NON_FIELD_ERRORS, "locked_out"):
            response.status_code = 429
        return response

    def has_permission(self, request):
        return request.user.is_active and request.user.has_perm("council.use_admin")

    def password_change(self, request, extra_context=None):
        """The site's own page (``council.views.PasswordChangeView``), whose old password is
        checked under the sign-in throttle; the admin's would check it unthrottled."""
        return redirect("password_change")
