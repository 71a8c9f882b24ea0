"""Desks, their weekly patterns and exceptional days in the admin. Appointments and blocked
slots are read-only: they are taken and given back by actions.py only (the desk's lock)."""

from django.contrib import admin

from identity.admin import (
    ActionInline,
    ActionModelAdmin,
    ReadOnlyAdmin,
    ResidentDataAdmin,
    public_identifier,
)

from .models import Appointment, Desk, DeskDay, OpeningPattern


class OpeningPatternInline(ActionInline):
    model = OpeningPattern
    extra = 1


class DeskDayInline(ActionInline):
    model = DeskDay
    extra = 1


@admin.register(Desk)
class DeskAdmin(ActionModelAdmin):
    list_display = ["name", "facility", "kind", "slot_minutes", "stations", "active"]
    list_filter = ["facility", "kind", "active"]
    readonly_fields = [public_identifier]
    inlines = [OpeningPatternInline, DeskDayInline]


@admin.register(Appointment)
class AppointmentAdmin(ResidentDataAdmin, ReadOnlyAdmin):
    resident_field = "person"
    list_display = ["desk", "starts_at", "status", "channel"]
    list_filter = ["status", "channel", "desk"]
