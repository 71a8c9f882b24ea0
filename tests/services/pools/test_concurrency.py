"""Two residents buying the last place of a swimming course at the same instant: only one gets
it, on PostgreSQL. As in pretix, each pair of tests first shows the race does happen with the
course's row lock switched off (every buyer has counted the places before any takes one), then
that the lock prevents it, the buyers lined up the same way (tests/concurrency.py)."""

import pytest

from identity.errors import DomainError
from services.pools import actions, queries
from services.pools.models import LessonBooking
from tests.concurrency import at_once, line_up
from tests.factories import LessonCourseFactory, ResidentFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]


@pytest.fixture
def one_place_left():
    """A course of 2 places, one already held, and two residents who want the other."""
    course = LessonCourseFactory(places=2)
    first = ResidentFactory()
    actions.hold_place(actor=first.user, person=first, course=course)
    return course, [ResidentFactory(), ResidentFactory()]


def buy_at_once(course, buyers) -> list:
    def buy(person):
        try:
            return actions.hold_place(actor=person.user, person=person, course=course)
        except DomainError as error:
            return error

    return at_once(*(lambda person=person: buy(person) for person in buyers))


def test_without_the_lock_two_buyers_get_the_last_place(one_place_left, monkeypatch):
    course, buyers = one_place_left
    line_up(monkeypatch, queries, "places_taken", lock=False)  # both read "one place left"
    answers = buy_at_once(course, buyers)
    assert all(isinstance(a, LessonBooking) for a in answers)  # the race: overbooked
    assert LessonBooking.objects.filter(course=course).count() == 3


def test_the_last_place_goes_to_one_buyer_only(one_place_left, monkeypatch):
    course, buyers = one_place_left
    line_up(monkeypatch, queries, "places_taken", lock=True)
    answers = buy_at_once(course, buyers)
    held = [a for a in answers if isinstance(a, LessonBooking)]
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(held) == 1
    assert len(refused) == 1
    assert refused[0].code == "full"
    assert LessonBooking.objects.filter(course=course).count() == 2
    assert queries.places_left(course) == 0


@pytest.fixture
def three_places_eight_buyers():
    return LessonCourseFactory(places=3), [ResidentFactory() for _ in range(8)]


def test_without_the_lock_eight_buyers_at_once_overbook_three_places(
    three_places_eight_buyers, monkeypatch
):
    course, buyers = three_places_eight_buyers
    line_up(monkeypatch, queries, "places_taken", lock=False, parties=8)  # all read "3 left"
    answers = buy_at_once(course, buyers)
    assert all(isinstance(a, LessonBooking) for a in answers)  # the race
    assert LessonBooking.objects.filter(course=course).count() == 8


def test_many_buyers_at_once_never_overbook(three_places_eight_buyers, monkeypatch):
    course, buyers = three_places_eight_buyers
    line_up(monkeypatch, queries, "places_taken", lock=True, parties=8)
    answers = buy_at_once(course, buyers)
    assert sum(isinstance(a, LessonBooking) for a in answers) == 3
    assert all(a.code == "full" for a in answers if isinstance(a, DomainError))
    assert LessonBooking.objects.filter(course=course).count() == 3
