"""The whole safe as one ZIP in open formats with a JSON manifest; a reminder 30 days before a
document expires, once per expiry date."""

import io
import json
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from PIL import Image
from pypdf import PdfReader

from documents_vault.actions import maintenance
from documents_vault.models import DocumentEvent
from tests.documents_vault.conftest import stored_objects
from tests.documents_vault.factories import jpeg_bytes, pdf_bytes, stored_document
from tests.factories import PersonFactory, ResidentFactory

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def test_the_export_holds_every_file_in_its_format_and_a_manifest(client, vault_dir):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    lea = PersonFactory(household=camille.household, first_name="Léa", role="child")
    stored_document(camille, kind="tax_notice", content=pdf_bytes(pages=2), name="avis.pdf")
    stored_document(lea, kind="photo", content=jpeg_bytes(), name="lea.jpg", actor=camille.user)
    client.force_login(camille.user)
    response = client.get(reverse("documents_vault:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="mes-documents-')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "sesame-documents/1"
    entries = {entry["kind"]: entry for entry in manifest["documents"]}
    assert set(entries) == {"tax_notice", "photo"}
    tax = entries["tax_notice"]
    assert tax["verification"]["status"] == "pending"
    assert tax["person"]["first_name"] == "Camille"
    assert len(PdfReader(io.BytesIO(archive.read(tax["file"]))).pages) == 2
    assert Image.open(io.BytesIO(archive.read(entries["photo"]["file"]))).format == "JPEG"
    assert all(e["file"].startswith("documents/") for e in manifest["documents"])
    assert DocumentEvent.objects.filter(action=DocumentEvent.Action.EXPORTED).count() == 2


def test_an_unreadable_document_is_listed_not_exported(client, vault_dir):
    camille = ResidentFactory()
    stored_document(camille)
    [path] = stored_objects(vault_dir)
    path.write_bytes(b"damaged")
    client.force_login(camille.user)
    response = client.get(reverse("documents_vault:export"))
    manifest = json.loads(
        zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("manifest.json")
    )
    [entry] = manifest["documents"]
    assert entry["file"] is None
    assert entry["error"] == "integrity_check_failed"


def test_a_reminder_30_days_before_expiry_once_per_date(django_capture_on_commit_callbacks):
    camille = ResidentFactory(first_name="Camille")
    with time_machine.travel(datetime(2026, 5, 1, 9, tzinfo=PARIS), tick=False):
        document = stored_document(camille, kind="identity_document", expires_on=date(2026, 6, 15))
    with time_machine.travel(datetime(2026, 5, 15, 9, tzinfo=PARIS), tick=False):
        assert maintenance.send_expiry_reminders() == 0  # 31 days before
    with (
        time_machine.travel(datetime(2026, 5, 16, 9, tzinfo=PARIS), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("vault_expiry_reminders")
        assert maintenance.send_expiry_reminders() == 0  # already reminded
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [camille.user.email]
    assert "Pièce d’identité" in mail.outbox[0].subject
    assert "15/06/2026" in mail.outbox[0].body
    document.expires_on = date(2036, 6, 15)  # renewed: a reminder again in ten years
    document.save()
    with time_machine.travel(datetime(2036, 5, 20, 9, tzinfo=PARIS), tick=False):
        assert maintenance.send_expiry_reminders() == 1


def test_mon_espace_shows_the_documents_panel(client):
    camille = ResidentFactory()
    stored_document(camille, kind="proof_of_address")
    client.force_login(camille.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert "Vous avez 1 document." in page
    assert "1 en attente de vérification par la mairie" in page
    assert reverse("documents_vault:list") in page


def test_the_pages_say_my_documents_never_the_legal_name(client):
    """docs/vault.md: "coffre-fort numérique" is reserved to services meeting every
    requirement of article L103; until then the pages say "Mes documents"."""
    camille = ResidentFactory()
    document = stored_document(camille)
    client.force_login(camille.user)
    for url in (
        reverse("portal:home"),
        reverse("documents_vault:list"),
        reverse("documents_vault:information"),
        reverse("documents_vault:detail", args=[document.public_id]),
    ):
        page = client.get(url).content.decode().lower()
        assert "coffre-fort" not in page
        assert "coffre fort" not in page
        assert "mes documents" in page
