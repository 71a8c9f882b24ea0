"""The schools in the admin: schools and places through ActionModelAdmin (audited), the
catchment map read-only and imported whole per school year from the town's CSV (its data
errors shown above the list), and the head's list of a school (an audited download)."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.admin import ActionModelAdmin
from identity.errors import DomainError

from . import actions, queries
from .exports import school_list_csv
from .levels import next_school_year, school_year_label
from .models import CatchmentSegment, SchoolFacility, SchoolPlaces


@admin.register(SchoolFacility)
class SchoolAdmin(ActionModelAdmin):
    """The town's schools (Facilities of kind school): their address and UAI, and the list of
    the children enrolled for the coming school year (an audited download)."""

    list_display = ["name", "commune", "address", "uai"]
    fields = ["name", "commune", "address", "uai"]
    deletable = False
    actions = ["download_list"]

    @admin.action(description=gettext_lazy("Download the list of the coming school year"))
    def download_list(self, request, queryset):
        start = next_school_year(timezone.localdate())
        return school_list_csv(
            start=start,
            lists=[
                (
                    school,
                    actions.read_school_list(actor=request.user, school=school, school_year=start),
                )
                for school in queryset
            ],
        )


@admin.register(SchoolPlaces)
class SchoolPlacesAdmin(ActionModelAdmin):
    """Places per school and level, shown against the files accepted so far."""

    list_display = ["school", "school_year", "level", "places", "accepted"]
    list_filter = ["school_year", "school"]

    @admin.display(description=gettext_lazy("accepted"))
    def accepted(self, obj):
        return next(
            (
                line.accepted
                for line in queries.places_against_accepted(obj.school_year)
                if line.school.pk == obj.school_id and line.level == obj.level
            ),
            0,
        )


class ImportForm(forms.Form):
    school_year = forms.IntegerField(
        label=gettext_lazy("School year (the year it starts in)"), min_value=2000, max_value=2100
    )
    csv = forms.FileField(label=gettext_lazy("CSV file (school;commune;street;from;to;side)"))


@admin.register(CatchmentSegment)
class CatchmentSegmentAdmin(ActionModelAdmin):
    """The map is never edited: a change of map is the next school year's import."""

    list_display = ["school_year", "street", "number_from", "number_to", "side", "school"]
    list_filter = ["school_year", "school"]
    deletable = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="schools_catchmentsegment_import",
            )
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        year = request.GET.get("school_year__exact")
        start = int(year) if year and year.isdigit() else next_school_year(timezone.localdate())
        for error in queries.map_errors(start):
            if error.kind == "missing_street":
                text = _("%(year)s: %(street)s is in no school's area.")
            else:
                text = _("%(year)s: numbers of %(street)s match two schools.")
            messages.warning(
                request, text % {"year": school_year_label(start), "street": error.street.name}
            )
        extra_context = {
            **(extra_context or {}),
            "import_url": reverse("admin:schools_catchmentsegment_import"),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["csv"].read()
            try:
                text = raw.decode("utf-8")
                count = actions.import_catchment_map(
                    actor=request.user,
                    school_year=form.cleaned_data["school_year"],
                    text=text,
                )
            except UnicodeDecodeError:
                form.add_error("csv", _("The file must be UTF-8 text."))
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _("%(count)s lines imported.") % {"count": count})
                return HttpResponseRedirect(reverse("admin:schools_catchmentsegment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Import a school year's catchment map"),
        }
        return TemplateResponse(request, "admin/schools/import.html", context)
