"""The safe in the public API: list, add (multipart), read, download, delete; bad input is a
4xx naming the field and leaves nothing behind."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents_vault.actions import sharing
from documents_vault.actions.sharing import FileRef
from documents_vault.models import Document
from identity.models import StaffRole
from identity.permissions import Capability
from tests.documents_vault.conftest import stored_objects
from tests.documents_vault.factories import (
    EXECUTABLE,
    jpeg_bytes,
    pdf_bytes,
    png_bomb,
    stored_document,
)
from tests.factories import PersonFactory, ResidentFactory, staff_user
from tests.identity.factories import api_token_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/vault/documents"


@pytest.fixture
def camille(client):
    resident = ResidentFactory(first_name="Camille")
    client.force_login(resident.user)
    return resident


def upload(client, person, content=None, name="avis.pdf", **fields):
    data = {"kind": "tax_notice", "person_id": person.public_id, **fields}
    if content is not False:
        data["file"] = SimpleUploadedFile(name, pdf_bytes() if content is None else content)
    return client.post(URL, data)


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths[URL])
    assert {"get", "delete"} <= set(paths[URL + "/{document_id}"])
    assert "get" in paths[URL + "/{document_id}/file"]
    body = paths[URL]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body


def test_a_resident_adds_lists_reads_downloads_and_deletes(client, camille):
    child = PersonFactory(household=camille.household, role="child", first_name="Tom")
    response = upload(client, camille, expires_on="2030-01-31")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "tax_notice"
    assert created["person_first_name"] == "Camille"
    assert created["expires_on"] == "2030-01-31"
    assert created["verification"] == "pending"  # a tax notice goes to the clerks' queue
    assert len(created["id"]) >= 16
    assert not created["id"].isdigit()
    response = upload(client, child, content=jpeg_bytes(), name="tom.jpg", kind="photo")
    assert response.status_code == 201
    listed = client.get(URL).json()
    assert {d["person_first_name"] for d in listed} == {"Camille", "Tom"}
    detail = client.get(f"{URL}/{created['id']}").json()
    assert detail["current"]["content_type"] == "application/pdf"
    file = client.get(f"{URL}/{created['id']}/file")
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == pdf_bytes()
    assert file["Content-Disposition"].startswith("attachment")
    assert file["X-Content-Type-Options"] == "nosniff"
    assert client.delete(f"{URL}/{created['id']}").status_code == 204
    assert client.get(f"{URL}/{created['id']}").status_code == 404


def test_a_bearer_token_works_too(camille):
    _token, raw = api_token_for(camille.user, name="mon script")
    api = Client()
    headers = {"Authorization": f"Bearer {raw}"}
    response = api.post(
        URL,
        {
            "kind": "other",
            "person_id": camille.public_id,
            "file": SimpleUploadedFile("a.pdf", pdf_bytes()),
        },
        headers=headers,
    )
    assert response.status_code == 201
    assert len(api.get(URL, headers=headers).json()) == 1


BAD = {
    "no file": ({"content": False}, 400, "file"),
    "an empty file": ({"content": b""}, 400, "file"),
    "an executable renamed .pdf": ({"content": EXECUTABLE}, 415, "file"),
    "a PDF renamed .jpg": ({"name": "photo.jpg"}, 415, "file"),
    "a PNG bomb": ({"content": png_bomb(), "name": "b.png"}, 400, "file"),
    "an unknown kind": ({"kind": "passport_of_the_cat"}, 400, "kind"),
    "an expiry date on a kind without one": (
        {"kind": "photo", "content": jpeg_bytes(), "name": "a.jpg", "expires_on": "2030-01-01"},
        400,
        "expires_on",
    ),
    "an expiry date that is not a date": ({"expires_on": "demain"}, 422, None),
}


@pytest.mark.parametrize(("fields", "status", "field"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    client, camille, vault_dir, fields, status, field
):
    response = upload(client, camille, **fields)
    assert response.status_code == status, response.content
    if field:
        assert response.json()["field"] == field
        assert response.json()["message"]
    assert Document.objects.count() == 0
    assert stored_objects(vault_dir) == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_an_expiry_date_out_of_range_is_a_422_naming_the_field_as_on_every_endpoint(
    client, camille, vault_dir, day
):
    response = upload(client, camille, expires_on=day)
    assert response.status_code == 422, response.content
    assert "expires_on" in [error["loc"][-1] for error in response.json()["detail"]]
    assert Document.objects.count() == 0


def test_another_household_member_id_is_refused(client, camille):
    stranger = ResidentFactory()
    response = upload(client, stranger)
    assert response.status_code == 400
    assert response.json()["field"] == "person_id"


def test_a_file_over_the_limit_is_dropped_while_received_without_a_temporary_file(
    client, camille, settings, tmp_path, vault_dir
):
    settings.SESAME_VAULT_MAX_UPLOAD_BYTES = 100_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000  # force Django's temporary files
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    big = pdf_bytes() + b"%" + b"0" * 300_000
    response = upload(client, camille, content=big)
    assert response.status_code == 413
    refused = response.json()
    assert (refused["code"], refused["field"]) == ("too_large", "file")
    assert refused["message"].startswith("Le fichier dépasse")
    assert list((tmp_path / "uploads").iterdir()) == []
    assert stored_objects(vault_dir) == []
    # A refused type past the in-memory size leaves no temporary file either.
    response = upload(client, camille, content=EXECUTABLE + b"\x00" * 50_000)
    assert response.status_code == 415
    assert list((tmp_path / "uploads").iterdir()) == []


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "..\\..\\boot.pdf", "a\x00.pdf"])
def test_a_file_name_with_a_path_or_a_nul_is_refused(client, camille, vault_dir, name):
    boundary = "----sesame"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="person_id"\r\n\r\n'
            f"{camille.public_id}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + pdf_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST", URL, body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsafe_name"
    assert Document.objects.count() == 0
    assert stored_objects(vault_dir) == []


def test_staff_download_a_shared_document_with_the_share_id():
    camille = ResidentFactory()
    document = stored_document(camille)
    share = sharing.share_document(
        actor=camille.user,
        document=document,
        target=FileRef(
            kind="procedure", id="p-1", label="Démarche", capability=Capability.EDIT_RESIDENT_FILE
        ),
    )
    clerk = staff_user(StaffRole.Role.CLERK)
    _token, raw = api_token_for(clerk, name="guichet")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    ok = api.get(f"{URL}/{document.public_id}/file", {"share": share.public_id})
    assert ok.status_code == 200
    # The share of one document does not open another.
    other = stored_document(camille, content=pdf_bytes(pages=2))
    assert api.get(f"{URL}/{other.public_id}/file", {"share": share.public_id}).status_code == 404
    # And without a share, a clerk reads nothing through the resident's endpoints.
    assert api.get(f"{URL}/{document.public_id}").status_code == 404


def test_an_account_without_a_household_gets_a_404(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(URL).status_code == 404
