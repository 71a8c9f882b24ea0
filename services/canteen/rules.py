"""When a booking closes: a service's rule (data, see models.Service) turned into the instant,
in Europe/Paris, after which a day can no longer be booked or cancelled. A change is accepted
up to that instant included, to the microsecond: 23:59:58 before a 23:59:59 deadline is on
time, 23:59:59.9 is late."""

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.schooling.calendar import SchoolCalendar, is_working_day

from .models import Service


def in_holidays(calendar: SchoolCalendar, day: date) -> bool:
    """A day of the school holidays (or outside the school year: the summer)."""
    return calendar.holiday_name(day) is not None or not calendar.in_school_year(day)


def deadline(service: Service, day: date, calendar: SchoolCalendar) -> datetime:
    """The last instant (aware, Europe/Paris) at which `day` of `service` may be booked."""
    if service.holiday_rule_days is not None and in_holidays(calendar, day):
        last = day - timedelta(days=service.holiday_rule_days)
    elif service.rule == Service.Rule.WORKING_DAYS_BEFORE:
        last, left = day, service.rule_days
        while left:
            last -= timedelta(days=1)
            if is_working_day(last):
                left -= 1
    elif service.rule == Service.Rule.WEEK_BEFORE:
        monday = day - timedelta(days=day.weekday())
        last = monday - timedelta(days=7 - service.rule_weekday)
    else:
        last = day - timedelta(days=service.rule_days)
    return timezone.make_aware(
        datetime.combine(last, service.rule_time), timezone.get_default_timezone()
    )


def is_open(service: Service, day: date, calendar: SchoolCalendar, now: datetime) -> bool:
    return now <= deadline(service, day, calendar)


def why_not_running(service: Service, day: date, calendar: SchoolCalendar) -> str | None:
    """Why `service` does not run on `day` (None: it runs), in words: not its day of the week,
    a closure or a public holiday, the school holidays of a service that stops then."""
    if day.weekday() not in service.runs_on_weekdays:
        return _("the service does not run that day of the week")
    closed = calendar.closures.get(day) or calendar.public.get(day)
    if closed:
        return _("closed (%(reason)s)") % {"reason": closed}
    if in_holidays(calendar, day) and not service.runs_in_holidays:
        return _("school holidays (%(name)s)") % {
            "name": calendar.holiday_name(day) or _("outside the school year")
        }
    return None
