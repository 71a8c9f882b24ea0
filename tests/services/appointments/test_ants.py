"""The State's passport appointment network (ANTS). Coordination: at the passport desk the
pre-application number is checked against the coordination API (only `validated` and free
numbers book), declared once the booking is committed, moved with the appointment and released
on cancellation; a network that does not answer refuses the booking. Off unless configured.
The town's endpoints: meeting points, free slots, appointments by number, behind the
network's token. A local fake coordination server started here; nothing reaches the network."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from identity.errors import DomainError
from services.appointments import actions
from services.appointments.models import Appointment
from tests.factories import ResidentFactory
from tests.services.appointments.factories import DeskFactory
from tests.services.appointments.fake_ants import TOKEN, FakeCoordination

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
SLOT = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Paris
NUMBER = "AB12CD34EF"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def network(settings):
    fake = FakeCoordination()
    fake.start()
    settings.SESAME_ANTS_COORDINATION_URL = fake.url
    settings.SESAME_ANTS_COORDINATION_TOKEN = TOKEN
    settings.SESAME_SITE_URL = "https://sesame.example.fr"
    yield fake
    fake.stop()


@pytest.fixture
def desk():
    return DeskFactory(name="Passeports", needs_pre_application=True, stations=2)


def book(desk, number=NUMBER, starts_at=SLOT, person=None):
    person = person or ResidentFactory()
    return actions.book_appointment(
        actor=person.user,
        person=person,
        desk=desk,
        starts_at=starts_at,
        pre_application_number=number,
    )


def test_off_unless_configured_nothing_is_asked(desk, settings):
    settings.SESAME_ANTS_COORDINATION_URL = ""
    fake = FakeCoordination()
    fake.start()
    try:
        assert book(desk).pre_application_number == NUMBER
    finally:
        fake.stop()
    assert fake.requests == []


def test_a_validated_number_books_and_is_declared_after_commit(
    desk, network, django_capture_on_commit_callbacks
):
    network.numbers[NUMBER] = "validated"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(desk)
    method, path, query = network.requests[0]
    assert (method, path, query["application_ids"]) == ("GET", "/api/status", NUMBER)
    [declared] = network.appointments[NUMBER]
    assert declared["appointment_date"] == "2027-01-05 09:00:00"  # Paris time
    assert declared["meeting_point_id"] == desk.public_id
    assert declared["meeting_point"] == "Passeports"
    assert declared["management_url"] == (
        f"https://sesame.example.fr/mon-espace/rendez-vous/{appointment.public_id}/"
    )


@pytest.mark.parametrize("status", ["declared", "consumed", "expired", "unknown"])
def test_a_number_not_validated_is_refused_with_its_reason(desk, network, status):
    network.numbers[NUMBER] = status
    with pytest.raises(DomainError) as error:
        book(desk)
    assert error.value.code == f"number_{status}"
    assert error.value.field == "pre_application_number"
    assert Appointment.objects.count() == 0
    assert all(method == "GET" for method, _path, _query in network.requests)


def test_a_number_holding_an_appointment_in_another_town_is_refused(desk, network):
    network.numbers[NUMBER] = "validated"
    network.appointments[NUMBER] = [
        {"meeting_point": "Mairie de Figeac", "appointment_date": "2027-01-06 10:00:00"}
    ]
    with pytest.raises(DomainError) as error:
        book(desk)
    assert error.value.code == "number_used"
    assert Appointment.objects.count() == 0


def test_the_network_down_refuses_the_booking_rather_than_book_unchecked(desk, network):
    network.numbers[NUMBER] = "validated"
    network.down = True
    with pytest.raises(DomainError) as error:
        book(desk)
    assert error.value.code == "network_unavailable"
    assert Appointment.objects.count() == 0


def test_a_wrong_token_is_refused_by_the_network_and_so_is_the_booking(desk, network, settings):
    settings.SESAME_ANTS_COORDINATION_TOKEN = "not-the-token"
    network.numbers[NUMBER] = "validated"
    with pytest.raises(DomainError):
        book(desk)
    assert Appointment.objects.count() == 0


def test_moving_and_cancelling_follow_at_the_network(
    desk, network, django_capture_on_commit_callbacks
):
    network.numbers[NUMBER] = "validated"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(desk)
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_appointment(
            actor=appointment.person.user,
            appointment=appointment,
            starts_at=SLOT + timedelta(hours=1),
        )
    assert [a["appointment_date"] for a in network.appointments[NUMBER]] == ["2027-01-05 10:00:00"]
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel_appointment(actor=appointment.person.user, appointment=appointment)
    assert network.appointments[NUMBER] == []


def test_a_declaration_that_fails_is_retried_by_the_sweep(
    desk, network, django_capture_on_commit_callbacks
):
    network.numbers[NUMBER] = "validated"
    network.refuse_writes = True
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(desk)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED  # the booking stands
    assert (appointment.ants_pending, appointment.ants_declared_at) == (True, None)
    assert actions.sync_pending_with_network() == (0, 1)
    network.refuse_writes = False
    call_command("appointments_network_sweep", stdout=StringIO())
    appointment.refresh_from_db()
    assert (appointment.ants_pending, appointment.ants_declared_at) == (False, SLOT)
    assert len(network.appointments[NUMBER]) == 1
    call_command("appointments_network_sweep", stdout=StringIO())
    assert len(network.appointments[NUMBER]) == 1  # once


def test_a_move_whose_release_failed_releases_the_old_date_later(
    desk, network, django_capture_on_commit_callbacks
):
    network.numbers[NUMBER] = "validated"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(desk)
    network.refuse_writes = True
    later = SLOT + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        actions.move_appointment(
            actor=appointment.person.user, appointment=appointment, starts_at=later
        )
    assert [a["appointment_date"] for a in network.appointments[NUMBER]] == ["2027-01-05 09:00:00"]
    network.refuse_writes = False
    assert actions.sync_pending_with_network() == (1, 0)
    assert [a["appointment_date"] for a in network.appointments[NUMBER]] == ["2027-01-05 10:00:00"]


def test_a_desk_without_the_number_never_calls_the_network(network):
    book(DeskFactory(), number="")
    assert network.requests == []


# --- The endpoints the network calls ----------------------------------------------------------


@pytest.fixture
def ants_client(settings):
    settings.SESAME_ANTS_EDITOR_TOKEN = "editor-token"
    settings.SESAME_SITE_URL = "https://sesame.example.fr"
    return Client(headers={"X-HUB-RDV-AUTH-TOKEN": "editor-token"})


BASE = "/api/v1/appointments/ants"


def test_the_endpoints_are_absent_unless_configured(desk, settings):
    settings.SESAME_ANTS_EDITOR_TOKEN = ""
    client = Client(headers={"X-HUB-RDV-AUTH-TOKEN": ""})
    assert client.get(f"{BASE}/getManagedMeetingPoints").status_code == 404


def test_a_wrong_or_missing_token_is_a_401(desk, ants_client):
    assert Client().get(f"{BASE}/getManagedMeetingPoints").status_code == 401
    wrong = Client(headers={"X-HUB-RDV-AUTH-TOKEN": "guess"})
    assert wrong.get(f"{BASE}/getManagedMeetingPoints").status_code == 401


def test_the_meeting_points_are_the_passport_desks(desk, ants_client):
    DeskFactory(name="État civil")
    body = ants_client.get(f"{BASE}/getManagedMeetingPoints").json()
    assert [(p["id"], p["city_name"]) for p in body] == [
        (desk.public_id, desk.facility.commune.name)
    ]
    assert body[0]["zip_code"] == desk.facility.commune.postcode


def test_the_free_slots_of_the_meeting_points_asked(desk, ants_client):
    other = DeskFactory(needs_pre_application=True, stations=1)
    book(other, number="ZZ12CD34EF")  # Tuesday 09:00 taken there
    response = ants_client.get(
        f"{BASE}/availableTimeSlots?meeting_point_ids={desk.public_id}"
        f"&meeting_point_ids={other.public_id}&start_date=2027-01-05&end_date=2027-01-05"
        "&reason=CNI-PASSPORT&documents_number=1"
    )
    assert response.status_code == 200
    body = response.json()
    assert body[desk.public_id][0] == {
        "datetime": "2027-01-05T08:00Z",
        "callback_url": (
            f"https://sesame.example.fr/mon-espace/rendez-vous/guichet/{desk.public_id}/"
            "?du=2027-01-05"
        ),
    }
    assert len(body[desk.public_id]) == 12
    assert "2027-01-05T08:00Z" not in [s["datetime"] for s in body[other.public_id]]


def test_a_family_needs_as_many_places_as_documents(desk, ants_client):
    book(desk)  # one of the two places at 09:00
    body = ants_client.get(
        f"{BASE}/availableTimeSlots?meeting_point_ids={desk.public_id}"
        "&start_date=2027-01-05&end_date=2027-01-05&reason=PASSPORT&documents_number=2"
    ).json()
    assert "2027-01-05T08:00Z" not in [s["datetime"] for s in body[desk.public_id]]
    assert len(body[desk.public_id]) == 11


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start_date=2027-01-05&end_date=2027-01-05&reason=VISA", "reason"),
        ("start_date=2027-01-06&end_date=2027-01-05&reason=CNI", "end_date"),
        ("end_date=2027-01-05&reason=CNI", "start_date"),
    ],
)
def test_bad_slot_queries_name_the_field(desk, ants_client, query, field):
    response = ants_client.get(
        f"{BASE}/availableTimeSlots?meeting_point_ids={desk.public_id}&{query}"
    )
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_the_appointments_held_for_numbers(desk, ants_client):
    appointment = book(desk)
    body = ants_client.get(
        f"{BASE}/searchApplicationIds?application_ids={NUMBER}&application_ids=XX00XX00XX"
    ).json()
    assert body["XX00XX00XX"] == []
    [held] = body[NUMBER]
    assert held["datetime"] == "2027-01-05T08:00Z"
    assert held["management_url"].endswith(f"/mon-espace/rendez-vous/{appointment.public_id}/")
    actions.cancel_appointment(actor=appointment.person.user, appointment=appointment)
    again = ants_client.get(f"{BASE}/searchApplicationIds?application_ids={NUMBER}").json()
    assert again == {NUMBER: []}
