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

        from . import selectors
        from .models import ACTION_LABELS
        from .notifications import email_tick
        from .params import IdConverter
        from .personal_data import personal_data_section_register
        from .scheduler import minute_job_register
        from .threads import ACTION_LABELS as THREAD_ACTIONS

        ACTION_LABELS.update(THREAD_ACTIONS)
        # No request sends email: the minute scheduler does, after the other jobs.
        minute_job_register(email_tick, last=True)
        # ``<id:pk>`` in every app's routes: an id too long for the database is no match (404).
        if "id" not in get_converters():
            register_converter(IdConverter, "id")
        # The council's own sections of a person's data export; other apps add theirs.
        for name, section in {
            "account": selectors.personal_account,
            "consent": selectors.personal_consent,
            "private_data": selectors.personal_private_data,
            "roles": selectors.personal_roles,
            "thread_messages": selectors.personal_thread_messages,
            "message_reports": selectors.personal_message_reports,
            "notifications": selectors.personal_notifications,
            "evidence_log": selectors.personal_evidence,
        }.items():
            personal_data_section_register(name, section)


class WeishiAdminConfig(admin_apps.AdminConfig):
    """The Django admin, for setup by district admins and staff, each within their scope."""

    default = False
    default_site = "council.admin_site.WeishiAdminSite"
