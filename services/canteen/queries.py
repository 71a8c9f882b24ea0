"""Reads of the canteen."""

from datetime import date, timedelta

from django.db.models import OuterRef, QuerySet, Subquery

from identity.models import Person
from identity.schooling.models import Enrolment, SchoolYear

from .models import Booking, Service, ServiceDay


def places_taken(
    service: Service, days: list[date], *, for_update: bool = False
) -> dict[date, int]:
    """Places booked per day, as the counters say. `for_update`: the counters are row-locked
    for the transaction in day order (no deadlock between two requests over overlapping days),
    in the same statement that reads them."""
    counters = ServiceDay.objects.filter(service=service, day__in=days)
    if for_update:
        counters = counters.select_for_update().order_by("day")
    return dict(counters.values_list("day", "booked"))


def enrolled_days(child: Person, school_id: int, days: list[date]) -> set[date]:
    """The days of `days` on which `child` is enrolled at the school.

    An enrolment is for a school year, and it counts until the next school year starts: the
    summer holidays (July, August) belong to the school year that ends, so a child of the
    leisure centre or the holiday care is booked there as in the other holidays. When the next
    school year is not set up yet, it counts until 31 August after its last day of classes."""
    if not days:
        return set()
    next_start = (
        SchoolYear.objects.filter(starts_on__gt=OuterRef("school_year__starts_on"))
        .order_by("starts_on")
        .values("starts_on")[:1]
    )
    years = (
        Enrolment.objects.filter(
            child=child, school_id=school_id, school_year__starts_on__lte=max(days)
        )
        .annotate(next_start=Subquery(next_start))
        .values_list("school_year__starts_on", "school_year__ends_on", "next_start")
    )
    spans = []
    for start, ends_on, following in years:
        until = following - timedelta(days=1) if following else date(ends_on.year, 8, 31)
        spans.append((start, max(until, ends_on)))
    return {day for day in days if any(start <= day <= end for start, end in spans)}


def bookings_of(child: Person, service: Service, start: date, end: date) -> QuerySet[Booking]:
    return Booking.objects.filter(child=child, service=service, day__gte=start, day__lte=end)
