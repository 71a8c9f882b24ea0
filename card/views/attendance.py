"""Agents › Fréquentation: entries per day and per hour of the day at a facility."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from identity.permissions import Capability, has_capability
from services.catalog import registry

from .. import charts, forms, queries

ATTENDANCE_DEFAULT_DAYS = 28


@login_required
@require_GET
def attendance(request):
    """Entries per day and per hour of the day at one facility, as two charts and tables. For
    staff who see attendance, at the facilities where they do (a pool agent: their pool)."""
    if not has_capability(request.user, Capability.VIEW_ATTENDANCE):
        raise PermissionDenied
    facilities = queries.attendance_facilities(request.user)
    wanted = request.GET.get("facility", "")
    chosen = facilities[0] if facilities else None
    if wanted:
        chosen = next((facility for facility in facilities if facility.public_id == wanted), None)
        if chosen is None:
            raise PermissionDenied
    today = timezone.localdate()
    form = forms.AttendancePeriodForm(
        {
            "start": request.GET.get("start", today - timedelta(days=ATTENDANCE_DEFAULT_DAYS - 1)),
            "end": request.GET.get("end", today),
        },
        max_days=queries.ATTENDANCE_MAX_DAYS,
    )
    context = {
        "facilities": facilities,
        "chosen": chosen,
        "form": form,
        "stats": None,
        # The services' own figures for it (the canteen's meals at a school).
        "figures": registry.figures_for(chosen) if chosen is not None else [],
    }
    if chosen is not None and form.is_valid():
        stats = queries.attendance(
            chosen, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        averages = stats.hourly_averages
        day_bars = [
            charts.Bar(
                label=formats.date_format(day, "j/n"),
                value=count,
                hint=f"{formats.date_format(day, 'DATE_FORMAT')}: {count}",
            )
            for day, count in stats.days
        ]
        hour_bars = [
            charts.Bar(
                label=str(hour),
                value=round(average, 1),
                hint=f"{hour:02d}:00–{hour:02d}:59: {formats.localize(round(average, 1))}",
            )
            for hour, average in enumerate(averages)
        ]
        # Inline SVG built by card.charts, which escapes every text it writes.
        context["days_chart"] = mark_safe(  # noqa: S308
            charts.bar_chart(
                day_bars,
                title=_("Entries per day at %(facility)s") % {"facility": chosen.name},
                x_label=_("Day"),
                y_label=_("Entries"),
                css_class="chart-days",
            )
        )
        context["hours_chart"] = mark_safe(  # noqa: S308
            charts.bar_chart(
                hour_bars,
                title=_("Average entries per hour of the day at %(facility)s")
                % {"facility": chosen.name},
                x_label=_("Hour of the day"),
                y_label=_("Entries per day (average)"),
                css_class="chart-hours",
            )
        )
        context["stats"] = stats
        context["hour_rows"] = [
            {"hour": hour, "total": total, "average": average}
            for hour, (total, average) in enumerate(zip(stats.hours, averages, strict=True))
        ]
    return render(request, "card/attendance.html", context)
