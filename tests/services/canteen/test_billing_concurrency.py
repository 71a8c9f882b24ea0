"""Two monthly runs billing the same household at once, on PostgreSQL: one invoice, one
number. As in pretix, the first test shows the race with the lock switched off: both runs
read "no invoice issued yet" for the month's order, and both issue one; the second, lined up
the same way, that the order row lock makes the second run find the first one's invoice. Then the
whole run twice at once: one order, one invoice."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.models import StaffRole
from payments import queries as payment_queries
from payments.actions.invoices import issue_invoices
from payments.actions.orders import LineInput, create_order
from payments.models import Document, Order, Regie
from services.canteen import actions, billing
from services.canteen.models import Booking
from tests.concurrency import at_once, line_up
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch
from tests.services.canteen.test_billing import priced

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def household():
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site, product=priced("Repas", 350))
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[date(2026, 12, 3)], key="k"
        )
    return guardian.household


@pytest.fixture
def unissued_order(household):
    """A month's order written, its invoice not yet issued (a run stopped in between)."""
    booking = Booking.objects.get()
    return create_order(
        buyer=None,
        payer=None,
        channel="desk",
        lines=[
            LineInput(
                regie=Regie.objects.get(),
                label="Repas",
                handler=billing.HANDLER,
                unit_price_cents=350,
                beneficiary=booking.child,
            )
        ],
    )


def test_without_the_lock_two_runs_both_issue_an_invoice(unissued_order, monkeypatch):
    line_up(monkeypatch, payment_queries, "invoices_of_order", lock=False)
    at_once(*(lambda: issue_invoices(unissued_order) for _ in range(2)))
    # Both read "none issued": the order is invoiced twice (the numbers stay gapless, the
    # sequence row serialises them, but the household would pay twice).
    assert Document.objects.filter(kind="invoice", order=unissued_order).count() == 2


def test_the_order_lock_issues_one_invoice(unissued_order, monkeypatch):
    line_up(monkeypatch, payment_queries, "invoices_of_order", lock=True)
    first, second = at_once(*(lambda: issue_invoices(unissued_order) for _ in range(2)))
    assert [d.pk for d in first] == [d.pk for d in second]
    assert Document.objects.filter(kind="invoice").count() == 1


def test_billing_the_month_twice_at_once_issues_one_order_and_one_invoice(household):
    officer = staff_user(StaffRole.Role.FINANCE_OFFICER)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=PARIS)):
        first, second = at_once(
            *(
                lambda: billing.bill_month(actor=officer, household=household, year=2026, month=12)
                for _ in range(2)
            )
        )
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    assert [d.reference for d in Document.objects.filter(kind="invoice")] == [
        "CANTINE-2027-F000001"
    ]
