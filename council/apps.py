from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    default = True
    name = "council"
    verbose_name = _("People, places and councils")

    def ready(self):
        from django.urls import register_converter
        from django.urls.converters import get_converters

        from .params import IdConverter

        # ``<id:pk>`` in every app's routes: an id too long for the database is no match (404).
        if "id" not in get_converters():
            register_converter(IdConverter, "id")


class WeishiAdminConfig(admin_apps.AdminConfig):
    """The Django admin, for setup by district admins and staff, each within their scope."""

    default = False
    default_site = "council.admin_site.WeishiAdminSite"
