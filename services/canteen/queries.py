"""Reads of the canteen."""

from datetime import date

from django.db.models import QuerySet

from identity.models import Person
from identity.schooling.models import Enrolment

from .models import Booking, Service, ServiceDay


def places_taken(service: Service, days: list[date]) -> dict[date, int]:
    """Places booked per day, as the counters say (read after they are locked)."""
    return dict(
        ServiceDay.objects.filter(service=service, day__in=days).values_list("day", "booked")
    )


def enrolled_days(child: Person, school_id: int, days: list[date]) -> set[date]:
    """The days of `days` on which `child` is enrolled at the school (a school year holding
    the day)."""
    if not days:
        return set()
    years = list(
        Enrolment.objects.filter(
            child=child,
            school_id=school_id,
            school_year__starts_on__lte=max(days),
            school_year__ends_on__gte=min(days),
        ).values_list("school_year__starts_on", "school_year__ends_on")
    )
    return {day for day in days if any(start <= day <= end for start, end in years)}


def bookings_of(child: Person, service: Service, start: date, end: date) -> QuerySet[Booking]:
    return Booking.objects.filter(child=child, service=service, day__gte=start, day__lte=end)
