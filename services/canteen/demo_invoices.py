"""The demo's canteen invoices: the demo households' previous month billed, when they have
bookings in it (`load()`, run by `load_demo` after the canteen's demo, which imports last month:
`demo_history`). Billing is idempotent, so loading the demo again issues nothing twice."""

from datetime import timedelta

from django.utils import timezone

from . import billing


def load() -> int:
    """Bill last month for every household with bookings in it; how many were billed."""
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    billed, _failed = billing.bill_all(year=last_month.year, month=last_month.month)
    return billed
