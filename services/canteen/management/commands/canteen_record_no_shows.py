"""Records the no-shows of a day's canteen and care services (today's by default): the
bookings nobody was served on become absences (billed unless justified). Run each evening by
sesame-canteen-no-shows.timer, after the evening care; a service the staff closed already, or a
second run, records nothing more. Services that do not run that day (not their weekday, a
closure, the holidays) are left as they are: nothing is billed on a closed day.

Without --day, before EVENING it takes the day before: a run missed at 20:30 and made up at
boot the next morning (the timer is Persistent) records the evening before's no-shows, never
the new day's before its children have eaten."""

from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from identity.schooling.calendar import school_calendar
from services.canteen import rules
from services.canteen.gate import record_no_shows
from services.canteen.models import Service

EVENING = time(20, 0)


def default_day(now: datetime) -> date:
    local = timezone.localtime(now, timezone.get_default_timezone())
    return local.date() if local.time() >= EVENING else local.date() - timedelta(days=1)


class Command(BaseCommand):
    help = "Record the no-shows of the day's canteen and care services (today by default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--day", help="YYYY-MM-DD (default: today from 20:00 Europe/Paris, else yesterday)"
        )

    def handle(self, *args, **options):
        try:
            day = (
                date.fromisoformat(options["day"])
                if options["day"]
                else default_day(timezone.now())
            )
        except ValueError as error:
            raise CommandError("--day is a date, YYYY-MM-DD") from error
        total = 0
        for service in Service.objects.select_related("site__school").order_by("pk"):
            calendar = school_calendar(service.site.school, day, day)
            if rules.why_not_running(service, day, calendar) is not None:
                continue
            absent = record_no_shows(actor=None, service=service, day=day)
            total += absent
            self.stdout.write(f"{service}: {absent} no-show(s)")
        self.stdout.write(f"{day.isoformat()}: {total} no-show(s) recorded")
