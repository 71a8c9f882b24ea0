"""Integrity on every read, the master key from the environment, its rotation without
re-encrypting the files, and objects orphaned by a crash."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from documents_vault import crypto, storage
from documents_vault.actions import access, maintenance, uploads
from documents_vault.errors import DocumentUnreadable
from documents_vault.models import Document, DocumentEvent, DocumentVersion
from identity.models import AuditEntry
from tests.documents_vault.conftest import stored_objects
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db

OLD_KEY = "7e57" * 16  # tests/settings.py
NEW_KEY = "a1b2" * 16


def test_a_tampered_file_is_refused_and_reported(vault_dir, settings):
    settings.ADMINS = [("Admin", "admin@example.org")]
    camille = ResidentFactory()
    document = stored_document(camille)
    [path] = stored_objects(vault_dir)
    tampered = bytearray(path.read_bytes())
    tampered[40] ^= 0x01
    path.write_bytes(bytes(tampered))
    with pytest.raises(DocumentUnreadable) as refused:
        access.download_own(actor=camille.user, public_id=document.public_id)
    assert refused.value.code == "integrity_check_failed"
    assert not document.events.filter(action=DocumentEvent.Action.DOWNLOADED).exists()
    assert document.events.filter(action=DocumentEvent.Action.INTEGRITY_FAILURE).exists()
    assert AuditEntry.objects.filter(action="vault.integrity_failure").exists()
    assert mail.outbox
    assert "integrity" in mail.outbox[0].subject


def test_a_tampered_file_with_a_recomputed_hash_still_fails_its_authentication_tag(vault_dir):
    camille = ResidentFactory()
    document = stored_document(camille)
    version = document.versions.get()
    [path] = stored_objects(vault_dir)
    tampered = bytearray(path.read_bytes())
    tampered[-1] ^= 0x80
    path.write_bytes(bytes(tampered))
    DocumentVersion.objects.filter(pk=version.pk).update(
        ciphertext_sha256=crypto.integrity_hash(bytes(tampered))
    )
    with pytest.raises(DocumentUnreadable) as refused:
        access.download_own(actor=camille.user, public_id=document.public_id)
    assert refused.value.code == "integrity_check_failed"


def test_the_download_page_explains_an_unreadable_file(client, vault_dir):
    camille = ResidentFactory()
    document = stored_document(camille)
    [path] = stored_objects(vault_dir)
    path.write_bytes(b"not what was written")
    client.force_login(camille.user)
    response = client.get(f"/mon-espace/documents/{document.public_id}/fichier/")
    assert response.status_code == 503
    assert "contrôle d’intégrité" in response.content.decode()


def test_a_wrong_master_key_reads_nothing(settings):
    camille = ResidentFactory()
    document = stored_document(camille)
    settings.SESAME_VAULT_MASTER_KEY = NEW_KEY
    with pytest.raises(DocumentUnreadable) as refused:
        access.download_own(actor=camille.user, public_id=document.public_id)
    assert refused.value.code == "key_unavailable"


def test_a_master_key_that_is_not_64_hex_digits_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SESAME_VAULT_MASTER_KEY = "too-short"
    with pytest.raises(ImproperlyConfigured):
        crypto.master_key()


def test_the_demo_master_key_is_refused_when_debug_is_off():
    import subprocess
    import sys

    script = (
        "import os; os.environ.pop('SESAME_VAULT_MASTER_KEY', None);"
        "os.environ['DEBUG']='0'; os.environ['SECRET_KEY']='x'*50;"
        "os.environ['SESAME_CARD_MASTER_KEY']='00'*16;"
        "import portal.settings"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SESAME_VAULT_MASTER_KEY is the public demo key" in result.stderr


def test_rotation_rewraps_every_key_without_touching_the_files(settings, vault_dir):
    camille = ResidentFactory()
    documents = [stored_document(camille, content=pdf_bytes(pages=n)) for n in (1, 2, 3)]
    before = {p: p.read_bytes() for p in stored_objects(vault_dir)}
    settings.SESAME_VAULT_MASTER_KEY = NEW_KEY
    settings.SESAME_VAULT_PREVIOUS_MASTER_KEYS = [OLD_KEY]
    call_command("rotate_vault_key")
    new_id = crypto.parse_master_key(NEW_KEY).key_id
    assert set(DocumentVersion.objects.values_list("key_id", flat=True)) == {new_id}
    assert {p: p.read_bytes() for p in stored_objects(vault_dir)} == before  # not re-encrypted
    settings.SESAME_VAULT_PREVIOUS_MASTER_KEYS = []  # the old key is gone for good
    for number, document in enumerate(documents, start=1):
        content = access.download_own(actor=camille.user, public_id=document.public_id).content
        assert content == pdf_bytes(pages=number)
    assert AuditEntry.objects.filter(action="vault.master_key_rotated").exists()


def test_rotation_resumes_after_a_crash(settings, monkeypatch):
    camille = ResidentFactory()
    for n in (1, 2, 3, 4):
        stored_document(camille, content=pdf_bytes(pages=n))
    settings.SESAME_VAULT_MASTER_KEY = NEW_KEY
    settings.SESAME_VAULT_PREVIOUS_MASTER_KEYS = [OLD_KEY]
    real_wrap = crypto.wrap_data_key
    calls = {"n": 0}

    def crash_on_the_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("power cut")
        return real_wrap(*args, **kwargs)

    monkeypatch.setattr(crypto, "wrap_data_key", crash_on_the_third)
    with pytest.raises(SystemExit):
        maintenance.rotate_master_key(batch_size=10)
    new_id = crypto.parse_master_key(NEW_KEY).key_id
    assert DocumentVersion.objects.filter(key_id=new_id).count() == 2
    monkeypatch.setattr(crypto, "wrap_data_key", real_wrap)
    report = maintenance.rotate_master_key()
    assert (report.rewrapped, report.failed, report.remaining) == (2, 0, 0)


def test_rotation_stops_on_keys_it_cannot_unwrap(settings):
    stored_document(ResidentFactory())
    settings.SESAME_VAULT_MASTER_KEY = NEW_KEY  # the old key forgotten
    with pytest.raises(CommandError):
        call_command("rotate_vault_key")


def test_a_crash_between_the_object_and_its_row_leaves_an_unreadable_object_the_sweep_removes(
    vault_dir, monkeypatch
):
    camille = ResidentFactory()

    def crash(*args, **kwargs):
        raise SystemExit("the process died before committing")

    monkeypatch.setattr(uploads, "_new_version", crash)
    monkeypatch.setattr(storage, "delete_object", lambda name: None)  # died: no clean-up ran
    with pytest.raises(SystemExit):
        stored_document(camille, content=pdf_bytes(pages=5))
    assert Document.objects.count() == 0
    [orphan] = stored_objects(vault_dir)
    assert b"%PDF" not in orphan.read_bytes()  # its key died with the process
    monkeypatch.undo()
    assert maintenance.sweep_orphans(grace=timedelta(0)) == 1
    assert stored_objects(vault_dir) == []


def test_the_sweep_leaves_recent_uploads_and_known_objects(vault_dir):
    camille = ResidentFactory()
    stored_document(camille)
    storage.write_object(b"an upload a moment before its row commits")
    assert maintenance.sweep_orphans() == 0
    assert len(stored_objects(vault_dir)) == 2
    call_command("vault_sweep")
