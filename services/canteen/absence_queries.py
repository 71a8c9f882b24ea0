"""Reads of justified absences: the days a guardian may still justify, their reports, and the
clerks' queue."""

from datetime import timedelta

from django.utils import timezone

from documents_vault.models import Share
from identity.models import Person, User
from identity.permissions import person_of
from identity.schooling.calendar import school_calendar

from . import rules
from .absences import FILE_KIND
from .models import AbsenceReport, Booking

REPORTABLE = (Booking.State.BOOKED, Booking.State.ABSENT)
# How far back a day can be justified: the month before, until its invoice is settled.
LOOK_BACK = timedelta(days=45)


def children_in_care(user: User) -> list[Person]:
    own = person_of(user)
    if own is None:
        return []
    return list(Person.objects.filter(guardians__guardian=own).order_by("birth_date", "pk"))


def justifiable_days(user: User) -> list[Booking]:
    """The children's booked days whose deadline has passed (cancelling is over), from 45 days
    back to today, not yet reported."""
    now = timezone.now()
    today = timezone.localdate(now)
    bookings = (
        Booking.objects.filter(
            child__in=children_in_care(user),
            state__in=REPORTABLE,
            without_booking=False,
            day__gte=today - LOOK_BACK,
            day__lte=today + timedelta(days=1),
            absence_report__isnull=True,
        )
        .select_related("child", "service__site__school")
        .order_by("day", "child_id")
    )
    calendars: dict[int, object] = {}
    found = []
    for booking in bookings:
        school = booking.service.site.school
        calendar = calendars.setdefault(
            school.pk, school_calendar(school, today - LOOK_BACK, today + timedelta(days=1))
        )
        if now >= rules.deadline(booking.service, booking.day, calendar):
            found.append(booking)
    return found


def reports_of(user: User) -> list[AbsenceReport]:
    return list(
        AbsenceReport.objects.filter(booking__child__in=children_in_care(user))
        .select_related("booking__child", "booking__service__site")
        .order_by("-reported_at", "-pk")[:50]
    )


def pending_reports() -> list[AbsenceReport]:
    return list(
        AbsenceReport.objects.filter(state=AbsenceReport.State.PENDING)
        .select_related("booking__child", "booking__service__site", "document")
        .order_by("reported_at", "pk")
    )


# How long the queue keeps showing what was decided: the clerk who answers a parent's call.
DECIDED_SHOWN = timedelta(days=30)


def recent_decisions() -> list[AbsenceReport]:
    """The reports decided in the last 30 days, the latest first (the queue's record of what
    each clerk decided, and of the credit notes it made)."""
    return list(
        AbsenceReport.objects.filter(decided_at__gte=timezone.now() - DECIDED_SHOWN)
        .exclude(state=AbsenceReport.State.PENDING)
        .select_related("booking__child", "booking__service__site", "decided_by")
        .order_by("-decided_at", "-pk")
    )


def open_shares(reports) -> dict[str, str]:
    """The open share of each report's certificate (its public id, for the clerk's link), by
    the report's public id."""
    return dict(
        Share.objects.filter(
            target_kind=FILE_KIND,
            target_id__in=[report.public_id for report in reports],
            closed_at__isnull=True,
        ).values_list("target_id", "public_id")
    )
