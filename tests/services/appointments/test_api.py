"""The appointments API: desks, free slots, booking (409 `slot_taken` when the last place went
to someone else, the same key booking once), cancelling; bad input is a 422 naming the field,
nothing written."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from services.appointments import actions
from services.appointments.models import Appointment
from tests.factories import ResidentFactory, guardian_and_child
from tests.services.appointments.factories import DeskFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # Monday 10:00 in Paris
SLOT = "2027-01-05T09:00:00+01:00"  # Tuesday 09:00 in Paris


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def api_client(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def post(client, **payload):
    return client.post("/api/v1/appointments", payload, content_type="application/json")


def test_the_desks_with_what_to_bring():
    desk = DeskFactory(what_to_bring="Le livret de famille.")
    DeskFactory(active=False)
    body = api_client(ResidentFactory()).get("/api/v1/appointments/desks").json()
    assert [(d["id"], d["what_to_bring"], d["slot_minutes"]) for d in body] == [
        (desk.public_id, "Le livret de famille.", 15)
    ]


def test_the_slots_of_a_desk_between_two_days_with_their_places_left():
    desk = DeskFactory(stations=2)
    client = api_client(ResidentFactory())
    response = client.get(
        "/api/v1/appointments/slots",
        {"desk": desk.public_id, "from": "2027-01-05", "to": "2027-01-05"},
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 12  # 09:00–12:00 in 15 minutes
    assert body[0]["starts_at"].startswith("2027-01-05T08:00:00")  # UTC
    assert body[0]["places_left"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2027-01-05", "to": "2027-01-04"}, "to"),
        ({"from": "2027-01-05", "to": "2027-06-30"}, "to"),
        ({"from": "05/01/2027", "to": "2027-01-05"}, "from"),
        ({"to": "2027-01-05"}, "from"),
    ],
)
def test_bad_days_are_a_422_naming_the_field(query, field):
    desk = DeskFactory()
    response = api_client(ResidentFactory()).get(
        "/api/v1/appointments/slots", {"desk": desk.public_id, **query}
    )
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_book_then_the_same_key_again_then_cancel():
    desk = DeskFactory(stations=2)
    parent, child = guardian_and_child()
    client = api_client(parent)
    payload = {"desk": desk.public_id, "person_id": child.public_id, "starts_at": SLOT}
    first = post(client, **payload, idempotency_key="k-1")
    again = post(client, **payload, idempotency_key="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["channel"] == "api"
    assert Appointment.objects.count() == 1
    gone = client.delete(f"/api/v1/appointments/{first.json()['id']}")
    assert gone.status_code == 200
    assert gone.json()["status"] == "cancelled"


def test_a_slot_gone_to_someone_else_is_a_409_slot_taken():
    desk = DeskFactory()
    other = ResidentFactory()
    actions.book_appointment(
        actor=other.user, person=other, desk=desk, starts_at=datetime(2027, 1, 5, 8, tzinfo=UTC)
    )
    me = ResidentFactory()
    response = post(api_client(me), desk=desk.public_id, person_id=me.public_id, starts_at=SLOT)
    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert response.json()["field"] == "starts_at"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"starts_at": "2027-01-05T09:00:00"}, 422, "starts_at"),  # no offset
        ({"starts_at": "demain"}, 422, "starts_at"),
        ({"desk": "../x"}, 422, "desk"),
        ({"starts_at": "2027-01-05T09:07:00+01:00"}, 400, "starts_at"),  # not a slot
        ({"starts_at": "2027-01-03T09:00:00+01:00"}, 400, "starts_at"),  # past
        ({"desk": "unknowndesk"}, 404, "desk"),
        ({"person_id": "someoneelse"}, 404, "person_id"),
    ],
)
def test_bad_bookings_name_the_field_and_write_nothing(change, status, field):
    desk = DeskFactory()
    me = ResidentFactory()
    payload = {"desk": desk.public_id, "person_id": me.public_id, "starts_at": SLOT, **change}
    response = post(api_client(me), **payload)
    assert response.status_code == status
    body = response.json()
    named = [e["loc"][-1] for e in body["detail"]] if status == 422 else [body["field"]]
    assert named == [field]
    assert Appointment.objects.count() == 0


def test_nobody_cancels_someone_elses_appointment():
    desk = DeskFactory()
    owner = ResidentFactory()
    appointment = actions.book_appointment(
        actor=owner.user, person=owner, desk=desk, starts_at=datetime(2027, 1, 5, 8, tzinfo=UTC)
    )
    response = api_client(ResidentFactory()).delete(f"/api/v1/appointments/{appointment.public_id}")
    assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_the_api_needs_a_login():
    assert Client().get("/api/v1/appointments/desks").status_code == 401


def test_two_months_of_slots_cost_a_fixed_number_of_queries(django_assert_max_num_queries):
    desk = DeskFactory(stations=2)
    me = ResidentFactory()
    for offset in range(0, 60, 7):  # an appointment a week
        someone = ResidentFactory()
        actions.book_appointment(
            actor=someone.user,
            person=someone,
            desk=desk,
            starts_at=datetime(2027, 1, 5, 8, tzinfo=UTC) + timedelta(days=offset),
        )
    client = api_client(me)
    query = {"desk": desk.public_id, "from": "2027-01-04", "to": "2027-03-06"}
    with django_assert_max_num_queries(8):  # session, user, desk, patterns, days, taken, blocks
        body = client.get("/api/v1/appointments/slots", query).json()
    assert len(body) > 400
