"""The canteen at service: a child's meal is marked served by the tap of their card at the
canteen's access point (through POST /api/v1/taps and services.catalog's decide, which asks this
gate first at a school's entrance) or by a tick on the service's list on a tablet; both go
through `_serve`, one code path. That day's booking is the entitlement and is marked served; a
child without one is served all the same and the meal is recorded as taken without booking
(billed at the penalty price). A child is never refused a meal. After the service, the bookings
nobody came for are recorded as no-shows (the « Clore le service » button, and the evening's
`canteen_record_no_shows`)."""

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, has_capability
from identity.schooling.calendar import school_calendar
from services.catalog.actions import AccessDecision
from services.catalog.models import AccessPoint

from . import queries, rules
from .models import Booking, Service, ServiceDay
from .words import day_words

SERVED = "served"
ALREADY_SERVED = "already_served"
SERVED_WITHOUT_BOOKING = "served_without_booking"


def _lunch_at(access_point: AccessPoint) -> Service | None:
    return (
        Service.objects.filter(site__school_id=access_point.facility_id, kind=Service.Kind.LUNCH)
        .order_by("pk")
        .first()
    )


def _locked_child(child_id: int) -> dict | None:
    """The child's role and household, their row locked until commit: a tap and a tick for
    the same child at once are served one after the other (a booking that does not exist yet
    cannot be locked, the child's row can; identity.schooling.actions.lock_child)."""
    return (
        Person.objects.select_for_update()
        .filter(pk=child_id)
        .values("role", "household_id")
        .first()
    )


def _booking_of(child_id: int, service: Service, day: date) -> Booking | None:
    """The child's booking of the day, row-locked (a parent cancelling a same-day service
    before its deadline locks it too)."""
    return (
        Booking.objects.select_for_update()
        .filter(child_id=child_id, service=service, day=day)
        .first()
    )


def _serve(*, child_id: int, household_id: int, service: Service, day: date, at: datetime) -> str:
    """Mark the child's meal of `day` served, inside the caller's transaction, after
    `_locked_child`: SERVED (their booking), ALREADY_SERVED, or SERVED_WITHOUT_BOOKING (no
    booking, or a cancelled one: the kitchen's count of the day grows by one)."""
    booking = _booking_of(child_id, service, day)
    if booking is not None and booking.state == Booking.State.SERVED:
        return ALREADY_SERVED
    if booking is not None and booking.state in (Booking.State.BOOKED, Booking.State.ABSENT):
        # A booked child recorded absent who turns up late is served on their booking: its
        # place is still counted.
        Booking.objects.filter(pk=booking.pk).update(state=Booking.State.SERVED, changed_at=at)
        return SERVED
    if booking is None:
        # booked_by stays empty: nobody booked this meal (untick deletes such a row).
        Booking.objects.create(
            child_id=child_id,
            household_id=household_id,
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
    return SERVED_WITHOUT_BOOKING


def serve_at_tap(
    *, holder_id: int, access_point: AccessPoint, at: datetime
) -> AccessDecision | None:
    """Mark the holder's lunch of the day served (decide's transaction). None when the school
    runs no lunch service (the catalogue decides) or the holder is not a child."""
    service = _lunch_at(access_point)
    if service is None:
        return None
    holder = _locked_child(holder_id)
    if holder is None or holder["role"] != Person.Role.CHILD:
        return None
    day = timezone.localdate(at, timezone.get_default_timezone())
    outcome = _serve(
        child_id=holder_id, household_id=holder["household_id"], service=service, day=day, at=at
    )
    return AccessDecision(granted=True, reason=outcome, label=service.get_kind_display())


# --- On the service's list (Agents > Cantine > Service) ----------------------------------------


def _check_staff(actor: User, service: Service) -> None:
    if not has_capability(actor, Capability.VIEW_ATTENDANCE, facility=service.site.school):
        raise Forbidden(_("You cannot record the attendance of this canteen."))


def _check_today(service: Service, day: date) -> None:
    """The list is ticked on the day of the service only, a day the service runs."""
    if day != timezone.localdate():
        raise DomainError(
            _("Meals are marked served on the day of the service only (not %(day)s).")
            % {"day": day_words(day)},
            field="day",
            code="not_today",
        )
    reason = rules.why_not_running(service, day, school_calendar(service.site.school, day, day))
    if reason is not None:
        raise DomainError(
            _("No service on %(day)s: %(reason)s.") % {"day": day_words(day), "reason": reason},
            field="day",
            code="not_running",
        )


def _check_child(service: Service, child: Person, day: date) -> dict:
    """The child locked, who must be a child enrolled at the service's school that day."""
    locked = _locked_child(child.pk)
    if (
        locked is None
        or locked["role"] != Person.Role.CHILD
        or not queries.enrolled_days(child, service.site.school_id, [day])
    ):
        raise DomainError(
            _("%(name)s is not enrolled at this school on %(day)s.")
            % {"name": child.full_name, "day": day_words(day)},
            field="child",
            code="not_enrolled",
        )
    return locked


@transaction.atomic
def serve_child(*, actor: User, service: Service, child: Person, day: date) -> str:
    """Canteen staff tick `child` served on the list (their booking), or serve them without a
    booking (billed at the penalty price): the tap's code path (`_serve`). Returns SERVED,
    ALREADY_SERVED or SERVED_WITHOUT_BOOKING."""
    _check_staff(actor, service)
    _check_today(service, day)
    locked = _check_child(service, child, day)
    outcome = _serve(
        child_id=child.pk,
        household_id=locked["household_id"],
        service=service,
        day=day,
        at=timezone.now(),
    )
    if outcome != ALREADY_SERVED:
        record_audit_entry(
            actor=actor,
            action="canteen.served",
            person=child,
            target=f"{service.public_id}:{day.isoformat()}:{outcome}",
            channel=AuditEntry.Channel.COUNTER,
        )
    return outcome


@transaction.atomic
def unserve_child(*, actor: User, service: Service, child: Person, day: date) -> None:
    """Untick a meal ticked by mistake, the same day: a booked meal is booked again; a meal
    served without booking is undone (a cancelled booking is cancelled again; a meal nobody
    booked leaves no row) and the kitchen's count of the day loses it."""
    _check_staff(actor, service)
    _check_today(service, day)
    _check_child(service, child, day)
    booking = _booking_of(child.pk, service, day)
    if booking is None or booking.state != Booking.State.SERVED:
        raise DomainError(
            _("%(name)s is not marked served today.") % {"name": child.full_name},
            field="child",
            code="not_served",
        )
    now = timezone.now()
    if not booking.without_booking:
        Booking.objects.filter(pk=booking.pk).update(state=Booking.State.BOOKED, changed_at=now)
    else:
        if booking.booked_by_id is None and not booking.prepaid_meals.exists():
            booking.delete()
        else:
            Booking.objects.filter(pk=booking.pk).update(
                state=Booking.State.CANCELLED, without_booking=False, changed_at=now
            )
        ServiceDay.objects.filter(service=service, day=day).update(booked=F("booked") - 1)
    record_audit_entry(
        actor=actor,
        action="canteen.serve_undone",
        person=child,
        target=f"{service.public_id}:{day.isoformat()}",
        channel=AuditEntry.Channel.COUNTER,
    )


@transaction.atomic
def close_service(*, actor: User, service: Service, day: date) -> int:
    """« Clore le service »: once the list is ticked, the day's bookings nobody was served on
    are recorded as no-shows. Returns how many (none more when closed again)."""
    _check_staff(actor, service)
    _check_today(service, day)
    return record_no_shows(actor=actor, service=service, day=day)


@transaction.atomic
def record_no_shows(*, actor: User | None, service: Service, day: date) -> int:
    """After the service: the day's bookings still `booked` become `absent` (billed unless an
    absence is justified). Returns how many. Staff need to see attendance at the school;
    without an actor, the evening's command (`canteen_record_no_shows`)."""
    if actor is not None:
        _check_staff(actor, service)
    absent = Booking.objects.filter(service=service, day=day, state=Booking.State.BOOKED).update(
        state=Booking.State.ABSENT, changed_at=timezone.now()
    )
    record_audit_entry(
        actor=actor,
        action="canteen.no_shows_recorded",
        target=f"{service.public_id}:{day.isoformat()}:{absent}",
        channel=AuditEntry.Channel.SYSTEM if actor is None else AuditEntry.Channel.COUNTER,
    )
    return absent
