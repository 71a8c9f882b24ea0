"""Where the safe's encrypted objects live: Django's storage API, through the "vault" alias of
settings.STORAGES (local disk under SESAME_VAR_DIR by default, S3-compatible object storage
through django-storages in production). Never a public URL: files leave only through the
download views, which check permissions and log the access.

Object names are random (`ab/ab12…`, 32 hex digits) and say nothing about the owner, the kind
or the content; the row of the file version holds the name."""

import contextlib
import re
import secrets
from collections.abc import Iterator
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

OBJECT_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}$")


def vault_storage() -> Storage:
    # Looked up on each use: tests and a reconfigured process swap the backend.
    return storages["vault"]


def new_object_name() -> str:
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}"


def write_object(data: bytes) -> str:
    """Store bytes under a fresh random name; returns the name. A write that fails part way
    (the disk full) leaves nothing behind: the partial object is removed before the error
    goes on."""
    storage = vault_storage()
    name = new_object_name()
    try:
        saved = storage.save(name, ContentFile(data))
    except OSError:
        # If even that fails, the orphan sweep removes it (no row names it).
        with contextlib.suppress(OSError):
            storage.delete(name)
        raise
    return saved.replace("\\", "/")


def read_object(name: str) -> bytes:
    with vault_storage().open(name, "rb") as stored:
        return stored.read()


def delete_object(name: str) -> None:
    """Remove an object; one already gone is not an error (a sweep may have been first)."""
    if name:
        vault_storage().delete(name)


def object_exists(name: str) -> bool:
    return bool(name) and vault_storage().exists(name)


def modified_at(name: str) -> datetime | None:
    try:
        return vault_storage().get_modified_time(name)
    except (OSError, NotImplementedError, KeyError):
        return None


def list_objects() -> Iterator[str]:
    """Every object name of the safe's layout in the storage (anything else is left alone)."""
    storage = vault_storage()
    try:
        folders, _files = storage.listdir("")
    except FileNotFoundError:
        return
    for folder in sorted(folders):
        if not re.fullmatch(r"[0-9a-f]{2}", folder):
            continue
        try:
            _subfolders, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        for file_name in sorted(files):
            name = f"{folder}/{file_name}"
            if OBJECT_NAME.match(name):
                yield name
