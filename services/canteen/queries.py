"""Reads of the canteen: the counters, a child's enrolled days, and the parents' pages (the
children at the canteen, a child's month, the diets, the published menus)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from identity.models import Facility, Person, User
from identity.permissions import person_of
from identity.schooling.calendar import school_calendar
from identity.schooling.models import Enrolment, SchoolYear

from . import rules
from .models import Booking, CanteenSite, Diet, Dish, Menu, Service, ServiceDay

DAY_ORDER = (
    Service.Kind.MORNING_CARE,
    Service.Kind.LUNCH,
    Service.Kind.EVENING_CARE,
    Service.Kind.WEDNESDAY_CENTRE,
)


def in_school_day_order(services) -> list[Service]:
    """Services by site, then in the order of a school day (morning care, lunch, evening care,
    then Wednesdays), not alphabetically by their codes."""
    rank = {kind: n for n, kind in enumerate(DAY_ORDER)}
    return sorted(services, key=lambda s: (s.site.name, rank.get(s.kind, len(rank))))


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


def brings_packed_meal(child: Person) -> bool:
    """The child's PAI diet says they bring a packed meal from home (read on every booking)."""
    return Diet.objects.filter(child=child, kind=Diet.Kind.ALLERGY_PAI, packed_meal=True).exists()


def _day(value) -> date:
    """A DATE column read by raw SQL: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def bookings_of(child: Person, service: Service, start: date, end: date) -> QuerySet[Booking]:
    return Booking.objects.filter(child=child, service=service, day__gte=start, day__lte=end)


# --- Parents' pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildAtCanteen:
    """A child in the parent's care, enrolled at a school whose canteen runs services."""

    child: Person
    school_name: str
    services: list[Service]


def children_at_canteen(user: User, on: date) -> list[ChildAtCanteen]:
    """The children `user` is a guardian of, enrolled at a school with a canteen site for a
    school year not over on `on`, with the services of their school's sites. Three queries."""
    own = person_of(user)
    if own is None:
        return []
    enrolments = list(
        Enrolment.objects.filter(
            child__guardians__guardian=own,
            child__guardians__ended_on__isnull=True,
            child__role=Person.Role.CHILD,
            school_year__ends_on__gte=on,
        )
        .select_related("child", "school")
        .order_by("child__birth_date", "child_id", "school_year__starts_on")
    )
    schools = {e.school_id for e in enrolments}
    services = in_school_day_order(
        Service.objects.filter(site__school_id__in=schools).select_related("site")
    )
    found: dict[int, ChildAtCanteen] = {}
    for enrolment in enrolments:
        offered = [s for s in services if s.site.school_id == enrolment.school_id]
        if offered and enrolment.child_id not in found:
            found[enrolment.child_id] = ChildAtCanteen(
                child=enrolment.child, school_name=enrolment.school.name, services=offered
            )
    return list(found.values())


class DayStatus:
    BOOKABLE = "bookable"  # may be booked or cancelled now (until `deadline`)
    LOCKED = "locked"  # after the deadline: as it stands
    PAST = "past"
    NOT_RUN = "not_run"  # the service does not run that weekday
    CLOSED = "closed"  # a closure or a public holiday
    HOLIDAY = "holiday"  # the school holidays, the service not running then
    NOT_ENROLLED = "not_enrolled"


@dataclass(frozen=True)
class CalendarDay:
    day: date
    status: str
    state: str = ""  # the booking's state (Booking.State), "" without one
    reason: str = ""  # the closure's reason, the holidays' name
    deadline: datetime | None = None  # until when it may be changed (bookable days)
    without_booking: bool = False

    @property
    def booked(self) -> bool:
        return self.state == Booking.State.BOOKED


class MonthPages:
    """The months before and after a page's `month` (its first day), for its links."""

    month: date

    @property
    def previous(self) -> date:
        return (self.month - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.month + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class MonthCalendar(MonthPages):
    child: Person
    service: Service
    month: date  # its first day
    weeks: list[list[CalendarDay | None]]  # Monday to Sunday; None outside the month

    @property
    def days(self) -> list[CalendarDay]:
        return [day for week in self.weeks for day in week if day is not None]

    @property
    def offered(self) -> list[date]:
        return [d.day for d in self.days if d.status == DayStatus.BOOKABLE]


def month_calendar(child: Person, service: Service, month: date, now: datetime) -> MonthCalendar:
    """Each day of `month` for `child` at `service`: its status, its booking's state, and for
    a day that may still change, the instant it stops (rules.deadline). A constant number of
    queries (enrolments, the school calendar's three, the bookings), whatever the month."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    school = service.site.school
    enrolled = enrolled_days(child, school.pk, [first + timedelta(days=n) for n in range(last.day)])
    calendar = school_calendar(school, first, last)
    bookings = {
        b.day: b
        for b in Booking.objects.filter(
            child=child, service=service, day__gte=first, day__lte=last
        ).only("day", "state", "without_booking")
    }
    today = timezone.localdate(now, timezone.get_default_timezone())
    cells: list[CalendarDay | None] = [None] * first.weekday()
    for n in range(last.day):
        day = first + timedelta(days=n)
        booking = bookings.get(day)
        state = booking.state if booking else ""
        extra = {"state": state, "without_booking": bool(booking and booking.without_booking)}
        closed = calendar.closures.get(day) or calendar.public.get(day)
        if day < today:
            cell = CalendarDay(day, DayStatus.PAST, **extra)
        elif day.weekday() not in service.runs_on_weekdays:
            cell = CalendarDay(day, DayStatus.NOT_RUN, **extra)
        elif closed:
            cell = CalendarDay(day, DayStatus.CLOSED, reason=closed, **extra)
        elif rules.in_holidays(calendar, day) and not service.runs_in_holidays:
            name = calendar.holiday_name(day) or _("Outside the school year")
            cell = CalendarDay(day, DayStatus.HOLIDAY, reason=name, **extra)
        elif day not in enrolled:
            cell = CalendarDay(day, DayStatus.NOT_ENROLLED, **extra)
        else:
            limit = rules.deadline(service, day, calendar)
            status = DayStatus.BOOKABLE if now <= limit else DayStatus.LOCKED
            cell = CalendarDay(day, status, deadline=limit, **extra)
        cells.append(cell)
    cells += [None] * (-len(cells) % 7)
    weeks = [cells[i : i + 7] for i in range(0, len(cells), 7)]
    return MonthCalendar(child=child, service=service, month=first, weeks=weeks)


def diets_of(child: Person) -> list[Diet]:
    return list(Diet.objects.filter(child=child).select_related("care_plan"))


@dataclass(frozen=True)
class MenuDay:
    day: date
    dishes: list[Dish]


def published_week(site: CanteenSite, monday: date) -> list[MenuDay]:
    """The published menus of `site` for the week starting `monday`, dishes in course order
    (two queries)."""
    menus = (
        Menu.objects.filter(
            site=site,
            published=True,
            day__gte=monday,
            day__lt=monday + timedelta(days=7),
        )
        .prefetch_related("dishes")
        .order_by("day")
    )
    order = {course: n for n, course in enumerate(Dish.Course.values)}
    return [
        MenuDay(menu.day, sorted(menu.dishes.all(), key=lambda d: (order[d.course], d.pk)))
        for menu in menus
    ]


def panel_context(request, person) -> dict:
    """Mon espace: the children at the canteen and a link to each one's month."""
    return {"canteen_children": children_at_canteen(request.user, timezone.localdate())}


# --- Canteen staff ------------------------------------------------------------------------------


def in_class_order(per_class: dict[str, list]) -> list[tuple[str, list]]:
    """A day's children grouped by class, as the kitchen and service lists show them: the
    classes by name, each class's children by name."""
    return [
        (name, sorted(children, key=lambda child: child.name))
        for name, children in sorted(per_class.items())
    ]


def classes_on(child_ids: list[int], day: date) -> dict[int, str | None]:
    """Each child's class on `day` (that of their enrolment in the school year under way;
    None while the head has not made the classes)."""
    return dict(
        Enrolment.objects.filter(
            child_id__in=child_ids,
            school_year__starts_on__lte=day,
            school_year__ends_on__gte=day,
        ).values_list("child_id", "school_class__name")
    )


def counted_first(services: list[Service]) -> Service | None:
    """Of services in a school day's order, the one whose meals a page counts first: the
    lunch (the service the kitchen and the town count meals of), else the first."""
    lunch = next((s for s in services if s.kind == Service.Kind.LUNCH), None)
    return lunch or (services[0] if services else None)


def meals_page_of(school: Facility) -> str | None:
    """The page of the meals counted at a school's canteen, as the attendance page links it;
    None without a service there."""
    services = in_school_day_order(
        Service.objects.filter(site__school=school).select_related("site")
    )
    chosen = counted_first(services)
    if chosen is None:
        return None
    return f"{reverse('canteen:meals')}?{urlencode({'service': chosen.public_id})}"


@dataclass(frozen=True)
class MealDay:
    """A service's day at the canteen, counted: bookings not cancelled (`booked`: those
    served, still booked or absent), meals served on a booking, meals served without one,
    no-shows and cancelled bookings."""

    day: date
    booked: int = 0
    served: int = 0
    without_booking: int = 0
    absent: int = 0
    cancelled: int = 0


@dataclass(frozen=True)
class MealMonth(MonthPages):
    service: Service
    month: date  # its first day
    days: list[MealDay]

    @property
    def total(self) -> MealDay:
        return MealDay(
            day=self.month,
            **{
                name: sum(getattr(d, name) for d in self.days)
                for name in ("booked", "served", "without_booking", "absent", "cancelled")
            },
        )


def meal_month(service: Service, month: date) -> MealMonth:
    """The counts of each day of `month` at `service`: every day it runs on (by weekday),
    and any other day with a meal. One aggregate query (GROUP BY day). Counts, not names: a
    read that needs no audit entry (the kitchen list and the service's list, which name the
    children, are audited)."""
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    state, served = Booking.State, Booking.State.SERVED
    rows = (
        Booking.objects.filter(service=service, day__gte=first, day__lte=last)
        .order_by()
        .values("day")
        .annotate(
            booked=Count(
                "pk",
                filter=Q(state__in=[state.BOOKED, served, state.ABSENT], without_booking=False),
            ),
            served=Count("pk", filter=Q(state=served, without_booking=False)),
            without_booking=Count("pk", filter=Q(state=served, without_booking=True)),
            absent=Count("pk", filter=Q(state=state.ABSENT)),
            cancelled=Count("pk", filter=Q(state=state.CANCELLED)),
        )
    )
    counted = {_day(row.pop("day")): row for row in rows}
    days = []
    for n in range(last.day):
        day = first + timedelta(days=n)
        if day in counted or day.weekday() in service.runs_on_weekdays:
            days.append(MealDay(day, **counted.get(day, {})))
    return MealMonth(service=service, month=first, days=days)
