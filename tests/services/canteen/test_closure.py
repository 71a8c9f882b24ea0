"""A school closed for a day, even late (a strike announced the day before): the canteen gives
back what was paid in advance for that day, leaves the day off the bill, and tells each family
with a booking that day; the bookings stay, so that a closure withdrawn leaves them booked."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import DomainError
from identity.models import StaffRole
from identity.notifications.models import Notification
from identity.schooling.actions import close_school
from payments import queries as payment_queries
from services.canteen import billing
from services.canteen.models import Booking, PrepaidMeal
from tests.factories import staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch
from tests.services.canteen.test_billing import priced
from tests.services.canteen.test_prepayment import DAYS, book, prepaid_lunch  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
# The evening before the strike: bookings of 3 December are closed since 15:00.
EVE = datetime(2026, 12, 2, 18, tzinfo=PARIS)


def strike(school=None, day=DAYS[0]):
    with time_machine.travel(EVE, tick=False):
        return close_school(
            actor=staff_user(StaffRole.Role.ADMIN), day=day, reason="Grève", school=school
        )


def test_a_late_closure_refunds_the_prepaid_day_and_tells_the_family(prepaid_lunch):  # noqa: F811
    from tests.payments.factories import topped_up

    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    assert payment_queries.wallet_balance(guardian.pk) == 300
    strike(service.site.school)
    assert payment_queries.wallet_balance(guardian.pk) == 300 + 350  # 3 December only
    assert PrepaidMeal.objects.filter(refunded_at__isnull=True).get().booking.day == DAYS[1]
    assert set(Booking.objects.values_list("state", flat=True)) == {"booked"}
    told = Notification.objects.get(topic="canteen.school_closed", recipient=guardian.user)
    assert told.subject == "Pas de cantine le jeudi 3 décembre 2026"  # in the town's language
    assert "(Grève)" in told.body
    assert "Les 3,50\xa0€ payés d’avance pour ce jour sont rendus" in told.body
    assert Notification.objects.filter(topic="canteen.school_closed").count() == 1


def test_the_closed_day_is_not_billed_and_nobody_else_is_told():
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        site, elsewhere = canteen_site(), canteen_site("École Jules-Ferry")
        service = lunch(site, product=priced("Repas", 350))
        other = lunch(elsewhere, product=priced("Repas", 350))
        guardian, child = enrolled_child(site)
        neighbour, their_child = enrolled_child(elsewhere)
        book(service, guardian, child, key="a")
        book(other, neighbour, their_child, key="b")
    strike(site.school)
    assert Notification.objects.filter(topic="canteen.school_closed").count() == 1
    assert not Notification.objects.filter(recipient=neighbour.user).exists()
    with time_machine.travel(datetime(2027, 1, 5, 10, tzinfo=PARIS)):
        order = billing.bill_month(
            actor=staff_user(StaffRole.Role.FINANCE_OFFICER),
            household=guardian.household,
            year=2026,
            month=12,
        )
    assert order.total_cents == 350  # 4 December; the 3rd is off the bill


def test_every_school_closed_reaches_every_site():
    with time_machine.travel(datetime(2026, 11, 30, 10, tzinfo=PARIS), tick=False):
        first, second = canteen_site(), canteen_site("École Jules-Ferry")
        guardians = []
        for site in (first, second):
            service = lunch(site, product=priced("Repas", 350))
            guardian, child = enrolled_child(site)
            book(service, guardian, child, key=site.name)
            guardians.append(guardian)
    strike(None)
    assert {n.recipient for n in Notification.objects.filter(topic="canteen.school_closed")} == {
        g.user for g in guardians
    }


def test_a_refused_closure_refunds_nothing(prepaid_lunch):  # noqa: F811
    from tests.payments.factories import topped_up

    service, guardian, child = prepaid_lunch
    topped_up(guardian, 1000)
    book(service, guardian, child)
    with pytest.raises(DomainError), time_machine.travel(EVE, tick=False):
        close_school(
            actor=staff_user(StaffRole.Role.ADMIN),
            day=DAYS[0],
            reason=" ",
            school=service.site.school,
        )
    assert payment_queries.wallet_balance(guardian.pk) == 300
    assert not Notification.objects.filter(topic="canteen.school_closed").exists()
