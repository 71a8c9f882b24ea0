"""Two parents booking the last place of a day at once, on PostgreSQL: one gets it, the other
a clear refusal. As in pretix, the first test shows the race does happen when taking the places
is a naive read-then-write (both read "one place left" before either books); the second, lined
up the same way, that the real one (a conditional upsert holding the counters' row locks until
commit) prevents it. Then the same request sent twice at once books once."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.db.models import F

from identity.errors import DomainError
from identity.models import Guardianship
from services.canteen import actions, queries
from services.canteen.models import Booking, BookingRequest, ServiceDay
from tests.concurrency import at_once, line_up, run_at_once
from tests.factories import PersonFactory, UserFactory
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]

DAY = date(2026, 12, 3)


@pytest.fixture
def last_place():
    """A lunch service of 1 place, two families enrolled, on 1 December 2026. The day's
    counter exists (someone booked, then cancelled): the first booking of a day creates it, and
    two creating it at once are already serialised by its unique index."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        site = canteen_site()
        service = lunch(site, capacity=1)
        ServiceDay.objects.create(service=service, day=DAY, booked=0)
        yield service, [enrolled_child(site) for _ in range(2)]


def book(service, guardian, child, key="k"):
    try:
        return actions.book_days(
            actor=guardian.user, child=child, service=service, days=[DAY], key=key
        )
    except DomainError as error:
        return error


def naive_take_places(*, service_id: int, days: list[date], capacity: int) -> set[date]:
    """The bug the conditional upsert avoids: read the counts, compare in Python, then write."""
    taken = dict(
        ServiceDay.objects.filter(service_id=service_id, day__in=days).values_list("day", "booked")
    )
    free = {day for day in days if taken.get(day, 0) < capacity}
    ServiceDay.objects.filter(service_id=service_id, day__in=free).update(booked=F("booked") + 1)
    return free


def test_without_the_lock_two_parents_book_the_last_place(last_place, monkeypatch):
    service, families = last_place
    line_up(monkeypatch, actions, "_take_places", lock=False, unlocked=naive_take_places)
    answers = at_once(*(lambda f=f: book(service, *f) for f in families))
    assert all(isinstance(answer, actions.BookingAnswer) for answer in answers)  # the race
    assert Booking.objects.filter(day=DAY, state="booked").count() == 2  # capacity: 1


def test_the_last_place_goes_to_one_parent_only(last_place, monkeypatch):
    service, families = last_place
    line_up(monkeypatch, actions, "_take_places", lock=True)
    answers = at_once(*(lambda f=f: book(service, *f) for f in families))
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "full"
    assert Booking.objects.filter(day=DAY, state="booked").count() == 1


def test_the_same_request_sent_twice_at_once_books_once(last_place):
    service, families = last_place
    guardian, child = families[0]
    outcome = at_once(*(lambda: book(service, guardian, child, key="twice") for _ in range(2)))
    # The second waits on the key until the first commits, then gets the first answer.
    assert outcome[0] == outcome[1]
    assert outcome[0].booked == [DAY]
    assert Booking.objects.count() == 1
    assert BookingRequest.objects.count() == 1


# --- Two requests for the same child at once (two guardians, or two tabs) --------------------


@pytest.fixture
def two_guardians():
    """A child with two guardians who have accounts, at a lunch service with places left."""
    with time_machine.travel(datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))):
        service = lunch(canteen_site(), capacity=5)
        ServiceDay.objects.create(service=service, day=DAY, booked=0)
        guardian, child = enrolled_child(service.site)
        second = PersonFactory(household=guardian.household, role="adult", user=UserFactory())
        Guardianship.objects.create(guardian=second, child=child)
        yield service, child, [guardian, second]


def test_without_the_childs_lock_two_guardians_booking_the_same_day_meet_the_unique_index(
    two_guardians, monkeypatch
):
    service, child, guardians = two_guardians
    line_up(monkeypatch, queries, "bookings_on", lock=False)
    outcome = run_at_once(
        *(lambda g=g: book(service, g, child, key=g.public_id) for g in guardians)
    )
    assert [type(error) for error in outcome.errors] == [IntegrityError]  # a 500 for a parent


def test_two_guardians_booking_the_same_day_at_once_both_see_it_booked_once(
    two_guardians, monkeypatch
):
    service, child, guardians = two_guardians
    line_up(monkeypatch, queries, "bookings_on", lock=True)
    answers = at_once(*[lambda g=g: book(service, g, child, key=g.public_id) for g in guardians])
    assert [answer.booked for answer in answers] == [[DAY], [DAY]]
    assert Booking.objects.filter(child=child, day=DAY).count() == 1
    assert ServiceDay.objects.get(service=service, day=DAY).booked == 1  # one place taken
