from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class WeishiAdminSite(admin.AdminSite):
    """The setup site: open to superusers, district admins and community staff, each of whom
    then sees only their own scope (``council.admin``)."""

    site_header = _("Weishi setup")
    site_title = _("Weishi setup")
    index_title = _("Setup")

    def has_permission(self, request):
        return request.user.is_active and request.user.has_perm("council.use_admin")
