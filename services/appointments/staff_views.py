"""Agents > Rendez-vous: the desks a clerk receives at with their no-show rates, a desk's day
(who comes when, arrived or absent, blocking a slot) and week, and booking on behalf of a
resident at the counter or on the phone."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from identity.errors import DomainError
from identity.models import Person
from identity.permissions import Capability, has_capability
from services.catalog.views import form_key, new_form_nonce

from . import actions, queries
from .forms import FindResidentForm, PreApplicationForm, parse_instant, week_start
from .models import Appointment, Desk, SlotBlock
from .views import WEEK, slot_days, week_links

STATS_DAYS = 90


def _staff(request) -> None:
    if not has_capability(request.user, Capability.HANDLE_APPOINTMENTS):
        raise PermissionDenied


def _desk(request, public_id: str) -> Desk:
    desk = get_object_or_404(Desk.objects.select_related("facility"), public_id=public_id)
    if not queries.may_handle(request.user, desk):
        raise PermissionDenied
    return desk


def _back_to_day(desk: Desk, starts_at):
    """The desk's day of `starts_at` (today without one)."""
    url = reverse("appointments:agenda", args=[desk.public_id])
    return redirect(f"{url}?jour={timezone.localdate(starts_at).isoformat()}" if starts_at else url)


@login_required
@require_GET
def desk_list(request):
    _staff(request)
    desks = queries.staff_desks(request.user)
    today = timezone.localdate()
    return render(
        request,
        "appointments/staff_desks.html",
        {
            "stats": queries.no_show_stats(
                desks, since=today - timedelta(days=STATS_DAYS), until=today
            ),
            "stats_days": STATS_DAYS,
        },
    )


@login_required
@require_GET
def agenda(request, public_id: str):
    """A desk's day (?jour=) or, with ?vue=semaine, its week: each slot with its residents."""
    desk = _desk(request, public_id)
    today = timezone.localdate()
    day = week_start(request.GET.get("jour"), default=today)
    week = request.GET.get("vue") == "semaine"
    last = day + timedelta(days=WEEK - 1) if week else day
    booked = queries.agenda(desk, day, last)
    blocked = queries.blocks(desk, day, last)
    rows = []
    for slot in queries.slots_of(desk, day, last):
        rows.append(
            {
                "slot": slot,
                "appointments": [a for a in booked if a.starts_at == slot.starts_at],
                "blocks": [b for b in blocked if b.starts_at == slot.starts_at],
                "bookable": slot.starts_at > timezone.now(),
            }
        )
    actions.record_agenda_viewed(actor=request.user, desk=desk)
    days = []
    for offset in range((last - day).days + 1):
        current = day + timedelta(days=offset)
        days.append(
            {
                "day": current,
                "rows": [r for r in rows if timezone.localdate(r["slot"].starts_at) == current],
            }
        )
    return render(
        request,
        "appointments/agenda.html",
        {
            "desk": desk,
            "day": day,
            "days": days,
            "week": week,
            "previous": day - timedelta(days=WEEK if week else 1),
            "next": day + timedelta(days=WEEK if week else 1),
        },
    )


def _appointment(request, public_id: str) -> Appointment:
    appointment = get_object_or_404(
        Appointment.objects.select_related("desk", "person"), public_id=public_id
    )
    if not queries.may_handle(request.user, appointment.desk):
        raise PermissionDenied
    return appointment


@login_required
@require_POST
def mark(request, public_id: str):
    appointment = _appointment(request, public_id)
    try:
        actions.mark_appointment(
            actor=request.user,
            appointment=appointment,
            arrived=request.POST.get("arrived") == "1",
        )
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_day(appointment.desk, appointment.starts_at)


@login_required
@require_POST
def staff_cancel(request, public_id: str):
    appointment = _appointment(request, public_id)
    try:
        actions.cancel_appointment(
            actor=request.user,
            appointment=appointment,
            reason=request.POST.get("reason", ""),
            channel=request.POST.get("channel", "counter"),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The appointment is cancelled."))
    return _back_to_day(appointment.desk, appointment.starts_at)


@login_required
@require_POST
def block(request, public_id: str):
    desk = _desk(request, public_id)
    starts_at = parse_instant(request.POST.get("slot", ""))
    try:
        if starts_at is None:
            raise DomainError(_("Choose a slot."), field="slot")
        actions.block_slot(
            actor=request.user,
            desk=desk,
            starts_at=starts_at,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The slot is blocked."))
    return _back_to_day(desk, starts_at)


@login_required
@require_POST
def free(request, public_id: str):
    slot_block = get_object_or_404(SlotBlock.objects.select_related("desk"), public_id=public_id)
    if not queries.may_handle(request.user, slot_block.desk):
        raise PermissionDenied
    actions.free_slot(actor=request.user, block=slot_block)
    messages.success(request, _("The slot is free again."))
    return _back_to_day(slot_block.desk, slot_block.starts_at)


@login_required
@require_http_methods(["GET", "POST"])
def on_behalf(request, public_id: str):
    """Book for a resident at the counter or on the phone: find them (last name and birth
    date), then pick the slot; the channel is recorded with the appointment."""
    desk = _desk(request, public_id)
    if request.method == "POST":
        return _book_on_behalf(request, desk)
    form = FindResidentForm(request.GET or None)
    found = None
    if form.is_valid():
        try:
            found = actions.find_resident(
                actor=request.user,
                desk=desk,
                last_name=form.cleaned_data["last_name"],
                birth_date=form.cleaned_data["birth_date"],
                channel=form.cleaned_data["channel"],
            )
        except DomainError as error:
            messages.error(request, error.message)
    today = timezone.localdate()
    first = max(week_start(request.GET.get("du"), default=today), today)
    return render(
        request,
        "appointments/on_behalf.html",
        {
            "desk": desk,
            "form": form,
            "found": found,
            "channel": form.cleaned_data["channel"] if found is not None else "",
            "days": slot_days(desk, first, staff=True) if found else [],
            "weeks": week_links(first, today),
            "keep": [(name, request.GET.get(name, "")) for name in FindResidentForm.base_fields],
            "number_form": PreApplicationForm(),
            "form_nonce": new_form_nonce(),
        },
    )


def _book_on_behalf(request, desk: Desk):
    person = get_object_or_404(Person, public_id=request.POST.get("person", ""))
    starts_at = parse_instant(request.POST.get("slot", ""))
    channel = request.POST.get("channel", "")
    try:
        if starts_at is None:
            raise DomainError(_("Choose a slot."), field="slot")
        if channel not in actions.STAFF_CHANNELS:
            raise DomainError(_("Say whether the resident is here or on the phone."))
        appointment = actions.book_appointment(
            actor=request.user,
            person=person,
            desk=desk,
            starts_at=starts_at,
            channel=channel,
            idempotency_key=form_key(request) or "",
            pre_application_number=request.POST.get("pre_application_number", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("appointments:on_behalf", desk.public_id)
    messages.success(
        request,
        _("Appointment booked for %(name)s.") % {"name": f"{person.first_name} {person.last_name}"},
    )
    return _back_to_day(desk, appointment.starts_at)
