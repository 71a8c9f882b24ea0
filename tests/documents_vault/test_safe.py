"""A resident keeps their household's documents: add, list, download, replace, delete.
Each file is encrypted under a key of its own and stored under a name that says nothing."""

import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from documents_vault import crypto, queries, storage
from documents_vault.actions import access, uploads, verification
from documents_vault.models import Document, DocumentEvent, DocumentVersion
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Person, StaffRole
from tests.documents_vault.conftest import stored_objects
from tests.documents_vault.factories import jpeg_bytes, pdf_bytes, png_bytes, stored_document
from tests.factories import (
    PersonFactory,
    ResidentFactory,
    UserFactory,
    guardian_and_child,
    staff_user,
)

pytestmark = pytest.mark.django_db

State = DocumentVersion.State


def test_a_document_is_stored_encrypted_under_a_random_name(vault_dir):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    content = pdf_bytes()
    document = stored_document(camille, kind="family_record_book", content=content)
    version = document.versions.get()
    [path] = stored_objects(vault_dir)
    relative = path.relative_to(vault_dir).as_posix()
    assert relative == version.object_name
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{32}", relative)
    for revealing in (document.public_id, version.public_id, "Martin", "family", "pdf"):
        assert revealing not in relative
    stored = path.read_bytes()
    assert content not in stored
    assert b"%PDF" not in stored
    assert version.ciphertext_sha256 == crypto.integrity_hash(stored)
    assert version.key_id == crypto.master_key().key_id
    # The data key is stored only wrapped: it is not the master key, and it is per version.
    other = stored_document(camille, content=pdf_bytes(pages=2)).versions.get()
    assert bytes(version.wrapped_key) != bytes(other.wrapped_key)


def test_the_resident_downloads_the_file_as_it_was_given(client):
    camille = ResidentFactory()
    content = pdf_bytes(pages=3)
    document = stored_document(camille, kind="tax_notice", content=content, name="avis.pdf")
    client.force_login(camille.user)
    response = client.get(reverse("documents_vault:download", args=[document.public_id]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="avis.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    event = document.events.get(action=DocumentEvent.Action.DOWNLOADED)
    assert event.actor == camille.user


def test_the_list_shows_each_document_with_its_member_and_state(client):
    camille, lea = guardian_and_child()
    camille.first_name = "Camille"
    camille.save()
    lea.first_name = "Léa"
    lea.save()
    with time_machine.travel(date(2026, 3, 2), tick=False):
        stored_document(lea, kind="vaccination_record", actor=camille.user)
        stored_document(
            camille,
            kind="identity_document",
            content=pdf_bytes(pages=2),
            expires_on=date(2026, 3, 20),
        )
    client.force_login(camille.user)
    with time_machine.travel(date(2026, 3, 10), tick=False):
        page = client.get(reverse("documents_vault:list")).content.decode()
    assert "Carnet de vaccination" in page
    assert "Léa" in page
    assert "Pièce d’identité" in page
    assert "valable jusqu’au 20 mars 2026" in page
    assert "Expire bientôt" in page
    with time_machine.travel(date(2026, 3, 21), tick=False):
        page = client.get(reverse("documents_vault:list")).content.decode()
    assert "expiré le 20 mars 2026" in page


def test_uploading_from_the_page(client, vault_dir):
    camille = ResidentFactory()
    client.force_login(camille.user)
    response = client.post(
        reverse("documents_vault:add"),
        {
            "file": SimpleUploadedFile("IMG_1.jpg", jpeg_bytes(gps=True), "image/jpeg"),
            "kind": "photo",
            "person": camille.public_id,
        },
    )
    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.kind, document.person) == ("photo", camille)
    download = client.get(reverse("documents_vault:download", args=[document.public_id]))
    image = Image.open(io.BytesIO(b"".join(download.streaming_content)))
    assert dict(image.getexif()) == {}  # no location, no camera


def test_a_refused_upload_says_why_next_to_the_file_and_keeps_nothing(client, vault_dir):
    camille = ResidentFactory()
    client.force_login(camille.user)
    response = client.post(
        reverse("documents_vault:add"),
        {
            "file": SimpleUploadedFile("photo.jpg", pdf_bytes(), "image/jpeg"),
            "kind": "photo",
            "person": camille.public_id,
        },
    )
    assert response.status_code == 415
    assert "Ce fichier est un PDF mais son nom se termine par .jpg" in response.content.decode()
    assert Document.objects.count() == 0
    assert stored_objects(vault_dir) == []


def test_the_same_file_twice_is_refused_pick_it_from_the_safe():
    camille = ResidentFactory()
    content = pdf_bytes()
    stored_document(camille, kind="proof_of_address", content=content)
    with pytest.raises(Conflict) as refused:
        stored_document(camille, kind="other", content=content)
    assert refused.value.code == "duplicate"


def test_only_kinds_with_an_end_of_validity_take_an_expiry_date():
    camille = ResidentFactory()
    with pytest.raises(DomainError) as refused:
        stored_document(camille, kind="family_record_book", expires_on=date(2030, 1, 1))
    assert refused.value.field == "expires_on"
    with pytest.raises(DomainError):
        stored_document(camille, kind="identity_document", expires_on=date(2001, 1, 1))


def test_an_adult_files_for_the_household_a_stranger_cannot():
    camille = ResidentFactory()
    partner = PersonFactory(household=camille.household)
    stored_document(partner, actor=camille.user)
    with pytest.raises(Forbidden):
        stored_document(camille, actor=ResidentFactory().user)


def test_replacing_a_document_destroys_the_old_version(
    vault_dir, django_capture_on_commit_callbacks
):
    camille = ResidentFactory()
    document = stored_document(camille, kind="vaccination_record")
    old = document.versions.get()
    with django_capture_on_commit_callbacks(execute=True):
        new = uploads.replace_document(
            actor=camille.user,
            document=document,
            file_name="carnet.png",
            content=png_bytes(),
            replaces=old.public_id,
        )
    old.refresh_from_db()
    assert new.state == State.CURRENT
    assert new.number == 2
    assert old.state == State.SHREDDED
    assert old.wrapped_key is None
    assert old.object_name == ""
    assert [p.relative_to(vault_dir).as_posix() for p in stored_objects(vault_dir)] == [
        new.object_name
    ]
    decrypted = access.download_own(actor=camille.user, public_id=document.public_id)
    assert decrypted.content_type == "image/png"


def verified_proof_of_address():
    """Camille's proof of address, verified by a clerk: (camille, clerk, document, version)."""
    camille = ResidentFactory()
    clerk = staff_user(StaffRole.Role.CLERK)
    document = stored_document(camille, kind="proof_of_address")
    first = document.versions.get()
    verification.verify(
        actor=clerk,
        version_public_id=first.public_id,
        findings=verification.Findings(proof_date=date.today() - timedelta(days=3)),
    )
    return camille, clerk, document, first


def test_a_verified_version_stays_until_the_clerk_accepts_its_replacement():
    camille, clerk, document, first = verified_proof_of_address()
    second = uploads.replace_document(
        actor=camille.user, document=document, file_name="edf.pdf", content=pdf_bytes(pages=2)
    )
    assert second.state == State.PENDING
    # Until then the verified version is the document's content.
    assert access.download_own(actor=camille.user, public_id=document.public_id).content == (
        pdf_bytes()
    )
    verification.verify(
        actor=clerk,
        version_public_id=second.public_id,
        findings=verification.Findings(proof_date=date.today()),
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (State.SHREDDED, State.CURRENT)


def test_a_rejected_replacement_is_destroyed_and_the_verified_version_stays():
    camille, clerk, document, first = verified_proof_of_address()
    second = uploads.replace_document(
        actor=camille.user, document=document, file_name="x.pdf", content=pdf_bytes(pages=4)
    )
    verification.reject(actor=clerk, version_public_id=second.public_id, reason="Illisible")
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.state == State.SHREDDED
    assert second.rejection_reason == "Illisible"
    assert first.state == State.CURRENT


def test_deleting_destroys_the_key_so_a_backup_copy_cannot_be_read(
    vault_dir, django_capture_on_commit_callbacks
):
    camille = ResidentFactory()
    document = stored_document(camille, kind="tax_notice")
    version = document.versions.get()
    backup = {p.name: p.read_bytes() for p in stored_objects(vault_dir)}  # a storage backup
    wrapped, key_id = bytes(version.wrapped_key), version.key_id
    # (the backup of the database would hold the wrapped key too: it is not in any copy now)
    with django_capture_on_commit_callbacks(execute=True):
        uploads.delete_document(actor=camille.user, document=document)
    version.refresh_from_db()
    document.refresh_from_db()
    assert document.is_deleted
    assert version.wrapped_key is None
    assert version.state == State.SHREDDED
    assert stored_objects(vault_dir) == []
    assert backup
    assert wrapped
    assert key_id
    assert DocumentVersion.objects.filter(wrapped_key__isnull=False).count() == 0
    assert queries.document_for(camille.user, document.public_id) is None
    assert document.events.filter(action=DocumentEvent.Action.DELETED).exists()


def test_the_delete_page_asks_first(client):
    camille = ResidentFactory()
    document = stored_document(camille)
    client.force_login(camille.user)
    url = reverse("documents_vault:delete", args=[document.public_id])
    assert "Supprimer définitivement" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert Document.objects.get().is_deleted


def test_a_teenager_with_a_login_sees_their_own_documents_only():
    camille = ResidentFactory()
    teen = PersonFactory(household=camille.household, role=Person.Role.CHILD, user=UserFactory())
    mine = stored_document(teen)
    parents = stored_document(camille, content=pdf_bytes(pages=2))
    assert list(queries.documents_visible_to(teen.user)) == [mine]
    assert set(queries.documents_visible_to(camille.user)) == {mine, parents}


def test_the_object_name_alone_is_not_enough_to_read_a_file(vault_dir):
    """Storage access without the database (its wrapped key) reads nothing."""
    camille = ResidentFactory()
    document = stored_document(camille)
    version = document.versions.get()
    sealed = storage.read_object(version.object_name)
    with pytest.raises(crypto.TamperedError):
        crypto.decrypt_file(sealed, data_key=crypto.new_data_key(), binding=version.public_id)
