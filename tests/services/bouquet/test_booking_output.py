"""What a procedure produces: a booking. A civil-status certificate to collect at the town
hall books, when the clerk accepts it, an appointment at the civil-status desk (the engine's
booking output, through the registry's booker of the appointments service). A time taken
meanwhile, or none chosen, refuses the acceptance and nothing is half-done."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from identity.errors import Conflict
from identity.models import AuditEntry
from identity.notifications.models import Notification
from services.appointments.actions import book_appointment
from services.appointments.models import Appointment, Channel, Desk
from services.catalog import registry
from services.civil_status import procedures
from services.procedures.actions import handling, outputs
from services.procedures.errors import FieldErrors
from services.procedures.types import State
from tests.factories import ResidentFactory, staff_user
from tests.services.appointments.factories import DeskFactory

from .factories import submit

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def on_a_monday():
    # Monday 7 December 2026: the desk's openings run from Tuesday.
    with time_machine.travel(datetime(2026, 12, 7, 8, tzinfo=PARIS), tick=False):
        yield


@pytest.fixture
def desk():
    return DeskFactory(
        name="Guichet état civil",
        kind=Desk.Kind.CIVIL_STATUS,
        stations=1,
        hours=[(1, time(9), time(9, 30))],  # Tuesdays 09:00–09:30: two slots
    )


@pytest.fixture
def clerk():
    return staff_user("clerk")


def to_collect(resident):
    return submit(
        procedures.KEY,
        resident,
        {
            "act": "birth",
            "copy": "extract_plain",
            "last_name": "Martin",
            "first_names": "Léa",
            "event_date": "2015-06-21",
            "relationship": "other",
            "delivery": "counter",
        },
    )


def first_opening(file) -> str:
    _output, openings = outputs.booking_openings(file)
    return openings[0].value


def test_the_booker_is_registered_by_the_appointments_service():
    assert registry.booker("appointments.civil_status_desk") is not None


def test_accepting_books_the_appointment_at_the_desk_and_tells_the_resident(desk, clerk):
    resident = ResidentFactory()
    file = to_collect(resident)
    output, openings = outputs.booking_openings(file)
    assert str(output.label) == "Rendez-vous pour retirer l’acte"
    assert [o.label for o in openings[:3]] == [
        "mardi 8 décembre 2026 à 09:00 — Guichet état civil, Mairie",
        "mardi 8 décembre 2026 à 09:15 — Guichet état civil, Mairie",
        "mardi 15 décembre 2026 à 09:00 — Guichet état civil, Mairie",
    ]
    file = handling.transition(actor=clerk, file=file, key="accept", slot=openings[1].value)
    assert file.state == State.ACCEPTED
    appointment = Appointment.objects.get(person=resident)
    assert appointment.desk == desk
    assert appointment.channel == Channel.COUNTER
    assert appointment.starts_at == datetime(2026, 12, 8, 9, 15, tzinfo=PARIS)
    accepted = file.events.get(transition="accept")
    assert "mardi 8 décembre 2026 à 09:15" in accepted.text
    assert AuditEntry.objects.filter(action="appointments.booked", person=resident).exists()
    assert Notification.objects.filter(
        recipient=resident.user, topic="appointments.confirmed"
    ).exists()


def test_an_email_delivery_books_nothing(desk, clerk):
    resident = ResidentFactory()
    file = submit(
        procedures.KEY,
        resident,
        {
            "act": "birth",
            "copy": "extract_plain",
            "last_name": "Martin",
            "first_names": "Léa",
            "event_date": "2015-06-21",
            "relationship": "other",
            "delivery": "email",
            "email": "lea@example.org",
        },
    )
    assert outputs.booking_openings(file) == (None, [])
    handling.transition(actor=clerk, file=file, key="accept")
    assert not Appointment.objects.exists()


def _nothing_accepted(file):
    file.refresh_from_db()
    assert file.state == State.SUBMITTED
    assert not file.events.filter(transition="accept").exists()
    assert not Appointment.objects.filter(person=file.applicant).exists()


def test_a_time_taken_meanwhile_refuses_the_acceptance_and_nothing_is_half_done(desk, clerk):
    resident = ResidentFactory()
    file = to_collect(resident)
    opening = first_opening(file)
    other = ResidentFactory()
    book_appointment(
        actor=other.user,
        person=other,
        desk=desk,
        starts_at=datetime(2026, 12, 8, 9, tzinfo=PARIS),
    )
    with pytest.raises(Conflict) as refused:
        handling.transition(actor=clerk, file=file, key="accept", slot=opening)
    assert refused.value.code == "slot_taken"
    assert refused.value.field == "slot"
    _nothing_accepted(file)


def test_no_time_chosen_or_none_offered_refuses_the_acceptance(clerk):
    resident = ResidentFactory()
    file = to_collect(resident)
    assert outputs.booking_openings(file)[1] == []  # no civil-status desk: no time offered
    with pytest.raises(FieldErrors) as refused:
        handling.transition(actor=clerk, file=file, key="accept")
    assert list(refused.value.errors) == ["slot"]
    _nothing_accepted(file)


def test_a_forged_time_is_refused_naming_the_slot(desk, clerk):
    file = to_collect(ResidentFactory())
    with pytest.raises(FieldErrors) as refused:
        handling.transition(
            actor=clerk, file=file, key="accept", slot=f"{desk.public_id}@2026-12-08T03:00:00"
        )
    assert list(refused.value.errors) == ["slot"]
    _nothing_accepted(file)


def test_the_outcome_tells_where_to_collect_it(desk, clerk):
    file = to_collect(ResidentFactory())
    file = handling.transition(actor=clerk, file=file, key="accept", slot=first_opening(file))
    assert "guichet de l’état civil" in " ".join(procedures.outcome_lines(file))


# --- the page and the API ------------------------------------------------------------------


def test_page_the_clerk_chooses_the_time_when_accepting(client, desk, clerk):
    resident = ResidentFactory()
    file = to_collect(resident)
    client.force_login(clerk)
    page = client.get(reverse("procedures:staff_file", args=[file.public_id])).content.decode()
    assert "mardi 8 décembre 2026 à 09:00" in page
    client.post(
        reverse("procedures:staff_transition", args=[file.public_id, "accept"]),
        {"text": "", "slot": first_opening(file)},
    )
    file.refresh_from_db()
    assert file.state == State.ACCEPTED
    assert Appointment.objects.filter(person=resident).count() == 1


def test_page_no_time_chosen_is_refused_with_a_message(client, desk, clerk):
    file = to_collect(ResidentFactory())
    client.force_login(clerk)
    page = client.post(
        reverse("procedures:staff_transition", args=[file.public_id, "accept"]),
        {"text": ""},
        follow=True,
    )
    assert "Choisissez l’heure" in page.content.decode()
    _nothing_accepted(file)


def test_api_openings_then_accept_and_a_taken_time_is_a_409(client, desk, clerk):
    first, second = to_collect(ResidentFactory()), to_collect(ResidentFactory())
    client.force_login(clerk)
    offered = client.get(f"/api/v1/procedures/{first.public_id}/openings").json()
    slot = offered["openings"][0]["value"]
    url = "/api/v1/procedures/{}/transitions/accept"
    accepted = client.post(
        url.format(first.public_id), {"slot": slot}, content_type="application/json"
    )
    assert accepted.json()["state"] == "accepted"
    taken = client.post(
        url.format(second.public_id), {"slot": slot}, content_type="application/json"
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "slot_taken"
    missing = client.post(url.format(second.public_id), {}, content_type="application/json")
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["slot"]
    _nothing_accepted(second)
