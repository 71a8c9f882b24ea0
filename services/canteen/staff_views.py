"""Agents > Canteen: the day's services of the canteen agent's schools, and each one's kitchen
list (per class, the diets with allergies highlighted, the counts per diet) as a page and a
PDF, from the booking deadline on; before it, the page says when the list will be final. On
the day, the service's list ticked on a tablet (gate's actions); and the month's counts
(Fréquentation) as a page and a CSV file."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Facility, Person
from identity.permissions import ROLE_CAPABILITIES, Capability, active_roles, has_capability
from identity.schooling.calendar import school_calendar
from identity.spreadsheets import csv_response

from . import gate, queries, rules
from .kitchen import kitchen_list
from .kitchen import kitchen_pdf as print_list
from .models import Service
from .roll_call import find_children, service_list


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


def _services(request, schools: set[int | None]) -> list[Service]:
    """The services of the schools whose attendance the user sees, by site, in the order of a
    school day."""
    services = Service.objects.select_related("site__school")
    if None not in schools:
        services = services.filter(site__school_id__in=schools)
    return queries.in_school_day_order(
        service
        for service in services
        if has_capability(request.user, Capability.VIEW_ATTENDANCE, facility=service.site.school)
    )


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
    rows = []
    for service in _services(request, schools):
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
        {"day": day, "rows": rows, "now": timezone.now(), "today": timezone.localdate()},
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
    return render(
        request,
        "canteen/kitchen.html",
        {"service": service, "day": on, "sheet": sheet, "is_today": on == timezone.localdate()},
    )


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


# --- At service: the list ticked on a tablet, a child served without booking, the close -------

SERVED_WORDS = {
    gate.SERVED: gettext_lazy("%(name)s: served."),
    gate.ALREADY_SERVED: gettext_lazy("%(name)s: already served today."),
    gate.SERVED_WITHOUT_BOOKING: gettext_lazy(
        "%(name)s: served without booking: billed at the penalty price."
    ),
}


def _service_url(service: Service, on: date, child_id: str = "") -> str:
    url = reverse("canteen:service", args=[service.public_id, on.isoformat()])
    return f"{url}#enfant-{child_id}" if child_id else url


@login_required
@require_GET
def service_page(request, service_id: str, day: str):
    """The day's list to tick (one POST form per child), the search for a child to serve
    without booking (`nom`), and the close of the service."""
    _schools(request)
    service, on = _sheet(request, service_id, day)
    try:
        sheet = service_list(actor=request.user, service=service, day=on)
    except Forbidden as error:
        raise PermissionDenied from error
    calendar = school_calendar(service.site.school, on, on)
    not_running = rules.why_not_running(service, on, calendar)
    context = {
        "service": service,
        "day": on,
        "sheet": sheet,
        "not_running": not_running,
        "may_tick": on == timezone.localdate() and not_running is None,
        "name": request.GET.get("nom", "").strip(),
    }
    if context["name"] and context["may_tick"]:
        try:
            context["found"] = find_children(
                actor=request.user, service=service, day=on, name=context["name"]
            )
        except DomainError as error:
            context["search_error"] = error.message
    return render(request, "canteen/service.html", context)


def _child(value: str) -> Person | None:
    return Person.objects.filter(public_id=value).first() if value else None


def _on_the_list(request, service_id: str, day: str, act) -> HttpResponse:
    """A tick or an untick of a child on the service's list: `act(service, child, day)` calls
    the gate's action and returns the message to show; a refusal is shown on the list."""
    _schools(request)
    service, on = _sheet(request, service_id, day)
    child = _child(request.POST.get("enfant", ""))
    if child is None:
        messages.error(request, _("Unknown child: search them again by name."))
        return redirect(_service_url(service, on))
    try:
        level, words = act(service, child, on)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_service_url(service, on))
    messages.add_message(request, level, words)
    return redirect(_service_url(service, on, child.public_id))


@login_required
@require_POST
def serve(request, service_id: str, day: str):
    def act(service, child, on):
        outcome = gate.serve_child(actor=request.user, service=service, child=child, day=on)
        words = SERVED_WORDS[outcome] % {"name": child.full_name}
        # Served without booking: billed at the penalty price, which the agent must see.
        level = messages.WARNING if outcome == gate.SERVED_WITHOUT_BOOKING else messages.SUCCESS
        return level, words

    return _on_the_list(request, service_id, day, act)


@login_required
@require_POST
def unserve(request, service_id: str, day: str):
    def act(service, child, on):
        gate.unserve_child(actor=request.user, service=service, child=child, day=on)
        return messages.SUCCESS, _("%(name)s: no longer marked served.") % {"name": child.full_name}

    return _on_the_list(request, service_id, day, act)


@login_required
@require_POST
def close(request, service_id: str, day: str):
    _schools(request)
    service, on = _sheet(request, service_id, day)
    try:
        absent = gate.close_service(actor=request.user, service=service, day=on)
    except Forbidden as error:
        raise PermissionDenied from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_service_url(service, on))
    messages.success(
        request,
        ngettext(
            "Service closed: %(count)s no-show recorded.",
            "Service closed: %(count)s no-shows recorded.",
            absent,
        )
        % {"count": absent},
    )
    return redirect(_service_url(service, on))


# --- Agents > Cantine > Fréquentation: the month's counts per day ------------------------------


def _meal_month(request):
    """The chosen service (among the user's) and month (`mois`, YYYY-MM; this month by
    default), counted; None without a service to show."""
    services = _services(request, _schools(request))
    wanted = request.GET.get("service", "")
    chosen = queries.counted_first(services)
    if wanted:
        chosen = next((s for s in services if s.public_id == wanted), None)
        if chosen is None:
            # Another school's service, or none: the same answer, nothing to tell them apart.
            raise PermissionDenied
    try:
        month = date.fromisoformat(request.GET.get("mois", "") + "-01")
    except ValueError:
        month = timezone.localdate().replace(day=1)
    counts = queries.meal_month(chosen, month) if chosen is not None else None
    return services, chosen, month, counts


@login_required
@require_GET
def meals(request):
    services, chosen, month, counts = _meal_month(request)
    return render(
        request,
        "canteen/meals.html",
        {"services": services, "chosen": chosen, "month": month, "counts": counts},
    )


# Column headings: counts of meals (plural in French, hence their context).
MEAL_COLUMNS = (
    ("booked", pgettext_lazy("meal counts", "Booked")),
    ("served", pgettext_lazy("meal counts", "Served")),
    ("without_booking", pgettext_lazy("meal counts", "Served without booking")),
    ("absent", pgettext_lazy("meal counts", "Absent")),
    ("cancelled", pgettext_lazy("meal counts", "Cancelled")),
)


@login_required
@require_GET
def meals_csv(request):
    _services_list, chosen, month, counts = _meal_month(request)
    if counts is None:
        raise Http404
    header = [_("Day"), *(str(label) for _name, label in MEAL_COLUMNS)]
    rows = [
        [day.day.isoformat(), *(getattr(day, name) for name, _label in MEAL_COLUMNS)]
        for day in counts.days
    ]
    rows.append([_("Total"), *(getattr(counts.total, name) for name, _label in MEAL_COLUMNS)])
    return csv_response(
        filename=f"cantine-{chosen.public_id}-{month:%Y-%m}.csv", header=header, rows=rows
    )
