"""Civil-status certificates under décret 2017-890: who may receive which copy."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from services.civil_status import procedures
from services.civil_status.procedures import may_receive
from services.procedures.errors import FieldErrors
from tests.documents_vault.factories import stored_document
from tests.factories import ResidentFactory

from .factories import accept, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("act", "copy", "relationship", "allowed"),
    [
        ("birth", "extract_plain", "other", True),  # extracts without parentage: anyone
        ("birth", "full_copy", "other", False),
        ("birth", "extract_parentage", "other", False),
        ("birth", "full_copy", "self", True),
        ("birth", "full_copy", "ascendant", True),
        ("birth", "extract_parentage", "descendant", True),
        ("marriage", "full_copy", "spouse", True),
        ("marriage", "extract_parentage", "legal_representative", True),
        ("marriage", "full_copy", "other", False),
        ("death", "full_copy", "other", True),  # death acts: anyone
    ],
)
def test_who_may_receive_which_copy(act, copy, relationship, allowed):
    assert may_receive(act=act, copy=copy, relationship=relationship) is allowed


def answers(resident, **more):
    return {
        "act": "birth",
        "copy": "extract_plain",
        "last_name": "Martin",
        "first_names": "Léa",
        "event_date": "2015-06-21",
        "relationship": "other",
        "delivery": "email",
        "email": "lea@example.org",
        **more,
    }


def test_a_full_copy_for_a_stranger_is_refused_naming_the_relationship():
    resident = ResidentFactory()
    identity = stored_document(resident, kind="identity_document")
    with pytest.raises(FieldErrors) as refused:
        submit(
            procedures.KEY,
            resident,
            answers(
                resident, copy="full_copy", father_names="Jean Martin", identity=identity.public_id
            ),
        )
    assert list(refused.value.errors) == ["relationship"]


def test_a_full_copy_asks_for_the_parents_names():
    resident = ResidentFactory()
    identity = stored_document(resident, kind="identity_document")
    with pytest.raises(FieldErrors) as refused:
        submit(
            procedures.KEY,
            resident,
            answers(resident, copy="full_copy", relationship="self", identity=identity.public_id),
        )
    assert "father_names" in refused.value.errors


def test_an_accepted_request_gives_a_free_certificate_by_the_way_chosen(client):
    resident = ResidentFactory()
    file = accept(submit(procedures.KEY, resident, answers(resident)))
    client.force_login(resident.user)
    response = client.get(reverse("procedures:outcome", args=[file.public_id]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Extrait sans filiation" in text
    assert "lea@example.org" in text
    assert "gratuite" in text
