"""Setup through the Django admin, scoped by ``council.rules``.

A district admin sees and changes only the communities of their district (and their grids,
councils and roles); staff see their own community and may edit its council's rules and its
roles. Residents' private data is not in the admin at all: district admins may not read it.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .errors import InvalidMove, NotAllowed
from .models import (
    Community,
    Council,
    District,
    EvidenceEvent,
    Grid,
    Role,
    RoleKind,
    SubDistrict,
    User,
)
from .rules import held_roles
from .wording import label_colon


def scoped_communities(user):
    """Communities the user may see in the admin: their district's, or their own as staff."""
    if user.is_superuser:
        return Community.objects.all()
    districts = [r.district_id for r in held_roles(user) if r.kind == RoleKind.DISTRICT_ADMIN]
    staffed = [r.community_id for r in held_roles(user) if r.kind == RoleKind.STAFF]
    return Community.objects.filter(
        sub_district__district_id__in=districts
    ) | Community.objects.filter(pk__in=staffed)


def _administered_districts(user) -> list[int]:
    return [r.district_id for r in held_roles(user) if r.kind == RoleKind.DISTRICT_ADMIN]


class ScopedAdmin(admin.ModelAdmin):
    """A model admin whose rows, choices and rights follow the user's scope.

    ``community_path`` leads from the model to its community ("" for Community itself);
    ``change_perm`` is the rule deciding whether the user may change one row; rows outside
    the scope are not in the queryset, so the admin answers as if they did not exist.
    """

    community_path = "community"
    change_perm = "council.change_community"
    add_perm = "council.change_community"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        communities = scoped_communities(request.user).values("pk")
        if self.community_path:
            return qs.filter(**{f"{self.community_path}__in": communities})
        return qs.filter(pk__in=communities)

    def get_readonly_fields(self, request, obj=None):
        # An object never moves to another community; only new ones choose theirs.
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and self.community_path == "community":
            fields += ("community",)
        return fields

    def community_of(self, obj):
        for part in self.community_path.split("__") if self.community_path else ():
            obj = getattr(obj, part)
        return obj

    def has_module_permission(self, request):
        return request.user.has_perm("council.use_admin")

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return request.user.has_perm("council.use_admin")
        return request.user.has_perm("council.view_setup", self.community_of(obj))

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request.user.has_perm("council.use_admin")
        return request.user.has_perm(self.change_perm, self.community_of(obj))

    def has_add_permission(self, request):
        if request.user.is_superuser:
            return True
        return any(
            request.user.has_perm(self.add_perm, c) for c in scoped_communities(request.user)
        )

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.related_model is Community:
                scoped = scoped_communities(request.user).select_related("sub_district")
                allowed = [c.pk for c in scoped if request.user.has_perm(self.add_perm, c)]
                kwargs["queryset"] = Community.objects.filter(pk__in=allowed)
            elif db_field.related_model is Grid:
                kwargs["queryset"] = Grid.objects.filter(
                    community__in=scoped_communities(request.user)
                ).select_related("community")
            elif db_field.related_model is SubDistrict:
                kwargs["queryset"] = SubDistrict.objects.filter(
                    district_id__in=_administered_districts(request.user)
                )
            elif db_field.related_model is District:
                kwargs["queryset"] = District.objects.filter(
                    pk__in=_administered_districts(request.user)
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # A hand-edited POST may name a community outside the scope: refuse it here too.
        community = self.community_of(obj)
        if not request.user.has_perm(self.change_perm if change else self.add_perm, community):
            raise PermissionDenied
        services.setup_record_save(
            actor=request.user, obj=obj, changed=form.changed_data, created=not change
        )


class GridInline(admin.TabularInline):
    """A community's grids, on its page: whoever may change the community (its district
    admin, the superuser) adds and renames them here, as on the grids' own pages."""

    model = Grid
    extra = 0

    # Without a community (the admin asks so before reading rows), the community's page
    # decides: the rows shown are its grids only.
    def has_view_permission(self, request, obj=None):
        if obj is None:
            return request.user.has_perm("council.use_admin")
        return request.user.has_perm("council.view_setup", obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return request.user.has_perm("council.use_admin")
        return request.user.has_perm("council.change_community", obj)

    def has_add_permission(self, request, obj=None):
        if obj is None:  # a new community: whoever may set one up
            return request.user.is_superuser or bool(_administered_districts(request.user))
        return request.user.has_perm("council.change_community", obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Community)
class CommunityAdmin(ScopedAdmin):
    community_path = ""
    list_display = [
        "name",
        "sub_district",
        "cosign_threshold",
        "collection_opens",
        "collection_closes",
    ]
    list_select_related = ["sub_district"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [GridInline]

    def has_add_permission(self, request):
        return request.user.is_superuser or bool(_administered_districts(request.user))

    def save_model(self, request, obj, form, change):
        if not (
            request.user.is_superuser
            or obj.sub_district.district_id in _administered_districts(request.user)
        ):
            raise PermissionDenied
        services.setup_record_save(
            actor=request.user, obj=obj, changed=form.changed_data, created=not change
        )

    def save_formset(self, request, form, formset, change):
        """Grids added or changed inline are saved by ``services.setup_record_save``, each
        leaving its evidence event (``grid.created``, ``grid.changed``) as on their own page."""
        if formset.model is not Grid:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # validated rows, nothing written yet
        for grid in formset.deleted_objects:  # the superuser's alone (has_delete_permission)
            grid.delete()
        for grid, fields in formset.changed_objects:
            services.setup_record_save(actor=request.user, obj=grid, changed=fields, created=False)
        entered = {id(f.instance): f.changed_data for f in formset.extra_forms}
        for grid in formset.new_objects:
            services.setup_record_save(
                actor=request.user, obj=grid, changed=entered[id(grid)], created=True
            )
        formset.save_m2m()


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    list_display = ["name", "community"]
    list_select_related = ["community"]


@admin.register(Council)
class CouncilAdmin(ScopedAdmin):
    change_perm = "council.change_council"
    list_display = ["name", "community", "threshold", "secrecy", "publicity_days"]
    list_select_related = ["community"]


@admin.register(Role)
class RoleAdmin(ScopedAdmin):
    """Roles of the user's scope. A new role is granted by ``services.role_assign`` (who may
    grant what is decided there, refusals shown on the form); once granted, who holds it, what
    it is, where and its status change only through the services: the actions below confirm a
    new grid worker (``role_confirm``) or end a role (``role_end``)."""

    change_perm = "council.manage_roles"
    add_perm = "council.manage_roles"
    list_display = [
        "user",
        "kind",
        "status",
        "community",
        "grid",
        "seat_category",
        "granted_by",
        "confirmed_by",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["user", "community", "grid", "granted_by", "confirmed_by"]
    search_fields = ["user__display_name", "user__username"]
    raw_id_fields = ["user"]
    exclude = ["district", "entered_by", "status", "granted_by", "confirmed_by", "confirmed_at"]
    actions = ["confirm_roles", "end_roles"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("user", "kind", "status", "community", "granted_by", "confirmed_by")
        # A grid worker's grid is what they may read: another grid is another grant.
        return fixed + (("grid",) if obj.kind == RoleKind.GRID_WORKER else ())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            return form

        class GrantForm(form):
            def clean(self):
                cleaned = super().clean()
                if self.errors:
                    return cleaned
                try:
                    services.role_assign_check(
                        actor=request.user,
                        user=cleaned["user"],
                        kind=cleaned["kind"],
                        community=cleaned.get("community"),
                    )
                except NotAllowed as error:
                    raise ValidationError(str(error), code="refused") from error
                return cleaned

        return GrantForm

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        try:
            return services.role_assign(
                actor=request.user,
                user=data["user"],
                kind=data["kind"],
                community=data.get("community"),
                grid=data.get("grid"),
                seat_category=data.get("seat_category", ""),
                term_ends=data.get("term_ends"),
            )
        except NotAllowed as error:  # the rules changed since the form was checked
            raise PermissionDenied from error

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # A new role was saved by role_assign (save_form).

    def save_related(self, request, form, formsets, change):
        if change:  # a role has no many-to-many fields; a new one was saved by role_assign
            super().save_related(request, form, formsets, change)

    @admin.action(description=_("Confirm the selected new roles"))
    def confirm_roles(self, request, queryset):
        self._each(request, queryset, services.role_confirm, _("%(role)s is confirmed."))

    @admin.action(description=_("End the selected roles"))
    def end_roles(self, request, queryset):
        self._each(request, queryset, services.role_end, _("%(role)s has ended."))

    def _each(self, request, queryset, service, done):
        for role in queryset.select_related("user", "community"):
            try:
                service(actor=request.user, role=role)
            except (NotAllowed, InvalidMove) as error:
                self.message_user(request, f"{role}{label_colon()}{error}", messages.ERROR)
            else:
                self.message_user(request, done % {"role": role}, messages.SUCCESS)


@admin.register(EvidenceEvent)
class EvidenceEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "action", "object_type", "object_id", "actor_role"]
    list_filter = ["action"]

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(_administered_districts(request.user))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


admin.site.register(District, SuperuserOnlyAdmin)
admin.site.register(SubDistrict, SuperuserOnlyAdmin)


@admin.register(User)
class WeishiUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, (_("Weishi"), {"fields": ("display_name", "language")}))
    list_display = ["username", "display_name", "is_active", "is_superuser"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False
