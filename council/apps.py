from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    default = True
    name = "council"
    verbose_name = _("People, places and councils")

    def ready(self):
        from .models import ACTION_LABELS
        from .threads import ACTION_LABELS as THREAD_ACTIONS

        ACTION_LABELS.update(THREAD_ACTIONS)


class WeishiAdminConfig(admin_apps.AdminConfig):
    """The Django admin, for setup by district admins and staff, each within their scope."""

    default = False
    default_site = "council.admin_site.WeishiAdminSite"
