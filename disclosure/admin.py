"""The provider list (服务供应商名录), kept by the district admin in the admin site; each
change is in the evidence log like every setup record."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from council import services as council_services
from council.admin import _administered_districts
from council.models import District

from .models import Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district", "registered_on", "rating", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]

    def _districts(self, request):
        return _administered_districts(request.user)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(district_id__in=self._districts(request))

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._districts(request))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return request.user.is_superuser or obj.district_id in self._districts(request)

    def has_delete_permission(self, request, obj=None):
        return False  # a provider leaves the list (active off); its record stays

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is District and not request.user.is_superuser:
            kwargs["queryset"] = District.objects.filter(pk__in=self._districts(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not (request.user.is_superuser or obj.district_id in self._districts(request)):
            raise PermissionDenied
        council_services.setup_record_save(
            actor=request.user, obj=obj, changed=form.changed_data, created=not change
        )
