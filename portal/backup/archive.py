"""One backup archive: the database, the document safe's objects and a manifest, as one tar
stream encrypted as it is written (portal.backup.sealed), kept in the "backups" storage (a
directory, or S3-compatible object storage: docs/backup.md).

    database.pgdump | database.sqlite3   the database (pg_dump's custom format, or SQLite's file)
    vault/ab/ab12…                        each object of the safe, as stored (still encrypted by
                                          its own data key; the wrapped data keys are rows of the
                                          database)
    manifest.json                         last: what the archive holds, with each file's SHA-256

A restore reads the whole archive into a private temporary folder first, checking each chunk
and then each file against the manifest, and touches the instance only once all of it is
proven whole; it refuses an instance that is not empty."""

import hashlib
import json
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from documents_vault import crypto
from documents_vault import storage as vault
from documents_vault.models import DocumentVersion

from . import database, sealed
from .sealed import ArchiveRefused

FORMAT = "sesame-backup/1"
MANIFEST = "manifest.json"
ARCHIVE_NAME = re.compile(r"^sesame-\d{8}T\d{6}Z\.backup$")
MEMBER = re.compile(r"^(database\.pgdump|database\.sqlite3|vault/[0-9a-f]{2}/[0-9a-f]{32})$")
COPY_BYTES = 1024 * 1024


def backups_storage() -> Storage:
    return storages["backups"]


def where(storage: Storage, name: str) -> str:
    """The archive's address as an operator types it: a path, or s3://bucket/name."""
    bucket = getattr(storage, "bucket_name", None)
    return f"s3://{bucket}/{name}" if bucket else storage.path(name)


class _Hashing:
    """A file wrapper counting and hashing what is read through it."""

    def __init__(self, source):
        self.source = source
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _add(tar: tarfile.TarFile, name: str, source, size: int, files: dict) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    hashing = _Hashing(source)
    tar.addfile(info, hashing)
    if hashing.size != size:
        raise ArchiveRefused(f"{name} changed size while it was copied")
    files[name] = {"sha256": hashing.sha256.hexdigest(), "size": size}


def _vault_key_ids() -> list[str]:
    return sorted(
        set(
            DocumentVersion.objects.filter(wrapped_key__isnull=False)
            .exclude(key_id="")
            .values_list("key_id", flat=True)
        )
    )


def _applied_migrations() -> list[str]:
    return sorted(
        f"{app}.{name}"
        for app, name in MigrationRecorder.Migration.objects.values_list("app", "name")
    )


@dataclass(frozen=True)
class BackupReport:
    name: str
    location: str
    objects: int
    removed: list[str]


def make_backup(*, keep: int) -> BackupReport:
    """Write one archive to the backups storage, then keep only the `keep` newest."""
    key = sealed.backup_key()
    created = timezone.now()
    name = f"sesame-{created:%Y%m%dT%H%M%SZ}.backup"
    storage = backups_storage()
    with tempfile.TemporaryDirectory(prefix="sesame-backup-") as work:
        work = Path(work)
        dump = work / database.dump_name()
        database.dump_to(dump)
        key_ids = _vault_key_ids()
        migrations = _applied_migrations()
        files: dict[str, dict] = {}
        archive_path = work / name
        with archive_path.open("wb") as out:
            writer = sealed.SealingWriter(out, key=key)
            with tarfile.open(fileobj=writer, mode="w|") as tar:
                with dump.open("rb") as source:
                    _add(tar, dump.name, source, dump.stat().st_size, files)
                dump.unlink()  # the clear copy of the database leaves the disk at once
                for object_name in vault.list_objects():
                    with vault.vault_storage().open(object_name, "rb") as source:
                        size = vault.vault_storage().size(object_name)
                        _add(tar, f"vault/{object_name}", source, size, files)
                manifest = {
                    "format": FORMAT,
                    "created_at": created.isoformat(),
                    "database": database.engine(),
                    "migrations": migrations,
                    "vault_key_ids": key_ids,
                    "files": files,
                }
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                _add(tar, MANIFEST, _Bytes(body), len(body), {})
            writer.close()
        with archive_path.open("rb") as archive:
            saved = storage.save(name, File(archive, name=name))
    removed = prune(keep=keep)
    return BackupReport(
        name=saved, location=where(storage, saved), objects=len(files) - 1, removed=removed
    )


class _Bytes:
    def __init__(self, data: bytes):
        self.data = memoryview(data)

    def read(self, size: int = -1) -> bytes:
        size = len(self.data) if size < 0 else size
        chunk, self.data = self.data[:size], self.data[size:]
        return bytes(chunk)


def archives() -> list[str]:
    """The archives in the backups storage, oldest first (their names sort by date)."""
    storage = backups_storage()
    try:
        _folders, names = storage.listdir("")
    except FileNotFoundError:
        return []
    return sorted(name for name in names if ARCHIVE_NAME.match(name))


def prune(*, keep: int) -> list[str]:
    """Delete the oldest archives beyond the `keep` newest. With object lock (docs/backup.md),
    the storage keeps a locked version whatever is asked here."""
    removed = []
    names = archives()
    for name in names[: max(len(names) - keep, 0)]:
        backups_storage().delete(name)
        removed.append(name)
    return removed


# --- Restore ------------------------------------------------------------------------------------


class RestoreRefused(Exception):
    """The instance cannot be restored into as it is (not empty, another engine, …)."""


def _open_archive(path: str):
    """A local file, else a name in the backups storage."""
    local = Path(path)
    if local.is_file():
        return local.open("rb")
    storage = backups_storage()
    if storage.exists(path):
        return storage.open(path, "rb")
    raise RestoreRefused(f"No archive at {path}.")


def check_instance_is_empty() -> None:
    if not database.is_empty():
        raise RestoreRefused(
            "The configured database is not empty: restore only into a database created empty "
            "(no migrate, no demo data)."
        )
    if next(iter(vault.list_objects()), None) is not None:
        raise RestoreRefused(
            "The document safe's storage is not empty: restore only into an empty one."
        )


def _extract(source, work: Path) -> dict[str, dict]:
    """Decrypt and unpack every member into `work`, each name checked, each file hashed."""
    found: dict[str, dict] = {}
    reader = sealed.OpeningReader(source, key=sealed.backup_key())
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for member in tar:
                if member.name != MANIFEST and not MEMBER.match(member.name):
                    raise ArchiveRefused(f"Unexpected file in the archive: {member.name!r}.")
                if not member.isfile():
                    raise ArchiveRefused(f"{member.name} is not a plain file.")
                target = work / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                hashing = _Hashing(tar.extractfile(member))
                with target.open("wb") as out:
                    shutil.copyfileobj(hashing, out, COPY_BYTES)
                found[member.name] = {"sha256": hashing.sha256.hexdigest(), "size": hashing.size}
    except tarfile.TarError as error:
        raise ArchiveRefused(f"The archive's content is not readable: {error}.") from error
    return found


def _check_manifest(work: Path, found: dict[str, dict]) -> dict:
    if MANIFEST not in found:
        raise ArchiveRefused("The archive has no manifest: it is incomplete.")
    manifest = json.loads((work / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise ArchiveRefused(f"Unknown archive format {manifest.get('format')!r}.")
    listed = manifest["files"]
    found = {name: facts for name, facts in found.items() if name != MANIFEST}
    if set(listed) != set(found):
        raise ArchiveRefused("The archive's files are not the ones its manifest lists.")
    for name, facts in listed.items():
        if found[name] != facts:
            raise ArchiveRefused(f"{name} does not match its checksum in the manifest.")
    if manifest["database"] != database.engine():
        raise RestoreRefused(
            f"The archive holds a {manifest['database']} database; the configured one is "
            f"{database.engine()}."
        )
    missing = set(manifest["vault_key_ids"]) - set(crypto.known_master_keys())
    if missing:
        raise RestoreRefused(
            "The documents were sealed with a vault master key this server does not have "
            f"(key id {', '.join(sorted(missing))}): set SESAME_VAULT_MASTER_KEY (or "
            "SESAME_VAULT_PREVIOUS_MASTER_KEYS) to it."
        )
    return manifest


@dataclass(frozen=True)
class RestoreReport:
    created_at: str
    objects: int


def restore_backup(path: str) -> RestoreReport:
    """Rebuild the configured empty instance from an archive, once all of it is checked."""
    check_instance_is_empty()
    with tempfile.TemporaryDirectory(prefix="sesame-restore-") as work:
        work = Path(work)
        with _open_archive(path) as source:
            found = _extract(source, work)
        manifest = _check_manifest(work, found)
        objects = _vault_objects(manifest)
        for object_name in objects:
            with (work / "vault" / object_name).open("rb") as data:
                saved = vault.vault_storage().save(object_name, File(data, name=object_name))
            if saved.replace("\\", "/") != object_name:
                raise RestoreRefused(f"The safe's storage renamed {object_name} to {saved}.")
        database.load_from(work / database.dump_name())
    return RestoreReport(created_at=manifest["created_at"], objects=len(objects))


def _vault_objects(manifest: dict) -> list[str]:
    return [name.removeprefix("vault/") for name in manifest["files"] if name.startswith("vault/")]
