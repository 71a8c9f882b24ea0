"""POST /api/v1/canteen/bookings: a parent books a month of lunches for a child in their care,
with their session; bad fields are a 422 naming the field, a full day a 409, the same key sent
again books once, and the SQL of a month costs what a week costs."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from services.canteen.models import Booking, ServiceDay
from tests.factories import guardian_and_child
from tests.services.canteen.factories import canteen_site, enrolled_child, lunch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

# Tuesday 1 December 2026, 10:00 in Paris.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
URL = "/api/v1/canteen/bookings"


@pytest.fixture
def family():
    site = canteen_site()
    service = lunch(site)
    guardian, child = enrolled_child(site)
    client = Client()
    client.force_login(guardian.user)
    with time_machine.travel(NOW, tick=False):
        yield client, child, service


def lunch_days(first: date, count: int) -> list[date]:
    """The first `count` days the lunch runs (Monday, Tuesday, Thursday, Friday) from `first`,
    skipping the Christmas holidays."""
    days, day = [], first
    while len(days) < count:
        if day.weekday() in (0, 1, 3, 4) and not date(2026, 12, 19) <= day < date(2027, 1, 4):
            days.append(day)
        day += timedelta(days=1)
    return days


def book(client, child, service, days, key="k1"):
    return client.post(
        URL,
        {
            "child": child.public_id,
            "service": service.public_id,
            "days": [d.isoformat() for d in days],
            "idempotency_key": key,
        },
        content_type="application/json",
    )


def test_a_parent_books_a_month_of_lunches(family):
    client, child, service = family
    days = lunch_days(date(2027, 1, 4), 16)
    response = book(client, child, service, days)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["booked"] == [d.isoformat() for d in days]
    assert body["skipped"] == []
    assert Booking.objects.filter(child=child, state="booked").count() == 16
    assert ServiceDay.objects.filter(service=service, booked=1).count() == 16


def test_the_same_key_sent_again_books_once_and_answers_the_same(family):
    client, child, service = family
    days = lunch_days(date(2027, 1, 4), 4)
    first = book(client, child, service, days, key="retry")
    again = book(client, child, service, days, key="retry")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Booking.objects.filter(child=child).count() == 4
    assert set(ServiceDay.objects.values_list("booked", flat=True)) == {1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"days": []}, "days"),
        ({"days": ["2026-13-01"]}, "days"),
        ({"days": ["2026-12-03", "2028-01-04"]}, "days"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"child": "no such/id"}, "child"),
    ],
)
def test_bad_fields_are_a_422_naming_them_and_write_nothing(family, change, field):
    client, child, service = family
    payload = {
        "child": child.public_id,
        "service": service.public_id,
        "days": ["2026-12-03"],
        "idempotency_key": "k",
        **change,
    }
    response = client.post(URL, payload, content_type="application/json")
    assert response.status_code == 422
    assert field in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 12, 21), "21 décembre 2026"),  # Christmas holidays
        (date(2026, 12, 2), "2 décembre 2026"),  # a Wednesday
        (date(2026, 11, 30), "30 novembre 2026"),  # past
    ],
)
def test_a_day_that_cannot_be_booked_is_a_422_on_days_and_nothing_is_written(family, day, words):
    client, child, service = family
    response = book(client, child, service, [date(2026, 12, 3), day])
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "days"
    assert body["code"] == "not_bookable"
    assert words in body["message"]  # the day, in the caller's language (French by default)
    assert not Booking.objects.exists()


def test_a_full_day_is_a_409_full(family):
    client, child, service = family
    service.capacity = 0
    service.save()
    response = book(client, child, service, [date(2026, 12, 3)])
    assert response.status_code == 409
    assert response.json()["code"] == "full"
    assert not Booking.objects.exists()


def test_a_child_of_another_household_is_a_404_on_child(family):
    client, _child, service = family
    _other_parent, other_child = guardian_and_child()
    response = book(client, other_child, service, [date(2026, 12, 3)])
    assert response.status_code == 404
    assert response.json()["field"] == "child"
    assert not Booking.objects.exists()


def test_the_api_needs_a_login(family):
    _client, child, service = family
    assert book(Client(), child, service, [date(2026, 12, 3)]).status_code == 401


def test_the_sql_of_a_month_booking_does_not_grow_with_its_days(family):
    """5 days and 20 days cost the same statements: the rows are written in bulk and the
    service-days' counters taken and locked in one statement, whatever the number of days."""
    client, child, service = family
    book(client, child, service, [date(2026, 12, 3)], key="warm")
    counts = {}
    for key, first, count in [("five", date(2026, 12, 7), 5), ("twenty", date(2027, 1, 4), 20)]:
        days = lunch_days(first, count)
        with CaptureQueriesContext(connection) as queries:
            response = book(client, child, service, days, key=key)
        assert response.status_code == 200, response.content
        assert len(response.json()["booked"]) == count
        counts[key] = [q["sql"] for q in queries.captured_queries]
    assert len(counts["five"]) == len(counts["twenty"]), counts
    # The places of every day are taken (and their counters locked) by one upsert.
    counters = [sql for sql in counts["twenty"] if "canteen_serviceday" in sql]
    assert len(counters) == 1
    assert "ON CONFLICT" in counters[0]
