"""Yearly envelopes are set up in the admin by the district admin (DESIGN.md, "Setup");
staff of a community may read their own."""

from django.contrib import admin

from council.admin import ScopedAdmin

from .models import Envelope


@admin.register(Envelope)
class EnvelopeAdmin(ScopedAdmin):
    change_perm = "council.change_community"
    add_perm = "council.change_community"
    list_display = ["community", "year", "amount"]
    list_filter = ["year"]
    list_select_related = ["community"]
