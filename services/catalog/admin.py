"""The catalogue's rules in the Django admin (administrators only): access points, opening
hours, exceptional closures, school holidays, and each facility's maximum occupancy and
anti-passback. Entitlements are left out: they are people's, granted through actions.

Saving or deleting any of them drops the rules cached by this process at once
(queries.facility_rules); the other application processes follow within
queries.RULES_CACHE_SECONDS. Today's occupancy is decide's live state: shown read-only, never
edited by hand. Presences (who is inside) are left out, like people: personal data is read
through audited actions only."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils import timezone

from identity.actions.audit import record_audit_entry
from identity.admin import ReadOnlyAdmin
from identity.errors import DomainError

from .models import (
    AccessPoint,
    FacilityAccessRules,
    FacilityClosure,
    FacilityOccupancy,
    OpeningHours,
    Product,
    QuotientBracket,
    SchoolHolidayPeriod,
    TariffGrid,
    TariffLine,
)
from .tariffs import check_grid_period


@admin.register(AccessPoint)
class AccessPointAdmin(admin.ModelAdmin):
    """Listed with their public id: what a reader is registered at, and `make tap ACCESS_POINT=`."""

    list_display = ["name", "kind", "facility", "public_id"]
    list_filter = ["kind", "facility"]
    readonly_fields = ["public_id"]


@admin.register(FacilityAccessRules)
class FacilityAccessRulesAdmin(admin.ModelAdmin):
    list_display = ["facility", "max_occupancy", "anti_passback_minutes", "pay_per_entry_product"]
    list_filter = ["facility__kind"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["facility", "schedule", "weekday", "opens", "closes"]
    list_filter = ["facility", "schedule", "weekday"]
    list_editable = ["opens", "closes"]
    ordering = ["facility__name", "schedule", "weekday", "opens"]


@admin.register(FacilityClosure)
class FacilityClosureAdmin(admin.ModelAdmin):
    list_display = ["facility", "starts_at", "ends_at", "reason"]
    list_filter = ["facility"]
    date_hierarchy = "starts_at"


@admin.register(SchoolHolidayPeriod)
class SchoolHolidayPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "classes_resume_on"]


class LiveStateAdmin(ReadOnlyAdmin):
    """Written by decide only: visible, not editable."""


@admin.register(FacilityOccupancy)
class FacilityOccupancyAdmin(LiveStateAdmin):
    list_display = ["facility", "day", "inside"]


# --- Products and tariffs (services/catalog/tariffs.py) --------------------------------------
# A grid whose first day has come is shown read-only with its lines: sales may have used it. A
# change is a new grid from a future day; saving it closes the grid in force the day before,
# with the same checks as tariffs.publish_tariff_grid.


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "facility_kind", "regie_code", "active"]
    list_filter = ["kind", "facility_kind", "active"]
    readonly_fields = ["public_id"]


@admin.register(QuotientBracket)
class QuotientBracketAdmin(admin.ModelAdmin):
    list_display = ["label", "number", "max_amount", "valid_from"]
    list_filter = ["valid_from"]


class TariffLineInline(admin.TabularInline):
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


class TariffGridForm(forms.ModelForm):
    class Meta:
        model = TariffGrid
        fields = ["product", "valid_from", "valid_until"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.to_close = check_grid_period(
                product=data["product"],
                valid_from=data["valid_from"],
                valid_until=data.get("valid_until"),
                today=timezone.localdate(),
                grid=self.instance if self.instance.pk else None,
            )
        except DomainError as error:
            field = error.field if error.field in self.fields else NON_FIELD_ERRORS
            raise forms.ValidationError({field: error.message}) from error
        return data


@admin.register(TariffGrid)
class TariffGridAdmin(admin.ModelAdmin):
    form = TariffGridForm
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

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        to_close = getattr(form, "to_close", None)
        if to_close is not None:
            to_close.valid_until = obj.valid_from - timedelta(days=1)
            to_close.save(update_fields=["valid_until"])
        super().save_model(request, obj, form, change)
        record_audit_entry(
            actor=request.user,
            action="tariff.grid_published",
            target=f"{obj.product.code}@{obj.valid_from.isoformat()}",
        )
