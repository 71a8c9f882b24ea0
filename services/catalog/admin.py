"""The catalogue's rules in the Django admin (administrators only): access points, opening
hours, exceptional closures, school holidays, and each facility's maximum occupancy and
anti-passback. Entitlements are left out: they are people's, granted through actions.

Saving or deleting any of them drops the rules cached by this process at once
(queries.facility_rules); the other application processes follow within
queries.RULES_CACHE_SECONDS. Today's occupancy is decide's live state: shown read-only, never
edited by hand. Presences (who is inside) are left out, like people: personal data is read
through audited actions only."""

from django.contrib import admin

from .models import (
    AccessPoint,
    FacilityAccessRules,
    FacilityClosure,
    FacilityOccupancy,
    OpeningHours,
    SchoolHolidayPeriod,
)


@admin.register(AccessPoint)
class AccessPointAdmin(admin.ModelAdmin):
    """Listed with their public id: what a reader is registered at, and `make tap ACCESS_POINT=`."""

    list_display = ["name", "kind", "facility", "public_id"]
    list_filter = ["kind", "facility"]
    readonly_fields = ["public_id"]


@admin.register(FacilityAccessRules)
class FacilityAccessRulesAdmin(admin.ModelAdmin):
    list_display = ["facility", "max_occupancy", "anti_passback_minutes"]
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


class LiveStateAdmin(admin.ModelAdmin):
    """Written by decide only: visible, not editable."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FacilityOccupancy)
class FacilityOccupancyAdmin(LiveStateAdmin):
    list_display = ["facility", "day", "inside"]
