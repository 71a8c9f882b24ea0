"""Reads of the canteen."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import QuerySet

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
    enrolments, years = Enrolment._meta.db_table, SchoolYear._meta.db_table
    # Written as SQL: read on every booking, and the ORM's subquery cost more to build than
    # to run.
    sql = (
        f"SELECT y.starts_on, y.ends_on, (SELECT MIN(n.starts_on) FROM {years} n "  # noqa: S608
        "WHERE n.starts_on > y.starts_on) "
        f"FROM {enrolments} e JOIN {years} y ON y.id = e.school_year_id "
        "WHERE e.child_id = %s AND e.school_id = %s AND y.starts_on <= %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [child.pk, school_id, connection.ops.adapt_datefield_value(max(days))])
        rows = cursor.fetchall()
    spans = []
    for start, ends_on, following in rows:
        start, ends_on = _day(start), _day(ends_on)
        until = _day(following) - timedelta(days=1) if following else date(ends_on.year, 8, 31)
        spans.append((start, max(until, ends_on)))
    return {day for day in days if any(start <= day <= end for start, end in spans)}


@dataclass(frozen=True)
class DayBooked:
    pk: int
    day: date
    state: str


def bookings_on(child: Person, service: Service, days: list[date]) -> dict[date, DayBooked]:
    """The child's bookings of the service on `days`, whatever their state, by day (written as
    SQL: read on every booking)."""
    if not days:
        return {}
    sql = (
        f"SELECT id, day, state FROM {Booking._meta.db_table} "  # noqa: S608
        "WHERE child_id = %s AND service_id = %s AND day >= %s AND day <= %s"
    )
    first, last = (connection.ops.adapt_datefield_value(d) for d in (min(days), max(days)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [child.pk, service.pk, first, last])
        rows = cursor.fetchall()
    wanted = set(days)
    found = (DayBooked(pk, _day(day), state) for pk, day, state in rows)
    return {booked.day: booked for booked in found if booked.day in wanted}


def _day(value) -> date:
    """A DATE column read by raw SQL: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def bookings_of(child: Person, service: Service, start: date, end: date) -> QuerySet[Booking]:
    return Booking.objects.filter(child=child, service=service, day__gte=start, day__lte=end)
