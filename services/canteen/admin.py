"""The town's canteen set-up in the admin: sites, services with their booking rules, menus.
Bookings are read-only here: they are written by the parents' actions."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.admin import ActionInline, ActionModelAdmin, ReadOnlyAdmin, ResidentDataAdmin
from identity.errors import DomainError

from . import actions
from .models import Booking, CanteenSite, Diet, Dish, Menu, Service


class ServiceInline(ActionInline):
    model = Service
    extra = 0


@admin.register(CanteenSite)
class CanteenSiteAdmin(ActionModelAdmin):
    list_display = ["name", "school"]
    inlines = [ServiceInline]


class DishInline(ActionInline):
    model = Dish
    extra = 0


@admin.register(Menu)
class MenuAdmin(ActionModelAdmin):
    """Menus are written here; parents see them once published (the list's action, which
    calls actions.publish_menus: recorded in the audit trail)."""

    list_display = ["day", "site", "published", "published_at"]
    list_filter = ["site", "published"]
    readonly_fields = ["published", "published_at", "published_by"]
    inlines = [DishInline]
    actions = ["publish"]

    @admin.action(description=gettext_lazy("Publish to parents"))
    def publish(self, request, queryset):
        try:
            count = actions.publish_menus(
                actor=request.user, menus=list(queryset.select_related("site__school"))
            )
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(request, _("%(count)s menu(s) published.") % {"count": count})


@admin.register(Diet)
class DietAdmin(ResidentDataAdmin, ActionModelAdmin):
    """The town corrects a child's diets (actions.correct_diet, audited); parents declare them
    in Mon espace."""

    resident_field = "child"

    list_display = ["child", "kind", "details", "packed_meal", "by_town", "recorded_at"]
    list_filter = ["kind", "by_town"]
    list_select_related = ["child"]
    fields = ["child", "kind", "details", "care_plan", "packed_meal"]
    raw_id_fields = ["child", "care_plan"]

    def save_model(self, request, obj, form, change):
        if change and "kind" in form.changed_data:
            actions.correct_diet(
                actor=request.user, child=obj.child, kind=form.initial["kind"], remove=True
            )
        actions.correct_diet(
            actor=request.user,
            child=obj.child,
            kind=obj.kind,
            details=obj.details,
            care_plan=obj.care_plan,
            packed_meal=obj.packed_meal,
        )
        obj.pk = Diet.objects.get(child=obj.child, kind=obj.kind).pk

    def delete_model(self, request, obj):
        actions.correct_diet(actor=request.user, child=obj.child, kind=obj.kind, remove=True)

    def delete_queryset(self, request, queryset):
        for diet in queryset.select_related("child"):
            self.delete_model(request, diet)


@admin.register(Booking)
class BookingAdmin(ResidentDataAdmin, ReadOnlyAdmin):
    resident_field = "child"
    list_display = ["day", "service", "state", "booked_at"]
    list_filter = ["state", "service__site"]
    list_select_related = ["service__site"]
