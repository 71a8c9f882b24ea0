"""The town's side of the State's passport and identity card network (ANTS, "rendez-vous
mairie"): the three endpoints the network calls on an editor's software, under
/api/v1/appointments/ants/ (docs/appointments.md names the version followed).

- `getManagedMeetingPoints`: the passport desks (those asking the pre-application number);
- `availableTimeSlots?meeting_point_ids=…&meeting_point_ids=…&start_date=…&end_date=…&reason=…
  &documents_number=…`: their free slots, each with the link where the resident books it;
- `searchApplicationIds?application_ids=…`: the appointments held here for these numbers.

The network authenticates with the token it shares with the town, in the X-HUB-RDV-AUTH-TOKEN
header (compared in constant time); with no SESAME_ANTS_EDITOR_TOKEN configured the endpoints
answer 404, as if absent."""

import hmac
from datetime import date

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.security import APIKeyHeader
from pydantic import ValidationInfo, field_validator

from identity.api_types import Day

from . import queries
from .links import absolute, management_url
from .models import Appointment, Desk

REASONS = ("CNI", "PASSPORT", "CNI-PASSPORT")
MAX_IDS = 100


class NetworkToken(APIKeyHeader):
    param_name = "X-HUB-RDV-AUTH-TOKEN"

    def authenticate(self, request, key):
        expected = settings.SESAME_ANTS_EDITOR_TOKEN
        if not expected:
            raise Http404
        if key and hmac.compare_digest(key.encode(), expected.encode()):
            return "ants"
        return None


router = Router(tags=["appointments: national network (ANTS)"], auth=NetworkToken())


def _desks():
    return queries.open_desks().filter(needs_pre_application=True)


class MeetingPointOut(Schema):
    id: str
    name: str
    longitude: float | None
    latitude: float | None
    public_entry_address: str
    zip_code: str
    city_name: str
    website: str


@router.get("/appointments/ants/getManagedMeetingPoints", response=list[MeetingPointOut])
def managed_meeting_points(request):
    return [
        {
            "id": desk.public_id,
            "name": f"{desk.facility.name} — {desk.name}",
            "longitude": float(desk.longitude) if desk.longitude is not None else None,
            "latitude": float(desk.latitude) if desk.latitude is not None else None,
            "public_entry_address": desk.address or desk.facility.name,
            "zip_code": desk.facility.commune.postcode,
            "city_name": desk.facility.commune.name,
            "website": absolute(reverse("appointments:slots", args=[desk.public_id])),
        }
        for desk in _desks()
    ]


class SlotsQuery(Schema):
    meeting_point_ids: list[str] = Field(min_length=1, max_length=MAX_IDS)
    start_date: Day
    end_date: Day
    reason: str = Field(pattern=r"^(CNI|PASSPORT|CNI-PASSPORT)$")
    documents_number: int = Field(1, ge=1, le=10)

    @field_validator("end_date")
    @classmethod
    def after_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and end < start:
            raise ValueError("end_date is before start_date")
        if start is not None and (end - start).days >= queries.MAX_SPAN_DAYS:
            raise ValueError(f"at most {queries.MAX_SPAN_DAYS} days at once")
        return end


class TimeSlotOut(Schema):
    datetime: str
    callback_url: str


@router.get("/appointments/ants/availableTimeSlots", response=dict[str, list[TimeSlotOut]])
def available_time_slots(request, filters: Query[SlotsQuery]):
    """Per meeting point asked, its slots with at least `documents_number` places left (one
    place per person), in UTC as the network reads them."""
    answer: dict[str, list[dict]] = {}
    for desk in _desks().filter(public_id__in=filters.meeting_point_ids):
        page = absolute(reverse("appointments:slots", args=[desk.public_id]))
        answer[desk.public_id] = [
            {
                "datetime": slot.starts_at.strftime("%Y-%m-%dT%H:%MZ"),
                "callback_url": f"{page}?du={timezone.localdate(slot.starts_at).isoformat()}",
            }
            for slot in queries.bookable_slots(desk, filters.start_date, filters.end_date)
            if slot.left >= filters.documents_number
        ]
    return answer


class ApplicationIdsQuery(Schema):
    application_ids: list[str] = Field(min_length=1, max_length=MAX_IDS)


class HeldAppointmentOut(Schema):
    meeting_point: str
    datetime: str
    management_url: str
    cancel_url: str


@router.get("/appointments/ants/searchApplicationIds", response=dict[str, list[HeldAppointmentOut]])
def search_application_ids(request, filters: Query[ApplicationIdsQuery]):
    """Per pre-application number asked, the appointments to come booked here with it."""
    numbers = [n.strip().upper() for n in filters.application_ids]
    held = Appointment.objects.filter(
        pre_application_number__in=numbers,
        status=Appointment.Status.BOOKED,
        ends_at__gt=timezone.now(),
    ).select_related("desk", "desk__facility")
    answer: dict[str, list[dict]] = {number: [] for number in numbers}
    for appointment in held:
        desk: Desk = appointment.desk
        link = management_url(appointment)
        answer[appointment.pre_application_number].append(
            {
                "meeting_point": f"{desk.facility.name} — {desk.name}",
                "datetime": appointment.starts_at.strftime("%Y-%m-%dT%H:%MZ"),
                "management_url": link,
                "cancel_url": link,
            }
        )
    return answer
