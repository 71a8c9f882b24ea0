"""The tap at the canteen's access point (through POST /api/v1/taps and services.catalog's
decide, which asks this gate first at a school's entrance): that day's booking is the
entitlement and is marked served; a child without one is served all the same and the meal is
recorded as taken without booking (billed at the penalty price). A child is never refused a
meal. After the service, the bookings nobody came for are recorded as no-shows."""

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, has_capability
from services.catalog.actions import AccessDecision
from services.catalog.models import AccessPoint

from .models import Booking, Service, ServiceDay


def _lunch_at(access_point: AccessPoint) -> Service | None:
    return (
        Service.objects.filter(site__school_id=access_point.facility_id, kind=Service.Kind.LUNCH)
        .order_by("pk")
        .first()
    )


def serve_at_tap(
    *, holder_id: int, access_point: AccessPoint, at: datetime
) -> AccessDecision | None:
    """Mark the holder's lunch of the day served (decide's transaction). None when the school
    runs no lunch service (the catalogue decides) or the holder is not a child."""
    service = _lunch_at(access_point)
    if service is None:
        return None
    holder = Person.objects.filter(pk=holder_id).values("role", "household_id").first()
    if holder is None or holder["role"] != Person.Role.CHILD:
        return None
    day = timezone.localdate(at, timezone.get_default_timezone())
    booking = (
        Booking.objects.select_for_update()
        .filter(child_id=holder_id, service=service, day=day)
        .first()
    )
    label = service.get_kind_display()
    if booking is not None and booking.state == Booking.State.SERVED:
        return AccessDecision(granted=True, reason="already_served", label=label)
    if booking is not None and booking.state == Booking.State.BOOKED:
        Booking.objects.filter(pk=booking.pk).update(state=Booking.State.SERVED, changed_at=at)
        return AccessDecision(granted=True, reason="served", label=label)
    # No booking (or a cancelled one): served all the same, at the penalty price.
    if booking is None:
        Booking.objects.create(
            child_id=holder_id,
            household_id=holder["household_id"],
            service=service,
            day=day,
            state=Booking.State.SERVED,
            without_booking=True,
            booked_at=at,
            changed_at=at,
        )
    else:
        Booking.objects.filter(pk=booking.pk).update(
            state=Booking.State.SERVED, without_booking=True, changed_at=at
        )
    counted = ServiceDay.objects.filter(service=service, day=day).update(booked=F("booked") + 1)
    if not counted:
        ServiceDay.objects.create(service=service, day=day, booked=1)
    return AccessDecision(granted=True, reason="served_without_booking", label=label)


@transaction.atomic
def record_no_shows(*, actor: User | None, service: Service, day: date) -> int:
    """After the service: the day's bookings still `booked` become `absent` (billed unless an
    absence is justified). Returns how many. Staff need to see attendance at the school."""
    if actor is not None and not has_capability(
        actor, Capability.VIEW_ATTENDANCE, facility=service.site.school
    ):
        raise Forbidden(_("You cannot record the attendance of this canteen."))
    absent = Booking.objects.filter(service=service, day=day, state=Booking.State.BOOKED).update(
        state=Booking.State.ABSENT, changed_at=timezone.now()
    )
    record_audit_entry(
        actor=actor,
        action="canteen.no_shows_recorded",
        target=f"{service.public_id}:{day.isoformat()}:{absent}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    return absent
