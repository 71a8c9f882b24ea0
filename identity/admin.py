"""Django admin for the territory and staff roles only. People and households are left out on
purpose: every staff read of personal data goes through an audited action."""

from django.contrib import admin

from .models import Commune, Facility, StaffRole, Territory, TrustPolicy


class ReadOnlyAdmin(admin.ModelAdmin):
    """For what only actions write (ledgers, logs, live state): visible, never edited here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TrustPolicyInline(admin.TabularInline):
    """How far the territory takes residents' word for what lowers a price or raises a quota
    (identity.trust): one line per criterion, `immediate` where there is none."""

    model = TrustPolicy
    extra = 0
    max_num = len(TrustPolicy.Criterion)


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "siren"]
    inlines = [TrustPolicyInline]


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ["name", "insee_code", "postcode", "territory"]
    list_filter = ["territory"]


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "commune"]
    list_filter = ["kind", "commune"]


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "facility", "granted_at", "revoked_at"]
    list_filter = ["role", "facility"]
    raw_id_fields = ["user"]
