"""The town's canteen set-up in the admin: sites, services with their booking rules, menus.
Bookings are read-only here: they are written by the parents' actions."""

from django.contrib import admin

from identity.admin import ActionInline, ActionModelAdmin, ReadOnlyAdmin

from .models import Booking, CanteenSite, Dish, Menu, Service


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
    list_display = ["day", "site", "published"]
    list_filter = ["site", "published"]
    inlines = [DishInline]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["day", "service", "state", "booked_at"]
    list_filter = ["state", "service__site"]
    list_select_related = ["service__site"]
