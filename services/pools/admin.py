"""Courses and their sessions in the admin. Bookings are read-only: places are held, confirmed
and released by actions.py only (the lock that prevents overbooking lives there)."""

from django.contrib import admin

from identity.admin import (
    ActionInline,
    ActionModelAdmin,
    ReadOnlyAdmin,
    ResidentDataAdmin,
    public_identifier,
)

from .models import LessonBooking, LessonCourse, LessonSession


class LessonSessionInline(ActionInline):
    model = LessonSession
    extra = 1


@admin.register(LessonCourse)
class LessonCourseAdmin(ActionModelAdmin):
    list_display = ["name", "facility", "product", "places", "on_sale"]
    list_filter = ["facility", "on_sale"]
    readonly_fields = [public_identifier]
    inlines = [LessonSessionInline]


@admin.register(LessonBooking)
class LessonBookingAdmin(ResidentDataAdmin, ReadOnlyAdmin):
    resident_field = "person"
    list_display = ["course", "status", "held_until", "confirmed_at", "released_at"]
    list_filter = ["status", "course"]
