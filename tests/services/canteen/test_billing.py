"""The month's bill of a household: every meal priced by the tariff engine on its day, with
its explanation, as one order of payments; billed again, the same order; a school closed late
and cancelled days are not billed; a meal without booking at the penalty price."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import Forbidden
from identity.models import StaffRole
from identity.schooling.actions import close_school
from payments.models import Order
from services.canteen import actions, billing
from services.canteen.models import Booking
from tests.factories import TariffLineFactory, collection_office, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")


def priced(name: str, cents: int):
    collection_office("cantine")
    line = TariffLineFactory(
        grid__product__name=name, grid__product__regie_code="cantine", price_cents=cents
    )
    return line.grid.product


@pytest.fixture
def december():
    """A child booked on four lunches of December (one cancelled), served once without booking,
    and a strike closing the school on one booked day."""
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(
            site, product=priced("Repas", 350), penalty_product=priced("Repas majoré", 700)
        )
        guardian, child = enrolled_child(site)
        days = [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7), date(2026, 12, 8)]
        actions.book_days(actor=guardian.user, child=child, service=service, days=days, key="m")
        actions.cancel_days(actor=guardian.user, child=child, service=service, days=days[3:])
        close_school(actor=staff_user(StaffRole.Role.ADMIN), day=days[2], reason="Grève")
    Booking.objects.create(
        child=child,
        household=child.household,
        service=service,
        day=date(2026, 12, 10),
        state="served",
        without_booking=True,
    )
    return child.household, child


def test_the_month_is_billed_once_with_prices_and_reasons(december):
    household, child = december
    officer = staff_user(StaffRole.Role.FINANCE_OFFICER)
    order = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    lines = {line.label: line for line in order.lines.all()}
    meals = lines[f"Repas — {child.first_name}"]
    assert (meals.quantity, meals.unit_price_cents) == (2, 350)  # 3 and 4 December
    assert meals.explanation  # the tariff engine's why
    assert meals.payload == {"days": ["2026-12-03", "2026-12-04"]}
    penalty = lines[f"Repas majoré (without booking) — {child.first_name}"]
    assert (penalty.quantity, penalty.unit_price_cents) == (1, 700)
    assert order.total_cents == 2 * 350 + 700
    again = billing.bill_month(actor=officer, household=household, year=2026, month=12)
    assert again.pk == order.pk
    assert Order.objects.count() == 1


def test_only_finance_officers_bill(december):
    household, _child = december
    with pytest.raises(Forbidden):
        billing.bill_month(
            actor=staff_user(StaffRole.Role.CLERK), household=household, year=2026, month=12
        )
