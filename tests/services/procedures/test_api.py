"""The procedures in the public API."""

import json

import jsonschema
import pytest

from services.procedures.models import ProcedureFile
from tests.documents_vault.factories import stored_document
from tests.factories import ResidentFactory, staff_user

from .factories import SAMPLE, submitted

pytestmark = pytest.mark.django_db

BASE = "/api/v1/procedures"


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def answers(resident, identity_card):
    return {
        "last_name": resident.last_name,
        "birth_date": "1985-05-17",
        "member": resident.public_id,
        "delivery": "email",
        "copies": 2,
        "contacts": [{"phone": "0612345678"}],
        "identity": identity_card.public_id,
    }


def test_the_types_describe_their_form_as_json_schema(client, resident, identity_card):
    types = client.get(f"{BASE}/types").json()
    sample = next(t for t in types if t["key"] == SAMPLE)
    schema = sample["form_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(answers(resident, identity_card), schema)
    assert schema["properties"]["address"]["x-shown-when"] == {
        "field": "delivery",
        "values": ["post"],
    }
    assert sample["document_kinds"] == ["identity_document"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**answers(resident, identity_card), "copies": "two"}, schema)


def test_a_resident_creates_submits_and_follows_a_file(client, resident, identity_card):
    client.force_login(resident.user)
    created = post(client, BASE, {"type": SAMPLE, "answers": answers(resident, identity_card)})
    assert created.status_code == 201, created.json()
    file_id = created.json()["id"]
    submitted_ = post(client, f"{BASE}/{file_id}/submit")
    assert submitted_.status_code == 200
    assert submitted_.json()["state"] == "submitted"
    detail = client.get(f"{BASE}/{file_id}").json()
    assert [e["kind"] for e in detail["timeline"]] == ["created", "submitted"]
    assert [f["id"] for f in client.get(BASE).json()] == [file_id]


def test_invalid_answers_are_a_422_naming_each_field(client, resident, identity_card):
    client.force_login(resident.user)
    body = {
        "type": SAMPLE,
        "answers": {
            **answers(resident, identity_card),
            "birth_date": "2999-01-01",
            "contacts": [{"phone": "123"}],
            "delivery": "pigeon",
        },
    }
    refused = post(client, BASE, body)
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"birth_date", "contacts", "delivery"}
    unknown = post(client, BASE, {"type": "nothing"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "type"


def test_a_second_open_request_is_a_409_naming_the_first(client, resident, identity_card):
    first = submitted(resident, identity_card)
    client.force_login(resident.user)
    created = post(client, BASE, {"type": SAMPLE, "answers": answers(resident, identity_card)})
    refused = post(client, f"{BASE}/{created.json()['id']}/submit")
    assert refused.status_code == 409
    assert refused.json()["code"] == "already_open"
    assert refused.json()["existing"] == first.public_id


@pytest.mark.parametrize("visitor", ["resident", "pool_agent", "finance_officer"])
def test_the_queue_is_refused_to_whoever_handles_no_procedure(
    client, resident, identity_card, visitor
):
    submitted(resident, identity_card)
    client.force_login(resident.user if visitor == "resident" else staff_user(visitor))
    refused = client.get(f"{BASE}/queue")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_staff_transitions_and_a_wrong_state_is_a_409_with_its_code(
    client, resident, identity_card
):
    file = submitted(resident, identity_card)
    client.force_login(staff_user("clerk"))
    queue = client.get(f"{BASE}/queue").json()
    assert [f["id"] for f in queue] == [file.public_id]
    taken = post(client, f"{BASE}/{file.public_id}/transitions/take")
    assert taken.json()["state"] == "in_review"
    again = post(client, f"{BASE}/{file.public_id}/transitions/take")
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"
    no_message = post(client, f"{BASE}/{file.public_id}/transitions/refuse", {"message": ""})
    assert no_message.status_code == 422
    assert no_message.json()["code"] == "invalid_fields"
    assert [e["field"] for e in no_message.json()["errors"]] == ["message"]
    assert ProcedureFile.objects.get(pk=file.pk).state == "in_review"


def test_residents_cannot_use_staff_transitions_nor_see_others_files(
    client, resident, identity_card
):
    file = submitted(resident, identity_card)
    client.force_login(resident.user)
    assert post(client, f"{BASE}/{file.public_id}/transitions/accept").status_code == 403
    client.force_login(ResidentFactory().user)
    assert client.get(f"{BASE}/{file.public_id}").status_code == 404


def test_the_resident_writes_with_a_document_of_their_safe(client, resident, identity_card):
    file = submitted(resident, identity_card)
    client.force_login(resident.user)
    written = post(
        client,
        f"{BASE}/{file.public_id}/messages",
        {"text": "Here it is", "documents": [identity_card.public_id]},
    )
    assert written.status_code == 201
    assert written.json()["timeline"][-1]["documents"] == [identity_card.public_id]
