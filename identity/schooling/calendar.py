"""The school calendar of the territory: which days are school days, and why the others are not.

Public holidays are computed (Easter Sunday by the Gregorian computus, then Easter Monday,
Ascension and Whit Monday from it); school holidays and closures are the town's data."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection
from django.utils.translation import gettext as _

from identity.models import Facility

from .models import SchoolClosure, SchoolHoliday, SchoolYear


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int) -> dict[date, str]:
    """France's eleven public holidays of a year (Alsace-Moselle's two more are not counted)."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): _("New Year's Day"),
        easter + timedelta(days=1): _("Easter Monday"),
        date(year, 5, 1): _("Labour Day"),
        date(year, 5, 8): _("Victory in Europe Day"),
        easter + timedelta(days=39): _("Ascension Day"),
        easter + timedelta(days=50): _("Whit Monday"),
        date(year, 7, 14): _("Bastille Day"),
        date(year, 8, 15): _("Assumption Day"),
        date(year, 11, 1): _("All Saints' Day"),
        date(year, 11, 11): _("Armistice Day"),
        date(year, 12, 25): _("Christmas Day"),
    }


def is_working_day(day: date) -> bool:
    """Monday to Friday, not a public holiday."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


@dataclass
class SchoolCalendar:
    """The calendar of one school over a period, read once: `no_school(day)` says why a day
    has no classes (a public holiday, the school holidays, a closure), None on a school day."""

    start: date
    end: date
    years: list[tuple[date, date]] = field(default_factory=list)
    holidays: list[tuple[date, date, str]] = field(default_factory=list)
    closures: dict[date, str] = field(default_factory=dict)
    public: dict[date, str] = field(default_factory=dict)

    def in_school_year(self, day: date) -> bool:
        return any(start <= day <= end for start, end in self.years)

    def holiday_name(self, day: date) -> str | None:
        return next((name for s, e, name in self.holidays if s <= day < e), None)

    def no_school(self, day: date) -> str | None:
        if day in self.closures:
            return self.closures[day]
        if day in self.public:
            return self.public[day]
        name = self.holiday_name(day)
        if name is not None:
            return name
        if not self.in_school_year(day):
            return _("Outside the school year")
        return None


def _day(value) -> date:
    """A DATE column read by raw SQL: a date on PostgreSQL, ISO text on SQLite."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def school_calendar(school: Facility | None, start: date, end: date) -> SchoolCalendar:
    """The calendar of `school` (None: the territory's) from `start` to `end` included, in one
    query whatever the length of the period: the school years, holidays and closures that meet
    it, as one UNION ALL written as SQL (a canteen booking reads it on every request, and
    building the ORM's three querysets cost more than running them)."""
    calendar = SchoolCalendar(start=start, end=end)
    years = SchoolYear._meta.db_table
    holidays = SchoolHoliday._meta.db_table
    closures = SchoolClosure._meta.db_table
    sql = (
        f"SELECT 'year', starts_on, ends_on, '' FROM {years} "  # noqa: S608 - table names
        "WHERE starts_on <= %s AND ends_on >= %s "
        f"UNION ALL SELECT 'holiday', starts_on, classes_resume_on, name FROM {holidays} "
        "WHERE starts_on <= %s AND classes_resume_on > %s "
        f"UNION ALL SELECT 'closure', day, day, reason FROM {closures} "
        "WHERE day >= %s AND day <= %s AND (school_id IS NULL OR school_id = %s)"
    )
    first, last = (connection.ops.adapt_datefield_value(day) for day in (start, end))
    school_id = school.pk if school is not None else None
    with connection.cursor() as cursor:
        cursor.execute(sql, [last, first, last, first, first, last, school_id])
        rows = cursor.fetchall()
    for kind, begins, ends, label in rows:
        if kind == "year":
            calendar.years.append((_day(begins), _day(ends)))
        elif kind == "holiday":
            calendar.holidays.append((_day(begins), _day(ends), label))
        else:
            calendar.closures[_day(begins)] = label
    calendar.holidays.sort()
    for year in range(start.year, end.year + 1):
        calendar.public.update(public_holidays(year))
    return calendar


def holiday_periods() -> list[tuple[date, date]]:
    """Every school holiday of the territory as (first day, day classes resume), the summers
    included: from the day after a school year's last day of classes to the first day of the
    next school year set up. The one table of school holidays (services read it from here)."""
    periods = list(SchoolHoliday.objects.values_list("starts_on", "classes_resume_on"))
    years = list(SchoolYear.objects.order_by("starts_on").values_list("starts_on", "ends_on"))
    for (_start, ends_on), (next_start, _end) in zip(years, years[1:], strict=False):
        if next_start > ends_on + timedelta(days=1):
            periods.append((ends_on + timedelta(days=1), next_start))
    return sorted(periods)


def school_year_on(day: date) -> SchoolYear | None:
    """The school year a day belongs to (holidays inside it included), or None."""
    return SchoolYear.objects.filter(starts_on__lte=day, ends_on__gte=day).first()
