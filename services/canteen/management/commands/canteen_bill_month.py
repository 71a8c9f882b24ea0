"""Bills the canteen and care of a month, one invoice per household (by default the month
that just ended). Run by sesame-canteen-bill-month.timer on the 2nd of each month, a day after
the month ends so that the last day's served meals are recorded; running it again (a missed or
repeated run) issues nothing twice."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from services.canteen.billing import bill_all


class Command(BaseCommand):
    help = "Issue the canteen invoices of a month (the previous month by default), once each."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int)

    def handle(self, *args, **options):
        last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
        year = options["year"] or last_month.year
        month = options["month"] or last_month.month
        if not 1 <= month <= 12:
            raise CommandError("--month is 1 to 12")
        billed, failed = bill_all(year=year, month=month)
        self.stdout.write(f"{year}-{month:02d}: {billed} household(s) billed, {failed} failed")
