"""Residents taking the last place of a slot at the same instant: exactly one gets it, the
others a clear `slot_taken`, on PostgreSQL; two reminder runs at once remind once. As in
pretix, each pair of tests first shows the race happens with the row lock switched off (every
booking counted the places before any took one), then that the lock prevents it, the calls
lined up the same way (tests/concurrency.py)."""

from datetime import UTC, datetime

import pytest
import time_machine

from identity.errors import DomainError
from identity.notifications.models import Notification
from services.appointments import actions, notices, queries
from services.appointments.models import Appointment
from tests.concurrency import at_once, line_up
from tests.factories import ResidentFactory
from tests.services.appointments.factories import DeskFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("in_english"),
]

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
SLOT = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book_at_once(desk, people, *, key: str = "") -> list:
    def book(person):
        try:
            return actions.book_appointment(
                actor=person.user, person=person, desk=desk, starts_at=SLOT, idempotency_key=key
            )
        except DomainError as error:
            return error

    return at_once(*(lambda person=person: book(person) for person in people))


@pytest.fixture
def last_place():
    """A slot of two stations, one taken, and two residents who want the other."""
    desk = DeskFactory(stations=2)
    first = ResidentFactory()
    actions.book_appointment(actor=first.user, person=first, desk=desk, starts_at=SLOT)
    return desk, [ResidentFactory(), ResidentFactory()]


def test_without_the_lock_the_last_place_is_given_twice(last_place, monkeypatch):
    desk, people = last_place
    line_up(monkeypatch, queries, "places_taken", lock=False)  # both read "one place left"
    answers = book_at_once(desk, people)
    assert all(isinstance(a, Appointment) for a in answers)  # the race: three in two places
    assert Appointment.objects.filter(desk=desk, starts_at=SLOT).count() == 3


def test_the_last_place_goes_to_one_resident_only(last_place, monkeypatch):
    desk, people = last_place
    line_up(monkeypatch, queries, "places_taken", lock=True)
    answers = book_at_once(desk, people)
    booked = [a for a in answers if isinstance(a, Appointment)]
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(booked) == 1
    assert [r.code for r in refused] == ["slot_taken"]
    assert Appointment.objects.filter(desk=desk, starts_at=SLOT).count() == 2


def test_without_the_lock_six_residents_overbook_a_slot_of_two(monkeypatch):
    desk = DeskFactory(stations=2)
    line_up(monkeypatch, queries, "places_taken", lock=False, parties=6)
    answers = book_at_once(desk, [ResidentFactory() for _ in range(6)])
    assert all(isinstance(a, Appointment) for a in answers)
    assert Appointment.objects.filter(desk=desk).count() == 6


def test_six_residents_at_once_get_the_two_places_and_four_refusals(monkeypatch):
    desk = DeskFactory(stations=2)
    line_up(monkeypatch, queries, "places_taken", lock=True, parties=6)
    answers = book_at_once(desk, [ResidentFactory() for _ in range(6)])
    assert sum(isinstance(a, Appointment) for a in answers) == 2
    assert [a.code for a in answers if isinstance(a, DomainError)] == ["slot_taken"] * 4
    assert Appointment.objects.filter(desk=desk).count() == 2


def test_the_same_request_sent_twice_at_once_books_once(monkeypatch):
    desk = DeskFactory(stations=3)
    person = ResidentFactory()
    line_up(monkeypatch, queries, "places_taken", lock=True)
    answers = book_at_once(desk, [person, person], key="form-7")
    assert all(isinstance(a, Appointment) for a in answers)
    assert answers[0].pk == answers[1].pk
    assert Appointment.objects.filter(desk=desk).count() == 1


# --- Two reminder runs at once (cron overlapping itself) --------------------------------------


@pytest.fixture
def one_due():
    desk = DeskFactory()
    person = ResidentFactory()
    actions.book_appointment(actor=person.user, person=person, desk=desk, starts_at=SLOT)
    return Appointment.objects.get()


def remind_at_once() -> list:
    return at_once(actions.send_reminders, actions.send_reminders)


# Lined up just after the reminder is written, the last step before the stamp and the commit:
# the decision rests on the row re-read under lock, not on the list of due appointments (lined up
# after the list, one run could finish before the other re-read the row, and the race hid).


def test_without_the_lock_two_runs_both_remind_and_only_the_dedupe_key_saves_the_resident(
    one_due, monkeypatch
):
    line_up(monkeypatch, notices, "reminder", lock=False)
    assert remind_at_once() == [1, 1]  # the race: both runs handled it
    assert Notification.objects.filter(topic="appointments.reminder").count() == 1


def test_two_runs_at_once_remind_once(one_due, monkeypatch):
    line_up(monkeypatch, notices, "reminder", lock=True)
    assert sorted(remind_at_once()) == [0, 1]
    assert Notification.objects.filter(topic="appointments.reminder").count() == 1
    one_due.refresh_from_db()
    assert one_due.reminded_at == NOW
