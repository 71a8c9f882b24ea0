"""A child's card tapped at the canteen's entrance while an agent ticks them on the list, at the
same instant, on PostgreSQL: the meal is served once and counted once. As in pretix, the first
test shows the race with the child's row lock switched off (both read "no booking" before
either writes: the second meets the unique index, a server error at the gate or on the tablet);
the second, lined up the same way, that the lock serialises them: one serves, the other finds
the meal already served."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError

from identity.models import StaffRole
from services.canteen import actions, gate
from services.canteen.models import Booking, ServiceDay
from services.catalog.actions import decide
from tests.concurrency import at_once, line_up, run_at_once
from tests.factories import AccessPointFactory, staff_user
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)
AT_LUNCH = datetime(2026, 12, 3, 12, 5, tzinfo=PARIS)


@pytest.fixture
def lunch_time():
    """Lunch at a school with its entrance, its canteen agent, a child booked on Thursday and
    a child not booked; Thursday at lunch."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        entrance = AccessPointFactory(facility=site.school, name="Entrée cantine")
        guardian, booked = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=booked, service=service, days=[THURSDAY], key="k"
        )
        _other, not_booked = enrolled_child(site)
        agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=site.school)
    with time_machine.travel(AT_LUNCH, tick=False):
        yield service, entrance, agent, booked, not_booked


def tap_and_tick(service, entrance, agent, child):
    def tap():
        return decide(holder_id=child.pk, access_point=entrance, at=AT_LUNCH).reason

    def tick():
        return gate.serve_child(actor=agent, service=service, child=child, day=THURSDAY)

    return tap, tick


def test_without_the_lock_a_tap_and_a_tick_both_serve_a_child_without_booking(
    lunch_time, monkeypatch
):
    service, entrance, agent, _booked, child = lunch_time
    line_up(monkeypatch, gate, "_booking_of", lock=False)
    outcome = run_at_once(*tap_and_tick(service, entrance, agent, child))
    assert [type(error) for error in outcome.errors] == [IntegrityError]  # a 500 for one


def test_a_tap_and_a_tick_at_once_serve_a_child_without_booking_once(lunch_time, monkeypatch):
    service, entrance, agent, _booked, child = lunch_time
    line_up(monkeypatch, gate, "_booking_of", lock=True)
    answers = at_once(*tap_and_tick(service, entrance, agent, child))
    assert sorted(answers) == ["already_served", "served_without_booking"]
    meal = Booking.objects.get(child=child, day=THURSDAY)
    assert (meal.state, meal.without_booking) == ("served", True)
    # The booked child and the one served without booking: counted once each.
    assert ServiceDay.objects.get(service=service, day=THURSDAY).booked == 2


def test_without_the_lock_a_tap_and_a_tick_both_serve_a_booked_child(lunch_time, monkeypatch):
    service, entrance, agent, child, _not_booked = lunch_time
    line_up(monkeypatch, gate, "_booking_of", lock=False)
    answers = at_once(*tap_and_tick(service, entrance, agent, child))
    assert answers == ["served", "served"]  # the meal served twice, each screen says so


def test_a_tap_and_a_tick_at_once_serve_a_booked_child_once(lunch_time, monkeypatch):
    service, entrance, agent, child, _not_booked = lunch_time
    line_up(monkeypatch, gate, "_booking_of", lock=True)
    answers = at_once(*tap_and_tick(service, entrance, agent, child))
    assert sorted(answers) == ["already_served", "served"]
    assert Booking.objects.get(child=child, day=THURSDAY).state == "served"
    assert ServiceDay.objects.get(service=service, day=THURSDAY).booked == 1
