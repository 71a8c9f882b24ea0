"""manage.py backup and manage.py restore: an instance filled through its actions is backed up,
restored into an empty database and an empty document safe by the real command in a process
of its own, and found identical — every row, balance, decrypted document and audit entry. A
corrupted or truncated archive, or one sealed with another key, is refused with a clear
message and leaves the empty instance untouched."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from card.actions.taps import process_tap
from documents_vault.actions.access import download_own
from identity.actions.audit import record_audit_entry
from payments.models import Order
from portal.backup import sealed
from services.catalog import actions as catalog
from tests.documents_vault.factories import jpeg_bytes, pdf_bytes, stored_document
from tests.factories import (
    CardFactory,
    EntitlementFactory,
    ResidentFactory,
    collection_office,
    priced_product,
    reader_with_token,
    sun_url,
)
from tests.payments.factories import pay, topped_up
from tests.portal.backup_snapshot import snapshot

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def storages_of_this_test(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "vault": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "vault", "base_url": None},
        },
        "backups": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "backups", "base_url": None},
        },
    }


def fill_instance() -> None:
    """A small town's worth of everything, through the actions."""
    reader, _token = reader_with_token()
    collection_office("piscines")
    book = priced_product(price_cents=3000, regie_code="piscines", kind="entry_book", entries=10)
    for n in range(3):
        resident = ResidentFactory()
        card = CardFactory(holder=resident)
        EntitlementFactory(holder=resident, entries=5)
        for counter in (1, 2):
            process_tap(
                reader=reader,
                credential=sun_url(card, counter),
                client_tap_id=f"tap-{n}-{counter}",
                reader_time=timezone.now(),
            )
        sale = catalog.buy_product(actor=resident.user, person=resident, product=book, quantity=1)
        pay(sale.order)
        topped_up(resident, 1000 * (n + 1))
        document = stored_document(resident, content=pdf_bytes(pages=n + 1), name=f"avis-{n}.pdf")
        stored_document(resident, kind="photo", content=jpeg_bytes(), name="photo.jpg")
        download_own(actor=resident.user, public_id=document.public_id)
        record_audit_entry(actor=None, action="tap.refused.clock_skew", target=f"reader:{n}")


def backup() -> Path:
    out = []

    class Lines:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("backup", stdout=Lines())
    return Path("".join(out).strip().splitlines()[-1])


def instance_env(tmp_path: Path, database_url: str, **extra) -> dict:
    """The environment of a fresh, empty instance: its own database and var/ folder."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "DATABASE_URL": database_url,
        "SESAME_VAR_DIR": str(tmp_path / "restored-var"),
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def run(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py and module, arguments written here
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def empty_database_url(tmp_path: Path) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    name = f"{db['NAME']}_restored"
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def test_a_backup_restores_into_an_empty_instance_identical(tmp_path):
    fill_instance()
    before = json.loads(json.dumps(snapshot()))
    assert len(before["documents"]) == 6
    assert sorted(v for v in before["balances"].values() if v) == [1000, 2000, 3000]
    assert Order.objects.filter(status=Order.Status.PAID).count() == 6
    archive = backup()
    assert archive.is_file()
    assert archive.name.startswith("sesame-")
    assert b"%PDF" not in archive.read_bytes()  # encrypted as a whole

    env = instance_env(tmp_path, empty_database_url(tmp_path))
    restored = run(env, "manage.py", "restore", str(archive), "--noinput")
    assert restored.returncode == 0, restored.stderr
    assert "6 document object(s)" in restored.stdout
    after = run(env, "-m", "tests.portal.backup_snapshot")
    assert after.returncode == 0, after.stderr
    after = json.loads(after.stdout)
    differing = [t for t in before["tables"] if before["tables"][t] != after["tables"].get(t)]
    assert differing == []
    assert after == before

    # Restoring again into the now full instance is refused, and changes nothing.
    again = run(env, "manage.py", "restore", str(archive), "--noinput")
    assert again.returncode != 0
    assert "not empty" in again.stderr


def _cut(data: bytes, at: int) -> bytes:
    return data[:at]


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (lambda data: _flip(data, len(data) // 2), "corrupted or truncated"),
        (lambda data: _flip(data, 20), "another backup key"),  # the key id in the header
        (lambda data: _flip(data, len(data) - 3), "corrupted or truncated"),
        (lambda data: _cut(data, len(data) - 1), "corrupted or truncated"),
        (lambda data: _cut(data, sealed.HEADER_BYTES + sealed.CHUNK_BYTES + 16), "truncated"),
        (lambda data: _cut(data, 40), "not a Sésame backup archive"),
        (lambda data: b"PK\x03\x04" + data[4:], "not a Sésame backup archive"),
    ],
    ids=[
        "flipped-middle",
        "flipped-key-id",
        "flipped-end",
        "cut-1-byte",
        "cut-at-chunk",
        "header",
        "not-ours",
    ],
)
def test_a_spoiled_archive_is_refused_and_the_instance_stays_empty(tmp_path, spoil, words):
    ResidentFactory()
    stored_document(ResidentFactory(), content=pdf_bytes(pages=40))  # more than one chunk
    archive = backup()
    data = archive.read_bytes()
    assert len(data) > sealed.HEADER_BYTES + 2 * sealed.CHUNK_BYTES
    spoiled = tmp_path / "spoiled.backup"
    spoiled.write_bytes(spoil(data))
    env = instance_env(tmp_path, f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    refused = run(env, "manage.py", "restore", str(spoiled), "--noinput")
    assert refused.returncode != 0
    assert words in refused.stderr
    assert "Traceback" not in refused.stderr
    _assert_empty(tmp_path)


def test_an_archive_read_with_another_key_is_refused(tmp_path):
    stored_document(ResidentFactory())
    archive = backup()
    env = instance_env(
        tmp_path, f"sqlite:///{tmp_path / 'restored.sqlite3'}", SESAME_BACKUP_KEY="11" * 32
    )
    refused = run(env, "manage.py", "restore", str(archive), "--noinput")
    assert refused.returncode != 0
    assert "another backup key" in refused.stderr
    _assert_empty(tmp_path)


def test_documents_sealed_by_a_vault_key_this_server_lacks_are_refused_before_restoring(tmp_path):
    stored_document(ResidentFactory())
    archive = backup()
    env = instance_env(tmp_path, empty_database_url(tmp_path), SESAME_VAULT_MASTER_KEY="22" * 32)
    refused = run(env, "manage.py", "restore", str(archive), "--noinput")
    assert refused.returncode != 0
    assert "SESAME_VAULT_MASTER_KEY" in refused.stderr
    _assert_empty(tmp_path)


def _assert_empty(tmp_path: Path) -> None:
    restored_db = tmp_path / "restored.sqlite3"
    assert not restored_db.exists() or restored_db.stat().st_size == 0
    vault_dir = tmp_path / "restored-var" / "vault"
    assert not vault_dir.exists() or not any(p.is_file() for p in vault_dir.rglob("*"))


def test_restore_refuses_the_running_instance_which_is_not_empty():
    ResidentFactory()
    archive = backup()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), interactive=False)


def test_backup_keeps_the_newest_archives_only(time_machine):
    names = []
    for minutes in range(4):
        time_machine.move_to(timezone.now() + timedelta(minutes=minutes))
        names.append(backup().name)
    call_command("backup", keep=2, stdout=open(os.devnull, "w"))  # noqa: SIM115, PTH123
    from portal.backup.archive import archives

    kept = archives()
    assert len(kept) == 2
    assert names[0] not in kept
    assert names[1] not in kept
