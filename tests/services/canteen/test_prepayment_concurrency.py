"""Two prepaid bookings at once from a wallet that holds enough for one, on PostgreSQL. As in
pretix: the first test shows the race with the wallet's row lock switched off (both read
"3,50 € left" and both book), the second, lined up the same way, that the lock refuses the
second booking clearly and writes none of it."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from payments import ledger
from payments import queries as payment_queries
from payments.models import LedgerAccount, Regie
from services.canteen import actions
from services.canteen.models import Booking
from tests.concurrency import at_once, line_up
from tests.payments.factories import topped_up, wallet_regie
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch
from tests.services.canteen.test_billing import priced

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 30, 10, tzinfo=PARIS)


@pytest.fixture
def wallet_for_one_lunch():
    with time_machine.travel(MONDAY, tick=False):
        site = canteen_site()
        service = lunch(site, product=priced("Repas", 350), prepaid=True)
        guardian, child = enrolled_child(site)
    wallet_regie()
    topped_up(guardian, 350)
    # The régie's revenue account exists (its first creation would serialise the two).
    ledger.regie_account(LedgerAccount.Kind.REVENUE, Regie.objects.get(code="cantine"))
    return service, guardian, child


def two_bookings(service, guardian, child) -> list:
    def book(day, key):
        try:
            with time_machine.travel(MONDAY, tick=False):
                return actions.book_days(
                    actor=guardian.user, child=child, service=service, days=[day], key=key
                )
        except DomainError as error:
            return error

    return at_once(
        lambda: book(date(2026, 12, 3), "thursday"), lambda: book(date(2026, 12, 4), "friday")
    )


def test_without_the_wallet_lock_both_days_are_booked_with_money_for_one(
    wallet_for_one_lunch, monkeypatch
):
    service, guardian, child = wallet_for_one_lunch
    line_up(monkeypatch, ledger, "_lock_accounts", lock=False)
    answers = two_bookings(service, guardian, child)
    assert not any(isinstance(answer, DomainError) for answer in answers)  # the race
    assert Booking.objects.filter(state="booked").count() == 2
    assert payment_queries.wallet_balance(guardian.pk) == 350 - 700


def test_with_the_wallet_lock_the_second_booking_is_refused(wallet_for_one_lunch, monkeypatch):
    service, guardian, child = wallet_for_one_lunch
    line_up(monkeypatch, ledger, "_lock_accounts", lock=True)
    answers = two_bookings(service, guardian, child)
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "insufficient_balance"
    assert Booking.objects.filter(state="booked").count() == 1
    assert payment_queries.wallet_balance(guardian.pk) == 0
