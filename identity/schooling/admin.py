"""The school structure in the admin (imported by identity/admin.py): years with their holidays,
classes, closures and enrolments, every write through an action."""

from django.contrib import admin

from identity.admin import ActionInline, ActionModelAdmin, ResidentDataAdmin

from .actions import close_school, enrol_child
from .models import Enrolment, SchoolClass, SchoolClosure, SchoolHoliday, SchoolYear


class SchoolHolidayInline(ActionInline):
    model = SchoolHoliday
    extra = 0


@admin.register(SchoolYear)
class SchoolYearAdmin(ActionModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "zone"]
    inlines = [SchoolHolidayInline]


@admin.register(SchoolClass)
class SchoolClassAdmin(ActionModelAdmin):
    list_display = ["name", "school", "school_year", "levels"]
    list_filter = ["school_year", "school"]


@admin.register(SchoolClosure)
class SchoolClosureAdmin(ActionModelAdmin):
    list_display = ["day", "school", "reason"]
    deletable = False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            saved = close_school(
                actor=request.user, day=obj.day, reason=obj.reason, school=obj.school
            )
            obj.pk = saved.pk


@admin.register(Enrolment)
class EnrolmentAdmin(ResidentDataAdmin, ActionModelAdmin):
    resident_field = "child"
    list_display = ["child", "school", "school_year", "level", "school_class", "derogation"]
    list_filter = ["school_year", "school", "level"]
    raw_id_fields = ["child"]
    # Written by an accepted pre-enrolment only (services.schools).
    readonly_fields = ["procedure_file", "derogation"]
    deletable = False

    def save_model(self, request, obj, form, change):
        saved = enrol_child(
            actor=request.user,
            child=obj.child,
            school=obj.school,
            school_year=obj.school_year,
            level=obj.level,
            school_class=obj.school_class,
        )
        obj.pk = saved.pk
