"""What residents are told (identity.notifications): the confirmation with its calendar file
and the link to the appointment's page, to the person or, for a child, to the guardian who
books; a new confirmation after a move; the desk's cancellations told; the reminder the day
before, once, by SMS too where opted in. A refused booking sends nothing."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from icalendar import Calendar

from identity.errors import DomainError
from identity.models import StaffRole
from identity.notifications.actions import give_sms_consent
from identity.notifications.models import Notification
from services.appointments import actions
from tests.factories import ResidentFactory, guardian_and_child, staff_user
from tests.services.appointments.factories import DeskFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
SLOT = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book(desk, person, *, actor=None, starts_at=SLOT, **extra):
    return actions.book_appointment(
        actor=actor or person.user, person=person, desk=desk, starts_at=starts_at, **extra
    )


def test_the_confirmation_carries_the_calendar_file_and_the_appointments_page():
    desk = DeskFactory(name="État civil", what_to_bring="Le livret de famille.")
    me = ResidentFactory()
    appointment = book(desk, me)
    [mail] = Notification.objects.filter(recipient=me.user)
    assert mail.topic == "appointments.confirmed"
    assert mail.channel == Notification.Channel.EMAIL
    assert "État civil" in mail.subject
    assert "5 janvier 2027 à 09:00" in mail.body
    assert "09:00" in mail.body
    assert "Le livret de famille." in mail.body
    assert mail.link == reverse("appointments:detail", args=[appointment.public_id])
    [attachment] = mail.attachments.all()
    assert (attachment.filename, attachment.mimetype) == ("rendez-vous.ics", "text/calendar")
    event = Calendar.from_ical(bytes(attachment.content)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == SLOT


def test_a_childs_appointment_is_told_to_the_guardian():
    parent, child = guardian_and_child()
    book(DeskFactory(), child, actor=parent.user)
    assert Notification.objects.get().recipient == parent.user


def test_a_refused_booking_sends_nothing():
    desk = DeskFactory(needs_pre_application=True)
    with pytest.raises(DomainError):
        book(desk, ResidentFactory(), pre_application_number="12")
    assert not Notification.objects.exists()


def test_the_same_request_again_confirms_once_and_a_move_confirms_the_new_time():
    desk = DeskFactory()
    me = ResidentFactory()
    appointment = book(desk, me, idempotency_key="k")
    book(desk, me, idempotency_key="k")
    actions.move_appointment(
        actor=me.user, appointment=appointment, starts_at=SLOT + timedelta(hours=1)
    )
    subjects = list(Notification.objects.order_by("pk").values_list("subject", flat=True))
    assert len(subjects) == 2
    assert "10:00" in subjects[1]


def test_a_cancellation_by_the_desk_is_told_and_ones_own_is_not():
    desk = DeskFactory()
    me = ResidentFactory()
    mine = book(desk, me)
    actions.cancel_appointment(actor=me.user, appointment=mine)
    assert not Notification.objects.filter(topic="appointments.cancelled").exists()
    again = book(desk, me, starts_at=SLOT + timedelta(minutes=15))
    clerk = staff_user(StaffRole.Role.CLERK, facility=desk.facility)
    actions.cancel_appointment(actor=clerk, appointment=again, channel="phone")
    [told] = Notification.objects.filter(topic="appointments.cancelled")
    assert told.recipient == me.user


def test_the_reminder_goes_the_day_before_once_by_sms_too_where_opted_in():
    desk = DeskFactory(stations=3)
    texted, mailed, later = ResidentFactory(), ResidentFactory(), ResidentFactory()
    give_sms_consent(actor=texted.user, mobile_number="06 12 34 56 78")
    book(desk, texted)
    book(desk, mailed)
    book(desk, later, starts_at=SLOT + timedelta(days=1))  # Wednesday: not yet
    Notification.objects.all().delete()  # the confirmations
    first, again = StringIO(), StringIO()
    call_command("send_appointment_reminders", stdout=first)
    call_command("send_appointment_reminders", stdout=again)
    assert (first.getvalue(), again.getvalue()) == ("2 reminder(s) sent\n", "0 reminder(s) sent\n")
    reminders = Notification.objects.filter(topic="appointments.reminder")
    assert sorted((n.recipient_id, n.channel) for n in reminders) == sorted(
        [
            (texted.user_id, Notification.Channel.EMAIL),
            (texted.user_id, Notification.Channel.SMS),
            (mailed.user_id, Notification.Channel.EMAIL),
        ]
    )
    sms = reminders.get(channel=Notification.Channel.SMS)
    assert "09:00" in sms.body


def test_a_moved_appointment_is_reminded_again_and_a_cancelled_one_not():
    desk = DeskFactory(stations=2)
    me, other = ResidentFactory(), ResidentFactory()
    appointment = book(desk, me)
    cancelled = book(desk, other)
    actions.cancel_appointment(actor=other.user, appointment=cancelled)
    assert actions.send_reminders() == 1
    assert actions.send_reminders() == 0
    later = SLOT + timedelta(hours=1)
    actions.move_appointment(actor=me.user, appointment=appointment, starts_at=later)
    assert actions.send_reminders() == 1  # at its new time
    assert actions.send_reminders() == 0
