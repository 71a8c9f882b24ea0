"""The appointment pages: a resident books a slot for themself or their child in Mon espace,
gets the calendar file, moves and cancels; a clerk sees the desk's day, marks arrivals and
absences, blocks a place and books for a resident at the counter or on the phone (the
channel recorded). Staff of other services do not see the desk's residents."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from identity.models import AuditEntry, StaffRole
from services.appointments import actions
from services.appointments.models import Appointment, Channel, SlotBlock
from tests.factories import ResidentFactory, guardian_and_child, staff_user
from tests.services.appointments.factories import DeskFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
SLOT = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def logged_in(client, user) -> Client:
    client.force_login(user)
    return client


def epoch(instant: datetime) -> str:
    return str(int(instant.timestamp()))


def test_a_parent_books_for_their_child_and_gets_the_calendar_file(client):
    desk = DeskFactory(what_to_bring="Le livret de famille.")
    parent, child = guardian_and_child()
    logged_in(client, parent.user)
    page = client.get(reverse("appointments:slots", args=[desk.public_id]))
    html = page.content.decode()
    assert f'value="{epoch(SLOT)}"' in html  # Tuesday 09:00
    assert "09:00" in html
    assert child.public_id in html
    response = client.post(
        reverse("appointments:book", args=[desk.public_id]),
        {"person": child.public_id, "slot": epoch(SLOT), "idempotency_key": "f-1"},
    )
    appointment = Appointment.objects.get()
    assert response.url == reverse("appointments:detail", args=[appointment.public_id])
    assert appointment.person == child
    detail = client.get(response.url).content.decode()
    assert "Le livret de famille." in detail
    ics = client.get(reverse("appointments:ics", args=[appointment.public_id]))
    assert ics["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == SLOT
    assert event.decoded("dtend") == SLOT + timedelta(minutes=15)
    assert appointment.public_id in str(event["url"])


def test_the_form_sent_twice_books_once(client):
    desk = DeskFactory(stations=2)
    me = ResidentFactory()
    logged_in(client, me.user)
    form = {"person": me.public_id, "slot": epoch(SLOT), "idempotency_key": "f-2"}
    url = reverse("appointments:book", args=[desk.public_id])
    client.post(url, form)
    client.post(url, form)
    assert Appointment.objects.count() == 1


def test_a_refusal_is_a_message_on_the_slots_page(client):
    desk = DeskFactory(needs_pre_application=True)
    me = ResidentFactory()
    logged_in(client, me.user)
    response = client.post(
        reverse("appointments:book", args=[desk.public_id]),
        {"person": me.public_id, "slot": epoch(SLOT), "pre_application_number": "12"},
        follow=True,
    )
    assert "10 letters or digits" in response.content.decode()
    assert Appointment.objects.count() == 0


def test_a_resident_moves_then_cancels_from_the_appointments_page(client):
    desk = DeskFactory()
    me = ResidentFactory()
    appointment = actions.book_appointment(actor=me.user, person=me, desk=desk, starts_at=SLOT)
    logged_in(client, me.user)
    later = SLOT + timedelta(hours=1)
    page = client.get(
        reverse("appointments:slots", args=[desk.public_id]), {"deplacer": appointment.public_id}
    )
    assert reverse("appointments:move", args=[appointment.public_id]) in page.content.decode()
    client.post(reverse("appointments:move", args=[appointment.public_id]), {"slot": epoch(later)})
    appointment.refresh_from_db()
    assert appointment.starts_at == later
    client.post(reverse("appointments:cancel", args=[appointment.public_id]))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_someone_elses_appointment_is_not_found(client):
    desk = DeskFactory()
    owner = ResidentFactory()
    appointment = actions.book_appointment(
        actor=owner.user, person=owner, desk=desk, starts_at=SLOT
    )
    logged_in(client, ResidentFactory().user)
    for name in ("detail", "ics"):
        assert (
            client.get(reverse(f"appointments:{name}", args=[appointment.public_id])).status_code
            == 404
        )
    assert (
        client.post(reverse("appointments:cancel", args=[appointment.public_id])).status_code == 404
    )


def test_mon_espace_lists_the_households_appointments(client):
    desk = DeskFactory(name="Passeports")
    parent, child = guardian_and_child()
    actions.book_appointment(actor=parent.user, person=child, desk=desk, starts_at=SLOT)
    logged_in(client, parent.user)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Passeports" in html
    assert reverse("appointments:desks") in html


# --- Staff ------------------------------------------------------------------------------------


@pytest.fixture
def desk_and_clerk():
    desk = DeskFactory(stations=2)
    return desk, staff_user(StaffRole.Role.CLERK, facility=desk.facility)


def test_the_clerk_sees_the_day_with_names_and_marks_arrival_and_absence(client, desk_and_clerk):
    desk, clerk = desk_and_clerk
    first, second = ResidentFactory(), ResidentFactory()
    a = actions.book_appointment(actor=first.user, person=first, desk=desk, starts_at=SLOT)
    b = actions.book_appointment(actor=second.user, person=second, desk=desk, starts_at=SLOT)
    with time_machine.travel(SLOT + timedelta(minutes=10), tick=False):
        logged_in(client, clerk)  # a staff session lasts less than a day
        page = client.get(reverse("appointments:agenda", args=[desk.public_id]))
        html = page.content.decode()
        assert f"{first.first_name} {first.last_name}" in html
        assert AuditEntry.objects.filter(action="appointments.agenda_viewed", actor=clerk).exists()
        client.post(reverse("appointments:mark", args=[a.public_id]), {"arrived": "1"})
        client.post(reverse("appointments:mark", args=[b.public_id]), {"arrived": "0"})
        stats = client.get(reverse("appointments:staff_desks")).content.decode()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (Appointment.Status.ARRIVED, Appointment.Status.NO_SHOW)
    assert "50 %" in stats


def test_the_week_view_shows_each_day(client, desk_and_clerk):
    desk, clerk = desk_and_clerk
    logged_in(client, clerk)
    html = client.get(
        reverse("appointments:agenda", args=[desk.public_id]),
        {"jour": "2027-01-04", "vue": "semaine"},
    ).content.decode()
    assert html.count('<section class="panel"') == 7
    assert "The desk is closed this day." in html  # the weekend


def test_the_clerk_blocks_a_place_and_frees_it(client, desk_and_clerk):
    desk, clerk = desk_and_clerk
    logged_in(client, clerk)
    client.post(
        reverse("appointments:block", args=[desk.public_id]),
        {"slot": epoch(SLOT), "reason": "Réunion"},
    )
    block = SlotBlock.objects.get()
    assert block.reason == "Réunion"
    client.post(reverse("appointments:free", args=[block.public_id]))
    assert not SlotBlock.objects.exists()


def test_the_clerk_books_for_a_resident_on_the_phone(client, desk_and_clerk):
    desk, clerk = desk_and_clerk
    resident = ResidentFactory(last_name="Lefèvre", birth_date=date(1970, 3, 2))
    logged_in(client, clerk)
    url = reverse("appointments:on_behalf", args=[desk.public_id])
    found = client.get(
        url, {"last_name": "lefèvre", "birth_date": "1970-03-02", "channel": "phone"}
    )
    html = found.content.decode()
    assert resident.public_id in html
    soon = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)  # in 30 minutes: fine at the desk
    assert f'value="{epoch(soon)}"' in html
    assert '<input type="hidden" name="du" value="2027-01-11">' in html  # the next week
    assert '<input type="hidden" name="last_name" value="lefèvre">' in html  # keeps who
    client.post(
        url,
        {
            "person": resident.public_id,
            "slot": epoch(soon),
            "channel": "phone",
            "idempotency_key": "p-1",
        },
    )
    appointment = Appointment.objects.get()
    assert (appointment.person, appointment.channel) == (resident, Channel.PHONE)
    assert AuditEntry.objects.filter(action="appointments.resident_found").count() == 1


def test_staff_of_other_services_and_other_town_halls_see_nothing(client, desk_and_clerk):
    desk, _clerk = desk_and_clerk
    for user in (
        staff_user(StaffRole.Role.POOL_AGENT),
        staff_user(StaffRole.Role.CLERK, facility=DeskFactory().facility),
        ResidentFactory().user,
    ):
        client = logged_in(Client(), user)
        assert client.get(reverse("appointments:agenda", args=[desk.public_id])).status_code == 403
        assert (
            client.get(reverse("appointments:on_behalf", args=[desk.public_id])).status_code == 403
        )


def test_the_weeks_offered_stop_at_the_booking_window(client):
    desk = DeskFactory(book_ahead_days=10)
    logged_in(client, ResidentFactory().user)
    url = reverse("appointments:slots", args=[desk.public_id])
    first = client.get(url).content.decode()
    assert '<input type="hidden" name="du" value="2027-01-11">' in first  # the next week
    last = client.get(url, {"du": "2027-01-11"}).content.decode()
    assert 'name="du" value="2027-01-18"' not in last  # beyond the 10 days: no next week
    assert '<input type="hidden" name="du" value="2027-01-04">' in last  # back to this week
