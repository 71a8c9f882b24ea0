"""The identity API: session auth for residents, bearer tokens for apps, 4xx naming the field."""

import pytest
from django.test import Client

from identity.actions.api_tokens import revoke_api_token
from identity.models import AuditEntry, Person
from tests.factories import CommuneFactory, ResidentFactory
from tests.identity.factories import api_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return ResidentFactory(first_name="Camille")


@pytest.fixture
def api(resident):
    client = Client()
    client.force_login(resident.user)
    return client


def test_the_openapi_document_is_published(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/household/members" in response.json()["paths"]


def test_anonymous_requests_are_refused(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/household").status_code == 401


def test_me_and_my_household(api, resident):
    me = api.get("/api/v1/me").json()
    assert me["first_name"] == "Camille"
    assert me["household_id"] == resident.household.public_id
    household = api.get("/api/v1/household").json()
    assert [m["id"] for m in household["members"]] == [resident.public_id]
    assert household["is_resident"] is True


def test_add_a_child_through_the_api(api, resident):
    response = api.post(
        "/api/v1/household/members",
        {"role": "child", "first_name": "Tom", "last_name": "Martin", "birth_date": "2019-02-08"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert resident.household.members.count() == 2
    assert AuditEntry.objects.filter(
        action="household.member_added", channel=AuditEntry.Channel.API
    ).exists()


def test_the_same_child_twice_is_a_409_with_its_code(api, resident):
    child = {
        "role": "child",
        "first_name": "Tom",
        "last_name": "Martin",
        "birth_date": "2019-02-08",
    }
    api.post("/api/v1/household/members", child, content_type="application/json")
    again = api.post(
        "/api/v1/household/members",
        {**child, "first_name": "TOM", "last_name": "Martín"},
        content_type="application/json",
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_a_member"
    assert again.json()["field"] == "first_name"
    assert resident.household.members.count() == 2
    schema = api.get("/api/v1/openapi.json").json()
    assert "409" in schema["paths"]["/api/v1/household/members"]["post"]["responses"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"role": "child", "first_name": "Tom", "last_name": "M", "birth_date": "2019-02-31"},
            "birth_date",
        ),
        (
            {"role": "cat", "first_name": "Tom", "last_name": "M", "birth_date": "2019-02-08"},
            "role",
        ),
        (
            {"role": "child", "first_name": "", "last_name": "M", "birth_date": "2019-02-08"},
            "first_name",
        ),
        ({"role": "child", "last_name": "M", "birth_date": "2019-02-08"}, "first_name"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(api, resident, payload, field):
    response = api.post("/api/v1/household/members", payload, content_type="application/json")
    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
    assert resident.household.members.count() == 1


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        (
            "/api/v1/household/members",
            {"role": "child", "first_name": "Tom", "last_name": "M"},
            "birth_date",
        ),
        (
            "/api/v1/household/address",
            {"line1": "2 rue Y", "postcode": "46090", "commune_insee": "46224"},
            "moved_in",
        ),
        ("/api/v1/household/quotients", {"amount": 700, "valid_until": "2026-12-31"}, "valid_from"),
        ("/api/v1/household/quotients", {"amount": 700, "valid_from": "2026-01-01"}, "valid_until"),
    ],
)
def test_a_day_out_of_range_is_a_422_naming_the_field(api, resident, url, payload, field, day):
    CommuneFactory(insee_code="46224")
    api.raise_request_exception = False
    response = api.post(url, {**payload, field: day}, content_type="application/json")
    assert response.status_code == 422
    assert field in [error["loc"][-1] for error in response.json()["detail"]]
    assert not AuditEntry.objects.exists()


def test_a_domain_refusal_is_a_400_naming_the_field(api, resident):
    response = api.post(
        "/api/v1/household/members",
        {"role": "child", "first_name": "Jo", "last_name": "M", "birth_date": "1990-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "birth_date"
    assert resident.household.members.count() == 1


def test_malformed_json_is_a_4xx(api):
    response = api.post("/api/v1/household/members", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500


def test_move_with_an_unknown_commune_names_the_field(api):
    response = api.post(
        "/api/v1/household/address",
        {
            "line1": "1 rue X",
            "postcode": "46000",
            "commune_insee": "99999",
            "moved_in": "2026-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "commune_insee"


def test_move_and_quotient(api, resident):
    commune = CommuneFactory(insee_code="46224")
    response = api.post(
        "/api/v1/household/address",
        {
            "line1": "2 rue Y",
            "postcode": "46090",
            "commune_insee": "46224",
            "moved_in": "2026-02-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["commune"]["name"] == commune.name
    response = api.post(
        "/api/v1/household/quotients",
        {"amount": 700, "valid_from": "2026-01-01", "valid_until": "2026-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert (
        api.post(
            "/api/v1/household/quotients",
            {"amount": -5, "valid_from": "2026-01-01", "valid_until": "2026-12-31"},
            content_type="application/json",
        ).status_code
        == 422
    )


def test_session_writes_need_the_csrf_token(resident):
    client = Client(enforce_csrf_checks=True)
    client.force_login(resident.user)
    response = client.post(
        "/api/v1/household/members",
        {"role": "child", "first_name": "Tom", "last_name": "M", "birth_date": "2019-02-08"},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert resident.household.members.count() == 1


def test_bearer_tokens_work_and_stop_working_once_revoked(client, resident):
    token, raw = api_token_for(resident.user, name="script")
    assert raw not in token.key_hash
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}x"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    revoke_api_token(actor=resident.user, token=token)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_resident_only_ever_sees_their_own_household(resident):
    other = ResidentFactory(first_name="Zoé")
    client = Client()
    client.force_login(other.user)
    body = client.get("/api/v1/household").json()
    assert body["id"] == other.household.public_id
    assert resident.public_id not in str(body)
    assert Person.objects.count() == 2
