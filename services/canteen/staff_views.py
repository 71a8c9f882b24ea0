"""Agents > Canteen: the day's services of the canteen agent's schools, and each one's kitchen
list (per class, the diets with allergies highlighted, the counts per diet) as a page and a
PDF, from the booking deadline on; before it, the page says when the list will be final."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from identity.errors import Conflict, Forbidden
from identity.models import Facility
from identity.permissions import ROLE_CAPABILITIES, Capability, active_roles, has_capability
from identity.schooling.calendar import school_calendar

from . import rules
from .kitchen import kitchen_list
from .kitchen import kitchen_pdf as print_list
from .models import Service


def _schools(request) -> set[int | None]:
    """The schools whose canteen lists the user sees (None: every school): staff who see the
    attendance of a school (a canteen agent), or of every facility."""
    schools = {
        role.facility_id
        for role in active_roles(request.user)
        if Capability.VIEW_ATTENDANCE in ROLE_CAPABILITIES.get(role.role, frozenset())
        and (role.facility is None or role.facility.kind == Facility.Kind.SCHOOL)
    }
    if not schools:
        raise PermissionDenied
    return schools


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise Http404 from error


@login_required
@require_GET
def kitchen_days(request):
    schools = _schools(request)
    try:
        day = date.fromisoformat(request.GET.get("jour", ""))
    except ValueError:
        day = timezone.localdate()
    services = Service.objects.select_related("site__school").order_by("site__name", "kind")
    if None not in schools:
        services = services.filter(site__school_id__in=schools)
    rows = []
    for service in services:
        if not has_capability(
            request.user, Capability.VIEW_ATTENDANCE, facility=service.site.school
        ):
            continue
        calendar = school_calendar(service.site.school, day, day)
        rows.append(
            {
                "service": service,
                "runs": rules.why_not_running(service, day, calendar) is None,
                "final_at": rules.deadline(service, day, calendar),
            }
        )
    return render(
        request,
        "canteen/kitchen_days.html",
        {"day": day, "rows": rows, "now": timezone.now()},
    )


def _sheet(request, service_id: str, day: str):
    service = get_object_or_404(
        Service.objects.select_related("site__school"), public_id=service_id
    )
    return service, _day(day)


@login_required
@require_GET
def kitchen(request, service_id: str, day: str):
    _schools(request)
    service, on = _sheet(request, service_id, day)
    try:
        sheet = kitchen_list(actor=request.user, service=service, day=on)
    except Forbidden as error:
        raise PermissionDenied from error
    except Conflict:
        calendar = school_calendar(service.site.school, on, on)
        return render(
            request,
            "canteen/kitchen.html",
            {"service": service, "day": on, "final_at": rules.deadline(service, on, calendar)},
        )
    return render(request, "canteen/kitchen.html", {"service": service, "day": on, "sheet": sheet})


@login_required
@require_GET
def kitchen_pdf(request, service_id: str, day: str):
    _schools(request)
    service, on = _sheet(request, service_id, day)
    try:
        sheet = kitchen_list(actor=request.user, service=service, day=on)
    except Forbidden as error:
        raise PermissionDenied from error
    except Conflict as error:
        return HttpResponse(error.message, status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(print_list(sheet), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="cantine-{service.public_id}-{on.isoformat()}.pdf"'
    )
    return response
