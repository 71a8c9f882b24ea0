"""Booking and cancelling canteen and care days.

A request books days one by one (`book_days`: every day must be bookable, or nothing is written)
or by a pattern (`book_pattern`: the days it meets that cannot be booked are skipped and listed,
the others booked). Both take an idempotency key: the same request sent again returns the first
answer. Capacity is held by one counter row per service and day (ServiceDay), row-locked in day
order for the request's transaction: two parents booking the last place at once get one place
and one refusal (tests/services/canteen/test_concurrency.py). The number of SQL statements of a
request does not grow with its number of days."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Person, User
from identity.permissions import can_act_for
from identity.schooling.calendar import SchoolCalendar, school_calendar

from . import prepayment, queries, rules
from .models import Booking, BookingRequest, Service, ServiceDay

# A pattern (or a list of days) spans at most this many days: a slip of the year is refused.
MAX_SPAN_DAYS = 400


@dataclass
class BookingAnswer:
    """What a booking request did: the days booked (already booked ones included) and the
    days skipped with the reason, in French words ready to show."""

    booked: list[date] = field(default_factory=list)
    skipped: list[tuple[date, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "booked": [day.isoformat() for day in self.booked],
            "skipped": [{"day": day.isoformat(), "reason": reason} for day, reason in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "BookingAnswer":
        return cls(
            booked=[date.fromisoformat(day) for day in data["booked"]],
            skipped=[(date.fromisoformat(s["day"]), s["reason"]) for s in data["skipped"]],
        )


def _day_words(day: date) -> str:
    return formats.date_format(day, "l j F Y")


def why_not_bookable(
    service: Service, day: date, calendar: SchoolCalendar, now: datetime
) -> str | None:
    """Why `day` of `service` cannot be booked now (None: it can), in words."""
    if day < timezone.localdate(now, timezone.get_default_timezone()):
        return _("the day is past")
    if day.weekday() not in service.runs_on_weekdays:
        return _("the service does not run that day of the week")
    closed = calendar.closures.get(day) or calendar.public.get(day)
    if closed:
        return _("closed (%(reason)s)") % {"reason": closed}
    if rules.in_holidays(calendar, day) and not service.runs_in_holidays:
        return _("school holidays (%(name)s)") % {
            "name": calendar.holiday_name(day) or _("outside the school year")
        }
    if not rules.is_open(service, day, calendar, now):
        limit = rules.deadline(service, day, calendar)
        return _("bookings closed on %(when)s") % {
            "when": formats.date_format(timezone.localtime(limit), "l j F Y à H:i:s")
        }
    return None


def _check_request(actor: User, child: Person, service: Service) -> None:
    if child.role != Person.Role.CHILD or not can_act_for(actor, child):
        raise Forbidden(_("You do not book for this child."))


def _claim_key(actor: User, key: str) -> BookingAnswer | None:
    """Claim the idempotency key for this transaction; the first answer if it was used. A
    second request with the key waits on the key's unique index until the first commits."""
    if not key or len(key) > 80:
        raise DomainError(_("Each request carries a key of 1 to 80 characters."), field="key")
    table = BookingRequest._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, user_id, answer, at) VALUES (%s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [key, actor.pk, "null", timezone.now()],
        )
        claimed = cursor.fetchone() is not None
    if claimed:
        return None
    answer = BookingRequest.objects.get(user=actor, key=key).answer
    if answer is None:
        raise Conflict(_("This request is being handled: try again."), code="in_progress")
    return BookingAnswer.from_dict(answer)


def _lock_days(service: Service, days: list[date]) -> None:
    """Create the days' counters if needed and row-lock them, in day order (no deadlock between
    two requests over overlapping days)."""
    ServiceDay.objects.bulk_create(
        [ServiceDay(service=service, day=day) for day in days], ignore_conflicts=True
    )
    list(
        ServiceDay.objects.select_for_update()
        .filter(service=service, day__in=days)
        .order_by("day")
        .values_list("pk")
    )


def _book(
    *,
    actor: User,
    child: Person,
    service: Service,
    days: list[date],
    skipped: list[tuple[date, str]],
    key: str,
    strict: bool,
) -> BookingAnswer:
    site = service.site
    wanted = sorted(set(days))
    enrolled = queries.enrolled_days(child, site.school_id, wanted)
    for day in wanted:
        if day not in enrolled:
            reason = _("the child is not enrolled at this school that day")
            if strict:
                raise DomainError(f"{_day_words(day)}: {reason}", field="days", code="not_enrolled")
            skipped.append((day, reason))
    wanted = [day for day in wanted if day in enrolled]
    existing = {
        b.day: b
        for b in Booking.objects.filter(child=child, service=service, day__in=wanted).only(
            "pk", "day", "state"
        )
    }
    new_days = [d for d in wanted if d not in existing or existing[d].state == "cancelled"]
    if new_days:
        _lock_days(service, new_days)
        taken = queries.places_taken(service, new_days)
        full = [day for day in new_days if taken.get(day, 0) >= service.capacity]
        if full and strict:
            raise DomainError(
                _("%(day)s: no place left.") % {"day": _day_words(full[0])},
                field="days",
                code="full",
            )
        skipped.extend((day, _("no place left")) for day in full)
        new_days = [day for day in new_days if day not in full]
    now = timezone.now()
    again = [existing[d].pk for d in new_days if d in existing]
    if again:
        Booking.objects.filter(pk__in=again).update(
            state=Booking.State.BOOKED, changed_at=now, booked_by=actor
        )
    Booking.objects.bulk_create(
        [
            Booking(
                child=child,
                household_id=child.household_id,
                service=service,
                day=day,
                booked_by=actor,
                booked_at=now,
                changed_at=now,
            )
            for day in new_days
            if day not in existing
        ]
    )
    if new_days:
        ServiceDay.objects.filter(service=service, day__in=new_days).update(booked=F("booked") + 1)
    answer = BookingAnswer(
        booked=sorted(
            {*new_days, *(d for d, b in existing.items() if b.state != Booking.State.CANCELLED)}
        ),
        skipped=sorted(skipped),
    )
    if service.prepaid and new_days:
        prepayment.charge(actor=actor, child=child, service=service, days=new_days, key=key)
    record_audit_entry(
        actor=actor,
        action="canteen.booked",
        person=child,
        target=f"{service.public_id}:{len(new_days)}",
    )
    BookingRequest.objects.filter(user=actor, key=key).update(answer=answer.as_dict())
    return answer


def _span_check(start: date, end: date) -> None:
    if end < start:
        raise DomainError(_("The last day comes before the first."), field="until")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise DomainError(
            _("A booking spans at most %(days)s days.") % {"days": MAX_SPAN_DAYS},
            field="until",
            code="too_long",
        )


@transaction.atomic
def book_days(
    *, actor: User, child: Person, service: Service, days: list[date], key: str
) -> BookingAnswer:
    """Book `child` for each of `days` at `service`: all of them, or none with the reason of
    the first day that cannot be booked (field "days")."""
    _check_request(actor, child, service)
    if not days:
        raise DomainError(_("Choose at least one day."), field="days")
    _span_check(min(days), max(days))
    first = _claim_key(actor, key)
    if first is not None:
        return first
    now = timezone.now()
    calendar = school_calendar(service.site.school, min(days), max(days))
    for day in sorted(set(days)):
        reason = why_not_bookable(service, day, calendar, now)
        if reason is not None:
            raise DomainError(f"{_day_words(day)}: {reason}", field="days", code="not_bookable")
    return _book(
        actor=actor, child=child, service=service, days=days, skipped=[], key=key, strict=True
    )


@transaction.atomic
def book_pattern(
    *,
    actor: User,
    child: Person,
    service: Service,
    weekdays: list[int],
    start: date,
    until: date,
    every_weeks: int = 1,
    key: str,
) -> BookingAnswer:
    """Book `child` on `weekdays` (0 = Monday) every `every_weeks` weeks from `start` to
    `until` included ("Monday, Tuesday, Thursday every week until the summer", "every other
    Wednesday"): the days that cannot be booked (a holiday, a closure, after the deadline, no
    place left) are skipped and listed with their reason, the others booked."""
    _check_request(actor, child, service)
    if not weekdays or any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        raise DomainError(_("Choose days of the week."), field="weekdays")
    not_run = sorted(set(weekdays) - service.runs_on_weekdays)
    if not_run:
        raise DomainError(
            _("The service does not run on %(day)s.")
            % {
                "day": formats.date_format(
                    start + timedelta((not_run[0] - start.weekday()) % 7), "l"
                )
            },
            field="weekdays",
            code="not_run",
        )
    if every_weeks not in (1, 2, 3, 4):
        raise DomainError(_("Every 1 to 4 weeks."), field="every_weeks")
    _span_check(start, until)
    first = _claim_key(actor, key)
    if first is not None:
        return first
    now = timezone.now()
    calendar = school_calendar(service.site.school, start, until)
    first_monday = start - timedelta(days=start.weekday())
    days, skipped = [], []
    day = start
    while day <= until:
        week = (day - first_monday).days // 7
        if day.weekday() in weekdays and week % every_weeks == 0:
            reason = why_not_bookable(service, day, calendar, now)
            if reason is None:
                days.append(day)
            else:
                skipped.append((day, reason))
        day += timedelta(days=1)
    return _book(
        actor=actor,
        child=child,
        service=service,
        days=days,
        skipped=skipped,
        key=key,
        strict=False,
    )


@transaction.atomic
def cancel_days(*, actor: User, child: Person, service: Service, days: list[date]) -> int:
    """Cancel `child`'s bookings of `days` before their deadline: all of them, or none with the
    reason (a day not booked, a day past its deadline). Returns how many were cancelled."""
    _check_request(actor, child, service)
    if not days:
        raise DomainError(_("Choose at least one day."), field="days")
    _span_check(min(days), max(days))
    wanted = sorted(set(days))
    now = timezone.now()
    calendar = school_calendar(service.site.school, wanted[0], wanted[-1])
    bookings = list(
        Booking.objects.select_for_update()
        .filter(child=child, service=service, day__in=wanted, state=Booking.State.BOOKED)
        .order_by("day")
    )
    booked = {b.day for b in bookings}
    for day in wanted:
        if day not in booked:
            raise DomainError(_("%(day)s is not booked.") % {"day": _day_words(day)}, field="days")
        if not rules.is_open(service, day, calendar, now):
            raise DomainError(
                _("%(day)s can no longer be cancelled: justify the absence instead.")
                % {"day": _day_words(day)},
                field="days",
                code="deadline_passed",
            )
    _lock_days(service, wanted)
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        state=Booking.State.CANCELLED, changed_at=now
    )
    ServiceDay.objects.filter(service=service, day__in=wanted).update(booked=F("booked") - 1)
    if service.prepaid:
        prepayment.refund(bookings)
    record_audit_entry(
        actor=actor,
        action="canteen.cancelled",
        person=child,
        target=f"{service.public_id}:{len(wanted)}",
    )
    return len(wanted)
