"""The town's quota table in the admin. Distributions are read-only: the log is append-only
and written by actions.hand_out_bags only."""

from django.contrib import admin

from identity.admin import ActionModelAdmin, ReadOnlyAdmin, ResidentDataAdmin

from .models import BagDistribution, BagQuota


@admin.register(BagQuota)
class BagQuotaAdmin(ActionModelAdmin):
    list_display = ["year", "min_members", "rolls"]
    list_filter = ["year"]
    ordering = ["-year", "min_members"]


@admin.register(BagDistribution)
class BagDistributionAdmin(ResidentDataAdmin, ReadOnlyAdmin):
    resident_field = "person"
    list_display = ["at", "household", "year", "quantity", "facility", "staff"]
    list_filter = ["year", "facility"]
    list_select_related = ["household", "facility", "staff"]
