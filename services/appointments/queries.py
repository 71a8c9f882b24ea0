"""Reads of the appointments: a desk's slots (computed in Europe/Paris, right across the
daylight-saving changes), the places left in each, a household's appointments, a desk's day,
no-show statistics."""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from identity.models import Facility, Person, User
from identity.permissions import Capability, active_roles, has_capability
from services.catalog.queries import people_acted_for

from .models import Appointment, Desk, DeskDay, SlotBlock

LIVE = (Appointment.Status.BOOKED, Appointment.Status.ARRIVED, Appointment.Status.NO_SHOW)
# The longest span one listing of slots covers (a page, an API call).
MAX_SPAN_DAYS = 62


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    places: int  # the desk's stations
    taken: int = 0  # appointments and blocks

    @property
    def left(self) -> int:
        return max(self.places - self.taken, 0)


def _local_instant(day: date, at: time) -> datetime | None:
    """`day` at the wall-clock time `at` in the default time zone, in UTC; None for a time
    the clocks skip (02:00–03:00 on the last Sunday of March). A time the clocks pass twice
    (the last Sunday of October) is its first occurrence."""
    zone = timezone.get_default_timezone()
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def windows_of(desk: Desk, day: date, *, patterns=None, exceptions=None) -> list[tuple[time, time]]:
    """The desk's opening windows on `day` (local wall-clock times): none on a closed day,
    else its weekday's patterns and the day's exceptional openings."""
    if exceptions is None:
        exceptions = list(desk.exceptions.filter(day=day))
    if patterns is None:
        patterns = list(desk.patterns.all())
    todays = [e for e in exceptions if e.day == day]
    if any(e.kind == DeskDay.Kind.CLOSED for e in todays):
        return []
    windows = [(p.starts, p.ends) for p in patterns if p.weekday == day.weekday()]
    windows += [(e.starts, e.ends) for e in todays if e.kind == DeskDay.Kind.OPEN]
    return sorted(set(windows))


def _slot_starts(desk: Desk, day: date, windows) -> list[datetime]:
    """Every slot start of the day's windows, stepping in wall-clock minutes: a 09:00–12:00
    window gives 09:00, 09:15… local time whatever the UTC offset that day."""
    step = desk.slot_minutes
    starts: set[datetime] = set()
    for begin, end in windows:
        minute = begin.hour * 60 + begin.minute
        last = end.hour * 60 + end.minute - step
        while minute <= last:
            instant = _local_instant(day, time(minute // 60, minute % 60))
            if instant is not None:
                starts.add(instant)
            minute += step
    return sorted(starts)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def slots_of(desk: Desk, first: date, last: date) -> list[Slot]:
    """The desk's slots from `first` to `last` (local days, both included), with the places
    taken in each (live appointments and blocks). Past slots and the booking window are the
    caller's (bookable_slots)."""
    patterns = list(desk.patterns.all())
    exceptions = list(desk.exceptions.filter(day__gte=first, day__lte=last))
    starts = [
        start
        for day in days_between(first, last)
        for start in _slot_starts(
            desk, day, windows_of(desk, day, patterns=patterns, exceptions=exceptions)
        )
    ]
    if not starts:
        return []
    taken = _taken_at(desk, starts[0], starts[-1])
    length = timedelta(minutes=desk.slot_minutes)
    return [Slot(s, s + length, desk.stations, taken.get(s, 0)) for s in starts]


def _taken_at(desk: Desk, first: datetime, last: datetime) -> Counter:
    taken: Counter = Counter()
    for start in Appointment.objects.filter(
        desk=desk, status__in=LIVE, starts_at__gte=first, starts_at__lte=last
    ).values_list("starts_at", flat=True):
        taken[start] += 1
    for start in SlotBlock.objects.filter(
        desk=desk, starts_at__gte=first, starts_at__lte=last
    ).values_list("starts_at", flat=True):
        taken[start] += 1
    return taken


def places_taken(desk: Desk, starts_at: datetime, *, excluding: int | None = None) -> int:
    """Live appointments and blocks at this slot of the desk (the read a booking rests on)."""
    appointments = Appointment.objects.filter(desk=desk, starts_at=starts_at, status__in=LIVE)
    if excluding is not None:
        appointments = appointments.exclude(pk=excluding)
    return appointments.count() + SlotBlock.objects.filter(desk=desk, starts_at=starts_at).count()


def booking_window(desk: Desk, *, now: datetime, staff: bool = False) -> tuple[datetime, datetime]:
    """The earliest and latest start one may book now: staff at the counter book up to the
    slot's start; residents online up to the desk's notice."""
    earliest = now if staff else now + timedelta(minutes=desk.min_notice_minutes)
    latest_day = timezone.localdate(now) + timedelta(days=desk.book_ahead_days)
    latest = _local_instant(latest_day, time(23, 59)) or now
    return earliest, latest


def bookable_slots(
    desk: Desk, first: date, last: date, *, now: datetime | None = None, staff: bool = False
) -> list[Slot]:
    """The slots one may book now, with a place left."""
    now = now or timezone.now()
    earliest, latest = booking_window(desk, now=now, staff=staff)
    return [
        slot
        for slot in slots_of(desk, first, last)
        if slot.left > 0 and earliest <= slot.starts_at <= latest
    ]


def slot_at(desk: Desk, starts_at: datetime) -> Slot | None:
    """The desk's slot starting at this instant, if there is one."""
    day = timezone.localdate(starts_at)
    return next((s for s in slots_of(desk, day, day) if s.starts_at == starts_at), None)


def open_desks():
    return Desk.objects.filter(active=True).select_related("facility", "facility__commune")


def upcoming_of(user: User, person: Person, *, now: datetime | None = None) -> list[Appointment]:
    """The booked appointments to come of the people this resident acts for."""
    now = now or timezone.now()
    people = people_acted_for(user, person)
    return list(
        Appointment.objects.filter(
            person__in=people, status=Appointment.Status.BOOKED, ends_at__gt=now
        ).select_related("desk", "desk__facility", "person")
    )


def live_for(person: Person, desk: Desk, *, now: datetime) -> Appointment | None:
    """The person's booked appointment to come at this desk, if any."""
    return Appointment.objects.filter(
        person=person, desk=desk, status=Appointment.Status.BOOKED, ends_at__gt=now
    ).first()


def panel_context(request, person: Person) -> dict:
    """Mon espace > My bookings: the household's appointments to come."""
    return {"appointments": upcoming_of(request.user, person)}


# --- Staff -----------------------------------------------------------------------------------


def staff_desks(user: User) -> list[Desk]:
    """The desks whose appointments this staff member handles: at the facility of a role that
    may, every desk for a town-wide one."""
    facilities: set[int] = set()
    town_wide = False
    for grant in active_roles(user):
        facility = Facility(pk=grant.facility_id) if grant.facility_id else None
        if not has_capability(user, Capability.HANDLE_APPOINTMENTS, facility=facility):
            continue
        if grant.facility_id is None:
            town_wide = True
        else:
            facilities.add(grant.facility_id)
    desks = Desk.objects.select_related("facility")
    if not town_wide:
        desks = desks.filter(facility_id__in=facilities)
    return list(desks)


def may_handle(user: User, desk: Desk) -> bool:
    return has_capability(user, Capability.HANDLE_APPOINTMENTS, facility=desk.facility)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the end of `last`, local days, as instants."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def agenda(desk: Desk, first: date, last: date) -> list[Appointment]:
    """The desk's appointments (cancelled ones aside) from `first` to `last`."""
    start, end = day_bounds(first, last)
    return list(
        Appointment.objects.filter(
            desk=desk, starts_at__gte=start, starts_at__lt=end, status__in=LIVE
        ).select_related("person")
    )


def blocks(desk: Desk, first: date, last: date) -> list[SlotBlock]:
    start, end = day_bounds(first, last)
    return list(SlotBlock.objects.filter(desk=desk, starts_at__gte=start, starts_at__lt=end))


@dataclass(frozen=True)
class NoShowStats:
    desk: Desk
    held: int  # arrived + no-show
    no_shows: int

    @property
    def rate(self) -> float:
        return self.no_shows / self.held if self.held else 0.0


def no_show_stats(desks: list[Desk], *, since: date, until: date) -> list[NoShowStats]:
    """Per desk, the appointments past and marked between the two days, and the no-shows."""
    start, end = day_bounds(since, until)
    rows = {
        row["desk"]: row
        for row in Appointment.objects.filter(
            desk__in=desks, starts_at__gte=start, starts_at__lt=end
        )
        .values("desk")
        .annotate(
            held=Count("pk", filter=Q(status__in=["arrived", "no_show"])),
            no_shows=Count("pk", filter=Q(status="no_show")),
        )
    }
    return [
        NoShowStats(
            desk, rows.get(desk.pk, {}).get("held", 0), rows.get(desk.pk, {}).get("no_shows", 0)
        )
        for desk in desks
    ]


def due_reminders(*, now: datetime) -> list[int]:
    """The booked appointments of tomorrow (local day) not reminded yet."""
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    start, end = day_bounds(tomorrow, tomorrow)
    return list(
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            starts_at__gte=start,
            starts_at__lt=end,
            reminded_at__isnull=True,
        ).values_list("pk", flat=True)
    )
