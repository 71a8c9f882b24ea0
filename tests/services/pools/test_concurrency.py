"""Two residents buying the last place of a swimming course at the same instant: only one gets
it, on PostgreSQL. As in pretix (and test_occupancy_concurrency), the first test shows the race
does happen with the course's lock switched off; the second, that the lock prevents it."""

import threading

import pytest

from identity.errors import DomainError
from services.pools import actions, queries
from services.pools.models import LessonBooking, LessonCourse
from tests.concurrency import at_once
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
    barrier = threading.Barrier(2)
    real_places_taken = queries.places_taken

    def count_then_wait(course, **kwargs):
        taken = real_places_taken(course, **kwargs)
        barrier.wait(timeout=10)  # both buyers have read "one place left"
        return taken

    monkeypatch.setattr(actions, "_lock_course", lambda pk: LessonCourse.objects.get(pk=pk))
    monkeypatch.setattr(queries, "places_taken", count_then_wait)
    answers = buy_at_once(course, buyers)
    assert all(isinstance(a, LessonBooking) for a in answers)  # the race: overbooked
    assert LessonBooking.objects.filter(course=course).count() == 3


def test_the_last_place_goes_to_one_buyer_only(one_place_left, monkeypatch):
    course, buyers = one_place_left
    barrier = threading.Barrier(2)
    real_lock = actions._lock_course

    def together(pk):
        barrier.wait(timeout=10)  # both buyers reach the lock at the same instant
        return real_lock(pk)

    monkeypatch.setattr(actions, "_lock_course", together)
    answers = buy_at_once(course, buyers)
    held = [a for a in answers if isinstance(a, LessonBooking)]
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(held) == 1
    assert len(refused) == 1
    assert refused[0].code == "full"
    assert LessonBooking.objects.filter(course=course).count() == 2
    assert queries.places_left(course) == 0


def test_many_buyers_at_once_never_overbook(monkeypatch):
    course = LessonCourseFactory(places=3)
    buyers = [ResidentFactory() for _ in range(8)]
    answers = buy_at_once(course, buyers)
    assert sum(isinstance(a, LessonBooking) for a in answers) == 3
    assert all(a.code == "full" for a in answers if isinstance(a, DomainError))
    assert LessonBooking.objects.filter(course=course).count() == 3
