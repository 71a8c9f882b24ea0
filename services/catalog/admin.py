"""The catalogue's rules in the Django admin (administrators only): access points, opening
hours, exceptional closures, and each facility's maximum occupancy and anti-passback (the
school holidays the holiday hours follow are identity's school calendar). Entitlements are left
out: they are people's, granted through actions.

Saving or deleting any of them drops the rules cached by this process at once
(queries.facility_rules); the other application processes follow within
queries.RULES_CACHE_SECONDS. Today's occupancy is decide's live state: shown read-only, never
edited by hand. Presences (who is inside) are left out, like people: personal data is read
through audited actions only.

Every write goes through an action (identity.admin.ActionModelAdmin): the configuration rows
through identity.actions.configuration, the tariff grids through tariffs.publish_tariff_grid
and tariffs.withdraw_tariff_grid (with the product's lock)."""

from django.contrib import admin
from django.utils import timezone

from identity.admin import ActionInline, ActionModelAdmin, ReadOnlyAdmin, public_identifier

from .models import (
    AccessPoint,
    FacilityAccessRules,
    FacilityClosure,
    FacilityOccupancy,
    OpeningHours,
    Product,
    QuotientBracket,
    TariffGrid,
    TariffLine,
)
from .tariffs import LineInput, publish_tariff_grid, withdraw_tariff_grid


@admin.register(AccessPoint)
class AccessPointAdmin(ActionModelAdmin):
    """Listed with their public id: what a reader is registered at, and `make tap ACCESS_POINT=`."""

    list_display = ["name", "kind", "facility", public_identifier]
    list_filter = ["kind", "facility"]
    readonly_fields = [public_identifier]


@admin.register(FacilityAccessRules)
class FacilityAccessRulesAdmin(ActionModelAdmin):
    list_display = ["facility", "max_occupancy", "anti_passback_minutes", "pay_per_entry_product"]
    list_filter = ["facility__kind"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(ActionModelAdmin):
    list_display = ["facility", "schedule", "weekday", "opens", "closes"]
    list_filter = ["facility", "schedule", "weekday"]
    list_editable = ["opens", "closes"]
    ordering = ["facility__name", "schedule", "weekday", "opens"]


@admin.register(FacilityClosure)
class FacilityClosureAdmin(ActionModelAdmin):
    list_display = ["facility", "starts_at", "ends_at", "reason"]
    list_filter = ["facility"]
    date_hierarchy = "starts_at"


class LiveStateAdmin(ReadOnlyAdmin):
    """Written by decide only: visible, not editable."""


@admin.register(FacilityOccupancy)
class FacilityOccupancyAdmin(LiveStateAdmin):
    list_display = ["facility", "day", "inside"]


# --- Products and tariffs (services/catalog/tariffs.py) --------------------------------------
# A grid whose first day has come is shown read-only with its lines: sales may have used it. A
# change is a new grid from a future day; saving it closes the grid in force the day before,
# through tariffs.publish_tariff_grid, under the product's lock.


@admin.register(Product)
class ProductAdmin(ActionModelAdmin):
    """With its eligibility (services/catalog/eligibility.py): ages, residents only, held once
    at a time."""

    list_display = [
        "name",
        "code",
        "kind",
        "facility_kind",
        "regie_code",
        "min_age",
        "max_age",
        "residents_only",
        "active",
    ]
    list_filter = ["kind", "facility_kind", "residents_only", "active"]
    readonly_fields = [public_identifier]


@admin.register(QuotientBracket)
class QuotientBracketAdmin(ActionModelAdmin):
    list_display = ["label", "number", "max_amount", "valid_from"]
    list_filter = ["valid_from"]


class TariffLineInline(ActionInline):
    model = TariffLine
    extra = 3

    def _editable(self, obj) -> bool:
        return obj is None or not obj.has_started(timezone.localdate())

    def has_add_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


def _line_inputs(formsets) -> list[LineInput]:
    """The grid's lines as the inline forms leave them (unchanged, changed and new)."""
    return [
        LineInput(
            price_cents=line["price_cents"],
            residency=line["residency"],
            age_bracket=line["age_bracket"],
            qf_bracket=line.get("qf_bracket"),
            reduced_category=line["reduced_category"],
        )
        for formset in formsets
        for line in (form.cleaned_data for form in formset.forms)
        if line and not line.get("DELETE")
    ]


@admin.register(TariffGrid)
class TariffGridAdmin(ActionModelAdmin):
    """Published (or, before its first day, revised) with its lines in one call to
    publish_tariff_grid; withdrawn, before its first day, by withdraw_tariff_grid."""

    fields = ["product", "valid_from", "valid_until"]
    inlines = [TariffLineInline]
    list_display = ["product", "valid_from", "valid_until", "published_at"]
    list_filter = ["product"]
    date_hierarchy = "valid_from"

    def _editable(self, obj) -> bool:
        return obj is None or not obj.has_started(timezone.localdate())

    def has_change_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """Written with its lines by save_related: the action takes the grid whole."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            formset.save(commit=False)  # what changed, for the admin's history: writes none
        grid = publish_tariff_grid(
            actor=request.user,
            product=form.instance.product,
            valid_from=form.instance.valid_from,
            valid_until=form.instance.valid_until,
            lines=_line_inputs(formsets),
            grid=form.instance if change else None,
        )
        form.instance.pk = grid.pk

    def delete_model(self, request, obj):
        withdraw_tariff_grid(actor=request.user, grid=obj)

    def delete_queryset(self, request, queryset):
        for grid in queryset:
            withdraw_tariff_grid(actor=request.user, grid=grid)
