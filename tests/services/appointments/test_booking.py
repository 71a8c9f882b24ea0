"""Booking, moving and cancelling an appointment: for oneself or a child in one's care, at a
slot of the desk within its booking window, one place per station; the same request sent
twice books once; every refusal says why and writes nothing."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from services.appointments import actions, queries
from services.appointments.models import Appointment, Channel
from tests.factories import ResidentFactory, guardian_and_child, staff_user
from tests.services.appointments.factories import DeskFactory, closure

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

# Monday 4 January 2027, 10:00 in Paris; the desk opens weekdays 09:00–12:00.
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
TUESDAY_9 = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book(desk, person=None, starts_at=TUESDAY_9, **extra):
    person = person or ResidentFactory()
    return actions.book_appointment(
        actor=extra.pop("actor", person.user),
        person=person,
        desk=desk,
        starts_at=starts_at,
        **extra,
    )


def refused(call, code):
    count = Appointment.objects.count()
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.code == code, error.value.message
    assert Appointment.objects.count() == count  # nothing written
    return error.value


def test_a_resident_books_a_slot_and_it_is_audited():
    desk = DeskFactory()
    appointment = book(desk)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=15)
    assert appointment.channel == Channel.WEB
    entry = AuditEntry.objects.get(action="appointments.booked")
    assert entry.person == appointment.person
    assert entry.target == appointment.public_id
    assert queries.slot_at(desk, TUESDAY_9).left == 0


def test_a_guardian_books_for_their_child_but_nobody_for_a_stranger():
    desk = DeskFactory()
    parent, child = guardian_and_child()
    assert book(desk, child, actor=parent.user).person == child
    stranger = ResidentFactory()
    with pytest.raises(Forbidden):
        book(desk, stranger, actor=parent.user, starts_at=TUESDAY_9 + timedelta(minutes=15))


def test_one_place_per_station_then_slot_taken():
    desk = DeskFactory(stations=2)
    book(desk)
    book(desk)
    error = refused(lambda: book(desk), "slot_taken")
    assert isinstance(error, Conflict)
    assert error.field == "starts_at"


def test_the_same_request_sent_twice_books_once():
    desk = DeskFactory(stations=3)
    person = ResidentFactory()
    first = book(desk, person, idempotency_key="form-1")
    again = book(desk, person, idempotency_key="form-1")
    assert again.pk == first.pk
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("starts_at", "code"),
    [
        (NOW - timedelta(hours=1), "past"),
        (datetime(2027, 1, 5, 8, 7, tzinfo=UTC), "not_a_slot"),  # 09:07
        (datetime(2027, 1, 5, 13, 0, tzinfo=UTC), "not_a_slot"),  # 14:00, closed
        (datetime(2027, 1, 9, 8, 0, tzinfo=UTC), "not_a_slot"),  # a Saturday
        (datetime(2027, 1, 4, 9, 30, tzinfo=UTC), "too_late"),  # in 30 minutes
        (datetime(2027, 3, 9, 8, 0, tzinfo=UTC), "too_early"),  # beyond 60 days
    ],
)
def test_a_time_outside_the_desks_slots_or_window_is_refused(starts_at, code):
    desk = DeskFactory()
    refused(lambda: book(desk, starts_at=starts_at), code)


def test_a_closed_day_is_refused():
    desk = DeskFactory()
    closure(desk, TUESDAY_9.date())
    refused(lambda: book(desk), "not_a_slot")


def test_a_desk_closed_to_booking_is_refused():
    desk = DeskFactory(active=False)
    refused(lambda: book(desk), "closed")


def test_one_appointment_to_come_per_person_and_desk():
    desk = DeskFactory(stations=2)
    person = ResidentFactory()
    book(desk, person)
    refused(lambda: book(desk, person, starts_at=TUESDAY_9 + timedelta(days=1)), "already_booked")


def test_staff_book_at_the_counter_up_to_the_slot_and_the_channel_is_recorded():
    desk = DeskFactory()
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    soon = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)  # too late online
    appointment = book(desk, starts_at=soon, actor=clerk, channel=Channel.PHONE)
    assert appointment.channel == Channel.PHONE
    assert appointment.booked_by == clerk
    entry = AuditEntry.objects.get(action="appointments.booked")
    assert entry.channel == AuditEntry.Channel.PHONE


def test_staff_of_another_facility_cannot_book_there():
    desk = DeskFactory()
    elsewhere = staff_user(StaffRole.Role.CLERK, facility=DeskFactory().facility)
    with pytest.raises(Forbidden):
        book(desk, actor=elsewhere, channel=Channel.COUNTER)
    pool_agent = staff_user(StaffRole.Role.POOL_AGENT)
    with pytest.raises(Forbidden):
        book(desk, actor=pool_agent, channel=Channel.COUNTER)


# --- The passport desk's pre-application number -------------------------------------------


@pytest.mark.parametrize(
    ("number", "code"), [("", "required"), ("ABC", "malformed"), ("ABCDE-12345", "malformed")]
)
def test_the_passport_desk_asks_a_well_formed_pre_application_number(number, code):
    desk = DeskFactory(needs_pre_application=True)
    refused(lambda: book(desk, pre_application_number=number), code)


def test_a_pre_application_number_holds_one_appointment():
    desk = DeskFactory(needs_pre_application=True, stations=2)
    appointment = book(desk, pre_application_number=" abcde12345 ")
    assert appointment.pre_application_number == "ABCDE12345"
    refused(lambda: book(desk, pre_application_number="ABCDE12345"), "number_used")
    actions.cancel_appointment(actor=appointment.person.user, appointment=appointment)
    assert book(desk, pre_application_number="ABCDE12345").pre_application_number == "ABCDE12345"


# --- Moving and cancelling ------------------------------------------------------------------


def test_a_resident_cancels_before_the_desks_notice_and_the_place_is_free_again():
    desk = DeskFactory(cancel_notice_minutes=60)
    appointment = book(desk)
    actions.cancel_appointment(actor=appointment.person.user, appointment=appointment)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert queries.slot_at(desk, TUESDAY_9).left == 1
    assert AuditEntry.objects.filter(action="appointments.cancelled").count() == 1


def test_a_cancellation_after_the_desks_limit_is_refused_online_but_staff_may():
    desk = DeskFactory(cancel_notice_minutes=48 * 60)  # two days
    appointment = book(desk)
    with pytest.raises(DomainError) as error:
        actions.cancel_appointment(actor=appointment.person.user, appointment=appointment)
    assert error.value.code == "too_late"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    actions.cancel_appointment(actor=clerk, appointment=appointment, channel=Channel.PHONE)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_nobody_else_cancels_a_residents_appointment():
    appointment = book(DeskFactory())
    with pytest.raises(Forbidden):
        actions.cancel_appointment(actor=ResidentFactory().user, appointment=appointment)


def test_moving_takes_the_new_slot_and_frees_the_old_one():
    desk = DeskFactory()
    appointment = book(desk)
    later = TUESDAY_9 + timedelta(hours=1)
    actions.move_appointment(
        actor=appointment.person.user, appointment=appointment, starts_at=later
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == later
    assert queries.slot_at(desk, TUESDAY_9).left == 1
    assert queries.slot_at(desk, later).left == 0


def test_moving_to_a_full_slot_is_refused_and_keeps_the_appointment():
    desk = DeskFactory()
    mine = book(desk)
    other = TUESDAY_9 + timedelta(minutes=15)
    book(desk, starts_at=other)
    with pytest.raises(Conflict) as error:
        actions.move_appointment(actor=mine.person.user, appointment=mine, starts_at=other)
    assert error.value.code == "slot_taken"
    mine.refresh_from_db()
    assert mine.starts_at == TUESDAY_9


# --- At the desk ----------------------------------------------------------------------------


def test_staff_block_a_place_and_free_it():
    desk = DeskFactory(stations=2)
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    block = actions.block_slot(actor=clerk, desk=desk, starts_at=TUESDAY_9, reason="Formation")
    assert queries.slot_at(desk, TUESDAY_9).left == 1
    book(desk)
    refused(lambda: book(desk), "slot_taken")
    with pytest.raises(Conflict):
        actions.block_slot(actor=clerk, desk=desk, starts_at=TUESDAY_9)
    actions.free_slot(actor=clerk, block=block)
    assert queries.slot_at(desk, TUESDAY_9).left == 1


def test_a_resident_cannot_block_a_slot():
    desk = DeskFactory()
    with pytest.raises(Forbidden):
        actions.block_slot(actor=ResidentFactory().user, desk=desk, starts_at=TUESDAY_9)


def test_arrived_and_no_show_are_marked_on_the_day_and_counted_per_desk():
    desk = DeskFactory(stations=3)
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    first, second, third = (book(desk) for _ in range(3))
    with pytest.raises(DomainError) as error:
        actions.mark_appointment(actor=clerk, appointment=first, arrived=True)
    assert error.value.code == "not_today"
    with time_machine.travel(TUESDAY_9 + timedelta(minutes=20), tick=False):
        actions.mark_appointment(actor=clerk, appointment=first, arrived=True)
        actions.mark_appointment(actor=clerk, appointment=second, arrived=False)
        stats = queries.no_show_stats(
            [desk], since=TUESDAY_9.date() - timedelta(days=1), until=TUESDAY_9.date()
        )
    assert (stats[0].held, stats[0].no_shows) == (2, 1)
    assert stats[0].rate == 0.5
    assert Appointment.objects.get(pk=third.pk).status == Appointment.Status.BOOKED
    assert AuditEntry.objects.filter(action="appointments.no_show").count() == 1


def test_no_show_only_once_the_appointment_started():
    desk = DeskFactory()
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    appointment = book(desk)
    with (
        time_machine.travel(TUESDAY_9 - timedelta(minutes=5), tick=False),
        pytest.raises(DomainError) as error,
    ):
        actions.mark_appointment(actor=clerk, appointment=appointment, arrived=False)
    assert error.value.code == "not_started"


def test_bookable_slots_leave_out_the_full_the_past_and_the_too_close():
    desk = DeskFactory(hours=[(0, time(9), time(12)), (1, time(9), time(9, 30))])
    book(desk)  # Tuesday 09:00
    monday, tuesday = NOW.date(), TUESDAY_9.date()
    starts = [s.starts_at for s in queries.bookable_slots(desk, monday, tuesday)]
    # Monday: 10:00 now, two hours' notice: from 12:00, closed; Tuesday 09:00 full.
    assert starts == [TUESDAY_9 + timedelta(minutes=15)]


def test_a_desk_for_the_territorys_residents_refuses_a_household_living_elsewhere():
    desk = DeskFactory(residents_only=True, stations=2)
    assert book(desk).status == Appointment.Status.BOOKED  # the factory's commune is a member
    outsider = ResidentFactory(address__commune__territory=None)
    error = refused(lambda: book(desk, outsider), "not_resident")
    assert error.field == "desk"
