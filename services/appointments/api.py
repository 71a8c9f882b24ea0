"""The appointments API: the desks, a desk's free slots, booking and cancelling.

Residents call it with their session, staff applications with a token; bad input is a 422
naming the field (ninja's validation), a refusal a 4xx with a code (`slot_taken`, 409, when
the slot went to someone else meanwhile). Booking with the same `idempotency_key` again
returns the first appointment."""

import re
from datetime import date, datetime

from ninja import Field, Query, Router, Schema, Status
from pydantic import ValidationInfo, field_validator

from identity.api_auth import session_or_token
from identity.api_types import AwareInstant, Day, ErrorOut
from identity.errors import NotFound
from identity.models import Person
from identity.permissions import can_act_for

from . import actions, queries
from .models import Appointment, Channel

router = Router(tags=["appointments"])

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


class DeskOut(Schema):
    id: str
    name: str
    facility: str
    kind: str
    slot_minutes: int
    stations: int
    book_ahead_days: int
    what_to_bring: str
    needs_pre_application: bool
    address: str


class SlotsQuery(Schema):
    desk: str = Field(max_length=24)
    from_: Day = Field(alias="from")
    to: Day

    @field_validator("to")
    @classmethod
    def within_span(cls, to: date, info: ValidationInfo) -> date:
        first = info.data.get("from_")
        if first is not None and to < first:
            raise ValueError("`to` is before `from`")
        if first is not None and (to - first).days >= queries.MAX_SPAN_DAYS:
            raise ValueError(f"at most {queries.MAX_SPAN_DAYS} days at once")
        return to


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    places_left: int


class AppointmentIn(Schema):
    desk: str = Field(max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    person_id: str = Field(max_length=24, pattern=r"^[A-Za-z0-9_-]+$")
    starts_at: AwareInstant
    pre_application_number: str = Field("", max_length=14)
    idempotency_key: str = Field("", max_length=80)


class AppointmentOut(Schema):
    id: str
    desk: str
    person_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    channel: str


def _desk_out(desk) -> dict:
    return {
        "id": desk.public_id,
        "name": desk.name,
        "facility": desk.facility.name,
        "kind": desk.kind,
        "slot_minutes": desk.slot_minutes,
        "stations": desk.stations,
        "book_ahead_days": desk.book_ahead_days,
        "what_to_bring": desk.what_to_bring,
        "needs_pre_application": desk.needs_pre_application,
        "address": desk.address,
    }


def _appointment_out(appointment: Appointment) -> dict:
    return {
        "id": appointment.public_id,
        "desk": appointment.desk.public_id,
        "person_id": appointment.person.public_id,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "status": appointment.status,
        "channel": appointment.channel,
    }


def _open_desk(desk_id: str):
    desk = (
        queries.open_desks().filter(public_id=desk_id).first()
        if PUBLIC_ID.fullmatch(desk_id)
        else None
    )
    if desk is None:
        raise NotFound("No such desk.", field="desk")
    return desk


@router.get("/appointments/desks", response=list[DeskOut], auth=session_or_token)
def desks(request):
    """The desks taking appointments, with what to bring to each."""
    return [_desk_out(desk) for desk in queries.open_desks()]


@router.get(
    "/appointments/slots",
    response={200: list[SlotOut], 404: ErrorOut},
    auth=session_or_token,
)
def slots(request, filters: Query[SlotsQuery]):
    """The desk's slots one may book now with a place left, from `from` to `to` (local days,
    both included, at most 62 days)."""
    found = _open_desk(filters.desk)
    from_, to = filters.from_, filters.to
    return [
        {"starts_at": s.starts_at, "ends_at": s.ends_at, "places_left": s.left}
        for s in queries.bookable_slots(found, from_, to)
    ]


@router.post(
    "/appointments",
    response={201: AppointmentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def book(request, payload: AppointmentIn):
    """Book the slot at `starts_at` of the desk for a person the caller acts for (themself, a
    child in their care). 409 `slot_taken` when its last place went to someone else."""
    desk = _open_desk(payload.desk)
    person = Person.objects.filter(public_id=payload.person_id).first()
    if person is None or not can_act_for(request.auth, person):
        raise NotFound("No such person.", field="person_id")
    appointment = actions.book_appointment(
        actor=request.auth,
        person=person,
        desk=desk,
        starts_at=payload.starts_at,
        channel=Channel.API,
        idempotency_key=payload.idempotency_key,
        pre_application_number=payload.pre_application_number,
    )
    return Status(201, _appointment_out(appointment))


@router.delete(
    "/appointments/{appointment_id}",
    response={200: AppointmentOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def cancel(request, appointment_id: str):
    """Cancel an appointment (up to the desk's notice for a resident)."""
    found = (
        Appointment.objects.select_related("desk", "person")
        .filter(public_id=appointment_id)
        .first()
        if PUBLIC_ID.fullmatch(appointment_id)
        else None
    )
    if found is None or not (
        can_act_for(request.auth, found.person) or queries.may_handle(request.auth, found.desk)
    ):
        raise NotFound("No such appointment.")
    return _appointment_out(
        actions.cancel_appointment(actor=request.auth, appointment=found, channel=Channel.API)
    )
