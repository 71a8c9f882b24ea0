"""Test settings: the production settings with a test key, fast hashing and tasks run inline."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "sesame-test-key-only-for-the-test-suite")
# A card master key of the test suite's own, not the demo one.
os.environ.setdefault("SESAME_CARD_MASTER_KEY", "00112233445566778899aabbccddeeff")
# And a document-safe master key of its own (AES-256).
os.environ.setdefault("SESAME_VAULT_MASTER_KEY", "7e57" * 16)
# And a backup key of its own.
os.environ.setdefault("SESAME_BACKUP_KEY", "bac0" * 16)

from portal.settings import *  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# The document safe's objects go to a folder of this run, never under var/ (the safe's own
# tests give each test a folder of its own: tests/documents_vault/conftest.py).
_vault_dir = tempfile.mkdtemp(prefix="sesame-vault-tests-")
atexit.register(shutil.rmtree, _vault_dir, ignore_errors=True)
STORAGES["vault"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": _vault_dir, "base_url": None},
}
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests
SESAME_BENCH_ENDPOINTS = False  # the suite sees the API as production serves it

# With Redis as the cache (CI's PostgreSQL run), each xdist worker gets a database of its own:
# the suite clears the cache before every test, and Redis clears a whole database at once, so
# a shared one would let a worker empty another's cache in the middle of a test.
if REDIS_URL:  # noqa: F405 - from portal.settings
    from urllib.parse import urlsplit, urlunsplit

    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    _base = int(urlsplit(REDIS_URL).path.lstrip("/") or 0)  # noqa: F405
    CACHES["default"]["LOCATION"] = urlunsplit(  # noqa: F405
        urlsplit(REDIS_URL)._replace(path=f"/{(_base + int(_worker or 0)) % 16}")  # noqa: F405
    )
# Backups go to a folder of this run (the backup tests give each test its own).
_backup_dir = tempfile.mkdtemp(prefix="sesame-backups-tests-")
atexit.register(shutil.rmtree, _backup_dir, ignore_errors=True)
STORAGES["backups"]["OPTIONS"]["location"] = _backup_dir  # noqa: F405
