"""POST /api/v1/taps as a reader sees it: its token, the JSON it sends, the 4xx it gets for
bad input, and no input that makes it fall over."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from card.actions import readers
from card.actions.taps import MAX_READER_CLOCK_AHEAD, MAX_READER_CLOCK_BEHIND
from card.models import Tap
from identity.models import AuditEntry
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    bearer,
    post_tap,
    reader_with_token,
    staff_user,
    sun_url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader_and_token():
    return reader_with_token()


def test_a_granted_tap_over_http(client, reader_and_token):
    _reader, token = reader_and_token
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    response = post_tap(client, token, credential=sun_url(card, 1))
    assert response.status_code == 200
    body = response.json()
    assert body["granted"] is True
    assert body["entitlement"]["remaining"] == 9
    assert body["holder"]["first_name"] == card.holder.first_name
    assert card.holder.last_name not in response.content.decode()


def test_a_refusal_is_a_decision_not_an_error(client, reader_and_token):
    _reader, token = reader_and_token
    response = post_tap(client, token, credential="not a card")
    assert response.status_code == 200
    assert response.json()["reason"] == "invalid_credential"


@pytest.mark.parametrize(
    "header", [None, "Bearer nonsense", "Bearer rdr_unknown_secret", "Token abc"]
)
def test_unknown_readers_are_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/taps", "{}", content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert not Tap.objects.exists()


def test_a_revoked_or_rotated_token_stops_working_at_once(client):
    admin = staff_user("admin")
    reader, token = reader_with_token()
    card = CardFactory()
    EntitlementFactory(holder=card.holder)
    assert post_tap(client, token, credential=sun_url(card, 1)).status_code == 200
    new_token = readers.rotate_reader_token(actor=admin, reader=reader)
    assert post_tap(client, token, credential=sun_url(card, 2)).status_code == 401
    assert post_tap(client, new_token, credential=sun_url(card, 3)).status_code == 200
    reader.refresh_from_db()
    readers.revoke_reader(actor=admin, reader=reader)
    assert post_tap(client, new_token, credential=sun_url(card, 4)).status_code == 401


def test_a_reader_token_is_stored_hashed(reader_and_token):
    reader, token = reader_and_token
    assert token.split("_", 2)[2] not in reader.token_hash
    assert len(reader.token_hash) == 64


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"credential": "x", "reader_time": "2026-13-01T00:00:00+01:00"}, "reader_time"),
        ({"credential": "x", "reader_time": "2026-11-25T10:00:00"}, "reader_time"),  # no offset
        (
            {
                "credential": "",
            },
            "credential",
        ),
        ({"credential": "x", "tap_id": ""}, "tap_id"),
        ({"credential": "x", "tap_id": "a" * 65}, "tap_id"),
        ({"reader_time": "2026-11-25T10:00:00+01:00"}, "credential"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, reader_and_token, body, field):
    _reader, token = reader_and_token
    response = post_tap(client, token, **body)
    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
    assert not Tap.objects.exists()


# Past the years every clock, database and date computation handles (1900–9998): a year-1 time
# east of UTC is not even a datetime once moved to UTC.
OUT_OF_RANGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "1899-12-31T23:59:59+00:00",
    "9999-01-01T00:00:00+00:00",
]


@pytest.mark.parametrize("reader_time", OUT_OF_RANGE_TIMES)
def test_a_reader_time_out_of_range_is_a_422_naming_the_field(reader_and_token, reader_time):
    _reader, token = reader_and_token
    card = CardFactory()
    quiet = Client(raise_request_exception=False)
    response = post_tap(quiet, token, credential=sun_url(card, 1), reader_time=reader_time)
    assert response.status_code == 422
    assert "reader_time" in [error["loc"][-1] for error in response.json()["detail"]]
    assert not Tap.objects.exists()


def test_a_tap_id_with_odd_characters_is_a_400(client, reader_and_token):
    _reader, token = reader_and_token
    response = post_tap(client, token, credential="x", tap_id="../../etc")
    assert response.status_code == 400
    assert response.json()["field"] == "tap_id"


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (timedelta(hours=3), "en avance"),
        (-timedelta(hours=3), "en retard"),
        (MAX_READER_CLOCK_AHEAD + timedelta(seconds=5), "en avance"),
        (-(MAX_READER_CLOCK_BEHIND + timedelta(seconds=5)), "en retard"),
    ],
    ids=["3h-ahead", "3h-behind", "just-ahead", "just-behind"],
)
def test_a_reader_clock_ahead_or_behind_is_refused_audited_and_consumes_nothing(
    client, reader_and_token, offset, words
):
    reader, token = reader_and_token
    card = CardFactory()
    book = EntitlementFactory(holder=card.holder)
    skewed = (timezone.now() + offset).isoformat()
    response = post_tap(client, token, credential=sun_url(card, 1), reader_time=skewed)
    assert response.status_code == 400
    assert response.json()["code"] == "clock_skew"
    assert response.json()["field"] == "reader_time"
    assert words in response.json()["message"]
    assert not Tap.objects.exists()
    assert AuditEntry.objects.filter(
        action="tap.refused.clock_skew", target=f"reader:{reader.public_id}"
    ).exists()
    book.refresh_from_db()
    assert book.entries_left == 10
    # The message was not burnt: the card still works once the clock is right.
    assert post_tap(client, token, credential=sun_url(card, 1)).json()["granted"] is True


def test_malformed_json_is_a_4xx(client, reader_and_token):
    _reader, token = reader_and_token
    response = client.post(
        "/api/v1/taps",
        "{oops",
        content_type="application/json",
        headers=bearer(token),
    )
    assert 400 <= response.status_code < 500


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    credential=st.one_of(
        st.text(max_size=1500),
        st.builds(
            lambda e, c: f"https://x/c/?e={e}&c={c}",
            st.text(alphabet="0123456789ABCDEFabcdefXYZ%&=?", max_size=40),
            st.text(alphabet="0123456789ABCDEF&=", max_size=20),
        ),
        st.builds(
            lambda n, s, c: f"S1.{n}.{s}.{c}",
            st.text(max_size=20),
            st.text(max_size=14),
            st.text(max_size=20),
        ),
    )
)
def test_no_credential_makes_the_endpoint_fail(reader_and_token, credential):
    """Fuzzing the credential parser through the API: always a 200 refusal or a 422, or the
    400 of the guard against NUL characters, naming the field."""
    _reader, token = reader_and_token
    response = post_tap(Client(), token, credential=credential)
    assert response.status_code in (200, 400, 422)
    if response.status_code == 200:
        assert response.json()["granted"] is False
    if response.status_code == 400:
        assert response.json()["field"] == "credential"


def test_a_reader_reports_when_it_was_last_seen(client, reader_and_token, monkeypatch):
    monkeypatch.setattr(readers, "_heartbeats", {})
    reader, token = reader_and_token
    assert reader.last_seen_at is None
    post_tap(client, token, credential="anything")
    reader.refresh_from_db()
    assert reader.last_seen_at is not None
