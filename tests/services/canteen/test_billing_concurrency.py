"""Two monthly runs billing the same household at once, on PostgreSQL: one invoice, one
number. As in pretix, the first test shows the race with the lock switched off: both runs
read "no invoice issued yet" for the month's order, and both issue one; the second, lined up
the same way, that the order row lock makes the second run find the first one's invoice. Then the
whole run twice at once: one order, one invoice. Last, two invoices paid from a wallet that
holds enough for one: without the wallet's row lock both are paid, with it one is refused."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from identity.models import StaffRole
from payments import ledger
from payments import queries as payment_queries
from payments.actions.invoices import issue_invoices
from payments.actions.orders import LineInput, create_order
from payments.actions.wallets import pay_order_from_wallet
from payments.models import Document, LedgerAccount, Order, Regie
from services.canteen import actions, billing
from services.canteen.models import Booking
from tests.concurrency import at_once, line_up
from tests.factories import staff_user
from tests.payments.factories import topped_up, wallet_regie
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


@pytest.fixture
def two_invoices_and_a_wallet_for_one(household):
    """Two invoiced orders of 3,50 € for the parent, whose wallet holds 5 €."""
    guardian = household.members.get(role="adult")
    wallet_regie()
    topped_up(guardian, 500)
    regie = Regie.objects.get(code="cantine")
    # The régie's revenue account exists (its first creation would serialise the payments).
    ledger.regie_account(LedgerAccount.Kind.REVENUE, regie)
    orders = [
        create_order(
            buyer=None,
            payer=guardian,
            channel="desk",
            lines=[
                LineInput(regie=regie, label="Repas", handler=billing.HANDLER, unit_price_cents=350)
            ],
        )
        for _ in range(2)
    ]
    for order in orders:
        issue_invoices(order)
    return guardian, orders


def pay_both(guardian, orders) -> list:
    def pay(order):
        try:
            return pay_order_from_wallet(
                actor=guardian.user, order=order, idempotency_key=f"w-{order.pk}"
            )
        except DomainError as error:
            return error

    return at_once(*(lambda o=o: pay(o) for o in orders))


def test_without_the_wallet_lock_both_invoices_are_paid_with_money_for_one(
    two_invoices_and_a_wallet_for_one, monkeypatch
):
    guardian, orders = two_invoices_and_a_wallet_for_one
    line_up(monkeypatch, ledger, "_lock_accounts", lock=False)  # both read "5 € left"
    answers = pay_both(guardian, orders)
    assert not any(isinstance(answer, DomainError) for answer in answers)  # the race
    assert payment_queries.wallet_balance(guardian.pk) == 500 - 700


def test_with_the_wallet_lock_the_second_invoice_is_refused(
    two_invoices_and_a_wallet_for_one, monkeypatch
):
    guardian, orders = two_invoices_and_a_wallet_for_one
    line_up(monkeypatch, ledger, "_lock_accounts", lock=True)
    answers = pay_both(guardian, orders)
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "insufficient_balance"
    assert payment_queries.wallet_balance(guardian.pk) == 150
    assert sorted(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)
    ) == ["paid", "pending"]
