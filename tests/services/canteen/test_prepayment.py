"""Prepayment, where the town chooses it for a service: the booked days are paid at once from
the guardian's wallet (each priced by the tariff engine), an empty wallet refuses the booking
with the balance and the cost, nothing written; a day cancelled before its deadline, or an
accepted absence, is refunded to the wallet; the monthly bill leaves prepaid days out but
still bills a meal taken without booking."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from identity.models import StaffRole
from payments import queries as payment_queries
from services.canteen import absences, actions, billing
from services.canteen.models import Booking, BookingRequest, PrepaidMeal
from tests.documents_vault.factories import pdf_bytes
from tests.factories import staff_user
from tests.payments.factories import topped_up, wallet_regie
from tests.services.canteen.factories import (
    canteen_site,
    enrolled_child,
    lunch,
    served_without_booking,
)
from tests.services.canteen.test_billing import priced

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 30, 10, tzinfo=PARIS)
DAYS = [date(2026, 12, 3), date(2026, 12, 4)]


@pytest.fixture
def prepaid_lunch():
    with time_machine.travel(MONDAY, tick=False):
        site = canteen_site()
        service = lunch(
            site,
            product=priced("Repas", 350),
            penalty_product=priced("Repas majoré", 700),
            prepaid=True,
        )
        guardian, child = enrolled_child(site)
    wallet_regie()
    return service, guardian, child


def book(service, guardian, child, days=DAYS, key="k"):
    with time_machine.travel(MONDAY, tick=False):
        return actions.book_days(
            actor=guardian.user, child=child, service=service, days=days, key=key
        )


def test_the_days_are_paid_from_the_wallet_at_booking(prepaid_lunch):
    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    assert payment_queries.wallet_balance(guardian.pk) == 1000 - 2 * 350
    meals = PrepaidMeal.objects.order_by("booking__day")
    assert [(m.booking.day, m.amount_cents) for m in meals] == [(DAYS[0], 350), (DAYS[1], 350)]
    assert meals[0].explanation  # the tariff engine's why
    book(service, guardian, child)  # the same request again: paid once
    assert payment_queries.wallet_balance(guardian.pk) == 300


def test_an_empty_wallet_refuses_the_booking_and_writes_nothing(prepaid_lunch):
    service, guardian, child = prepaid_lunch
    topped_up(guardian, 500)
    with pytest.raises(DomainError) as refused:
        book(service, guardian, child)
    assert refused.value.code == "insufficient_balance"
    assert refused.value.field == "days"
    assert "holds 5,00\xa0€; these days cost 7,00\xa0€" in refused.value.message
    assert not Booking.objects.exists()
    assert not BookingRequest.objects.exists()  # the same request can be sent again
    assert payment_queries.wallet_balance(guardian.pk) == 500
    topped_up(guardian, 500)
    assert book(service, guardian, child).booked == DAYS


def test_a_day_cancelled_before_its_deadline_is_refunded_once(prepaid_lunch):
    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    with time_machine.travel(MONDAY, tick=False):
        actions.cancel_days(actor=guardian.user, child=child, service=service, days=DAYS[1:])
        book(service, guardian, child, days=DAYS[1:], key="again")  # booked and paid again
        actions.cancel_days(actor=guardian.user, child=child, service=service, days=DAYS[1:])
    assert payment_queries.wallet_balance(guardian.pk) == 1000 - 350
    assert PrepaidMeal.objects.filter(refunded_at__isnull=False).count() == 2
    assert not payment_queries.ledger_discrepancies()


def test_the_bill_leaves_prepaid_days_out_but_bills_a_meal_without_booking(prepaid_lunch):
    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    served_without_booking(child, service, date(2026, 12, 7))
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=PARIS)):
        order = billing.bill_month(
            actor=staff_user(StaffRole.Role.FINANCE_OFFICER),
            household=guardian.household,
            year=2026,
            month=12,
        )
    line = order.lines.get()
    assert (line.quantity, line.unit_price_cents, line.payload["days"]) == (1, 700, ["2026-12-07"])


def test_an_accepted_absence_on_a_prepaid_day_goes_back_to_the_wallet(prepaid_lunch):
    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    with time_machine.travel(datetime(2026, 12, 3, 8, tzinfo=PARIS)):
        report = absences.report_absence(
            actor=guardian.user,
            booking=Booking.objects.get(day=DAYS[0]),
            file_name="c.pdf",
            content=pdf_bytes(),
        )
    report = absences.decide_absence(
        actor=staff_user(StaffRole.Role.CLERK), report=report, accept=True
    )
    assert report.credit_note == ""  # nothing was invoiced: the wallet gets it back
    assert payment_queries.wallet_balance(guardian.pk) == 1000 - 350
