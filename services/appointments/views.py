"""Mon espace > Appointments: the desks, a desk's slots week by week, booking one for oneself
or a child in one's care, an appointment's page (what to bring, the calendar file, moving and
cancelling it)."""

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from identity.errors import DomainError, Forbidden
from identity.permissions import can_act_for
from identity.views.decorators import resident_required
from services.catalog.queries import people_acted_for
from services.catalog.views import form_key, new_form_nonce, person_from_form

from . import actions, calendar, queries
from .forms import PreApplicationForm, parse_instant, week_start
from .models import Appointment, Desk

WEEK = 7


def slot_days(desk: Desk, first, *, staff: bool = False) -> list[dict]:
    """The bookable slots of the week from `first`, grouped by local day (days with none too)."""
    slots = queries.bookable_slots(desk, first, first + timedelta(days=WEEK - 1), staff=staff)
    days = []
    for offset in range(WEEK):
        day = first + timedelta(days=offset)
        days.append(
            {"day": day, "slots": [s for s in slots if timezone.localdate(s.starts_at) == day]}
        )
    return days


def week_links(first, today, *, last_day=None) -> dict:
    """The weeks before and after the one shown, within today and the last bookable day."""
    previous, following = first - timedelta(days=WEEK), first + timedelta(days=WEEK)
    return {
        "previous": previous if previous >= today else None,
        "next": following if last_day is None or following <= last_day else None,
    }


@resident_required
@require_GET
def desks(request):
    return render(
        request,
        "appointments/desks.html",
        {
            "desks": queries.open_desks(),
            "appointments": queries.upcoming_of(request.user, request.person),
        },
    )


def _own_appointment(request, public_id: str) -> Appointment:
    appointment = get_object_or_404(
        Appointment.objects.select_related("desk", "desk__facility", "person"),
        public_id=public_id,
    )
    if not can_act_for(request.user, appointment.person):
        raise Http404
    return appointment


@resident_required
@require_GET
def slots(request, public_id: str):
    desk = get_object_or_404(queries.open_desks(), public_id=public_id)
    today = timezone.localdate()
    first = max(week_start(request.GET.get("du"), default=today), today)
    moving = None
    if request.GET.get("deplacer"):
        moving = _own_appointment(request, request.GET["deplacer"])
        if moving.desk_id != desk.pk:
            raise Http404
    return render(
        request,
        "appointments/slots.html",
        {
            "desk": desk,
            "days": slot_days(desk, first),
            "weeks": week_links(
                first, today, last_day=today + timedelta(days=desk.book_ahead_days)
            ),
            "keep": [("deplacer", moving.public_id)] if moving else [],
            "people": people_acted_for(request.user, request.person),
            "form": PreApplicationForm(),
            "form_nonce": new_form_nonce(),
            "moving": moving,
        },
    )


@resident_required
@require_POST
def book(request, public_id: str):
    desk = get_object_or_404(queries.open_desks(), public_id=public_id)
    person = person_from_form(request, request.person)
    starts_at = parse_instant(request.POST.get("slot", ""))
    if starts_at is None:
        messages.error(request, _("Choose a slot."))
        return redirect("appointments:slots", desk.public_id)
    try:
        appointment = actions.book_appointment(
            actor=request.user,
            person=person,
            desk=desk,
            starts_at=starts_at,
            idempotency_key=form_key(request) or "",
            pre_application_number=request.POST.get("pre_application_number", ""),
        )
    except Forbidden as error:
        raise Http404 from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:slots", desk.public_id)
    messages.success(request, _("Your appointment is booked."))
    return redirect("appointments:detail", appointment.public_id)


@resident_required
@require_GET
def detail(request, public_id: str):
    appointment = _own_appointment(request, public_id)
    return render(request, "appointments/detail.html", {"appointment": appointment})


@resident_required
@require_GET
def ics(request, public_id: str):
    appointment = _own_appointment(request, public_id)
    response = HttpResponse(calendar.ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rendez-vous.ics"'
    return response


@resident_required
@require_POST
def cancel(request, public_id: str):
    appointment = _own_appointment(request, public_id)
    try:
        actions.cancel_appointment(actor=request.user, appointment=appointment)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:detail", appointment.public_id)
    messages.success(request, _("Your appointment is cancelled."))
    return redirect("appointments:desks")


@resident_required
@require_POST
def move(request, public_id: str):
    appointment = _own_appointment(request, public_id)
    starts_at = parse_instant(request.POST.get("slot", ""))
    try:
        if starts_at is None:
            raise DomainError(_("Choose a slot."), field="slot")
        actions.move_appointment(actor=request.user, appointment=appointment, starts_at=starts_at)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:detail", appointment.public_id)
    messages.success(request, _("Your appointment is moved."))
    return redirect("appointments:detail", appointment.public_id)
