"""What guards every request before a view sees it: NUL characters refused in every input (JSON
bodies included), and request bodies capped by size before they are read."""

import io
import json

import pytest
from django.test import override_settings

from identity.models import AuditEntry, HouseholdAddress, Person
from tests.factories import CommuneFactory, ResidentFactory

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def resident():
    return ResidentFactory(first_name="Camille")


@pytest.fixture
def api(client, resident):
    """The resident's session, as their browser calls the API with it."""
    client.force_login(resident.user)
    return client


def post_json(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


# --- NUL characters in JSON bodies (PostgreSQL refuses them in text: it was a 500) ----------


def test_a_nul_character_in_a_json_first_name_is_a_400_naming_the_field(api, resident):
    response = post_json(
        api,
        "/api/v1/household/members",
        {
            "role": "child",
            "first_name": "Lé\x00a",
            "last_name": "Martin",
            "birth_date": "2019-02-08",
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_characters"
    assert response.json()["field"] == "first_name"
    assert Person.objects.count() == 1
    assert not AuditEntry.objects.filter(action="household.member_added").exists()


def test_a_nul_character_in_a_json_address_is_a_400_naming_the_field(api, resident):
    commune = CommuneFactory()
    response = post_json(
        api,
        "/api/v1/household/address",
        {
            "line1": "8 quai Cavaignac",
            "line2": "bât.\x00B",
            "postcode": "46000",
            "commune_insee": commune.insee_code,
            "moved_in": "2025-05-01",
        },
    )
    assert response.status_code == 400
    assert response.json()["field"] == "line2"
    assert HouseholdAddress.objects.filter(household=resident.household).count() == 1


def test_nested_fields_and_keys_are_named_by_their_path(api):
    response = post_json(api, "/api/v1/taps/batch", {"taps": [{"credential": "x"}, {"id\x00": 1}]})
    assert response.status_code == 400
    assert response.json()["field"] == "taps.1.id"


def test_json_sent_under_another_content_type_is_checked_too(api):
    """django-ninja parses the body as JSON whatever its content type says."""
    response = api.post(
        "/api/v1/household/members",
        json.dumps({"role": "child", "first_name": "T\x00m"}),
        content_type="text/plain",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "first_name"


def test_a_clean_json_body_still_reaches_the_endpoint(api, resident):
    response = post_json(
        api,
        "/api/v1/household/members",
        {"role": "child", "first_name": "Léa", "last_name": "Martin", "birth_date": "2019-02-08"},
    )
    assert response.status_code == 201


# --- Request size: refused from Content-Length before the body is read ----------------------


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_huge_upload_is_refused_from_its_content_length_without_reading_it(client):
    response = client.generic(
        "POST",
        "/mon-espace/cartes/demande/someone/",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(100 * MB),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "12 Mo" in page  # the cap, in words a person reads


def test_a_huge_api_body_is_a_413_in_json(client):
    response = client.generic(
        "POST",
        "/api/v1/taps",
        b"",
        content_type="application/json",
        CONTENT_LENGTH=str(13 * MB),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@override_settings(SESAME_MAX_REQUEST_BYTES=1000)
def test_the_cap_is_a_setting(client):
    response = client.post("/accounts/login/", {"login": "a" * 2000, "password": "x"})
    assert response.status_code == 413
    assert client.post("/accounts/login/", {"login": "a", "password": "x"}).status_code == 200


def chunked(client, body: bytes, url: str = "/api/v1/taps"):
    """A body sent with Transfer-Encoding: chunked, as gunicorn hands it over: no
    Content-Length, the server marks the input as terminated at the end of the body."""
    return client.generic(
        "POST",
        url,
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )


@override_settings(SESAME_MAX_REQUEST_BYTES=1000)
def test_a_chunked_body_without_content_length_is_cut_at_the_cap(client):
    response = chunked(client, b'{"tap_id": "' + b"x" * 5000 + b'"}')
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_chunked_body_under_the_cap_is_read_whole(api):
    response = chunked(
        api,
        json.dumps({"role": "child", "first_name": "T\x00m"}).encode(),
        url="/api/v1/household/members",
    )
    # The body reached the guards (a NUL named in it), so it was read, not dropped.
    assert response.status_code == 400
    assert response.json()["field"] == "first_name"


def test_django_upload_limits_are_set_below_the_cap(settings):
    assert settings.SESAME_MAX_REQUEST_BYTES == 12 * MB
    # A non-file body (forms, JSON) is small; files above the photo limit go to disk.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * MB
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 5 * MB


def test_a_form_or_json_body_above_djangos_limit_is_a_413_with_that_limit(client, api):
    form = client.post("/accounts/login/", {"login": "a" * (3 * MB), "password": "x"})
    assert form.status_code == 413
    assert "2 Mo" in form.content.decode()
    body = post_json(api, "/api/v1/household/members", {"first_name": "a" * (3 * MB)})
    assert body.status_code == 413
    assert body.json()["code"] == "request_too_large"
