"""At the canteen's entrance the child's card goes through POST /api/v1/taps and decide: the
day's booking is marked served; a child without booking is served at the penalty price (never
refused) and the screen says so; bookings nobody came for become no-shows."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from identity.errors import Forbidden
from identity.models import StaffRole
from services.canteen import actions
from services.canteen.gate import record_no_shows
from services.canteen.models import Booking, ServiceDay
from tests.factories import (
    AccessPointFactory,
    CardFactory,
    post_tap,
    reader_with_token,
    staff_user,
    sun_url,
)
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = date(2026, 12, 3)


@pytest.fixture
def canteen():
    """Lunch at a school, its entrance with a reader, two enrolled children with cards, on the
    Tuesday before; the first child is booked for Thursday."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        entrance = AccessPointFactory(facility=site.school, name="Entrée cantine")
        _reader, token = reader_with_token(access_point=entrance)
        booked_guardian, booked = enrolled_child(site)
        _other_guardian, not_booked = enrolled_child(site)
        actions.book_days(
            actor=booked_guardian.user, child=booked, service=service, days=[THURSDAY], key="k"
        )
        cards = CardFactory(holder=booked), CardFactory(holder=not_booked)
    with time_machine.travel(datetime(2026, 12, 3, 12, 5, tzinfo=PARIS), tick=False):
        yield service, token, cards


def test_a_booked_child_is_served(client, canteen):
    service, token, (card, _other) = canteen
    answer = post_tap(client, token, credential=sun_url(card, 1)).json()
    assert (answer["granted"], answer["reason"]) == (True, "served")
    assert Booking.objects.get(child=card.holder).state == "served"
    again = post_tap(client, token, credential=sun_url(card, 2)).json()
    assert (again["granted"], again["reason"]) == (True, "already_served")


def test_a_child_without_booking_is_served_at_the_penalty_price(client, canteen):
    service, token, (_card, other) = canteen
    answer = post_tap(client, token, credential=sun_url(other, 1)).json()
    assert (answer["granted"], answer["reason"]) == (True, "served_without_booking")
    meal = Booking.objects.get(child=other.holder)
    assert (meal.state, meal.without_booking, meal.day) == ("served", True, THURSDAY)
    assert ServiceDay.objects.get(service=service, day=THURSDAY).booked == 2  # the kitchen's count


def test_bookings_nobody_came_for_are_no_shows(canteen):
    service, _token, (card, _other) = canteen
    agent = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=service.site.school)
    assert record_no_shows(actor=agent, service=service, day=THURSDAY) == 1
    assert Booking.objects.get(child=card.holder).state == "absent"
    elsewhere = staff_user(StaffRole.Role.CANTEEN_AGENT, facility=canteen_site("Autre").school)
    with pytest.raises(Forbidden):
        record_no_shows(actor=elsewhere, service=service, day=THURSDAY)


def test_the_childs_phone_pass_on_a_parents_phone_marks_the_meal_served(client):
    """A young child without a card: the guardian issues the child's phone pass and shows it
    on their own phone at the canteen's door; the child's booking is served."""
    from card.actions.lifecycle import issue_phone_pass
    from card.credentials import phone_pass_payload

    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=PARIS), tick=False):
        site = canteen_site()
        service = lunch(site)
        entrance = AccessPointFactory(facility=site.school, name="Entrée cantine")
        _reader, token = reader_with_token(access_point=entrance)
        guardian, child = enrolled_child(site)
        actions.book_days(
            actor=guardian.user, child=child, service=service, days=[THURSDAY], key="k"
        )
        phone_pass = issue_phone_pass(actor=guardian.user, holder=child)
    at = datetime(2026, 12, 3, 12, 5, tzinfo=PARIS)
    with time_machine.travel(at, tick=False):
        answer = post_tap(client, token, credential=phone_pass_payload(phone_pass.number, at))
    assert (answer.json()["granted"], answer.json()["reason"]) == (True, "served")
    assert Booking.objects.get(child=child).state == "served"
