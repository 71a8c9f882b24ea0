"""Two tabs replace the same document at the same instant, on PostgreSQL: exactly one current
version remains. As in tests/services/waste_bags/test_concurrency.py, the first test shows the
race with the document's lock switched off; the second, that the lock prevents it."""

import threading

import pytest
from django.db import IntegrityError

from documents_vault.actions import uploads
from documents_vault.models import DocumentVersion
from identity.errors import Conflict
from tests.concurrency import run_at_once
from tests.documents_vault.conftest import stored_objects
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

State = DocumentVersion.State


@pytest.fixture
def document_open_in_two_tabs():
    camille = ResidentFactory()
    document = stored_document(camille, kind="vaccination_record")
    return camille, document, document.versions.get().public_id


def two_tabs(camille, document, seen):
    def replace(pages):
        return uploads.replace_document(
            actor=camille.user,
            document=document,
            file_name=f"tab-{pages}.pdf",
            content=pdf_bytes(pages=pages),
            replaces=seen,
        )

    return run_at_once(lambda: replace(2), lambda: replace(3))


def test_without_the_lock_two_tabs_both_replace_and_one_crashes(
    document_open_in_two_tabs, monkeypatch
):
    camille, document, seen = document_open_in_two_tabs
    barrier = threading.Barrier(2)

    def unlocked(doc):
        barrier.wait(timeout=10)  # both tabs read "version 1 is current"
        return doc

    monkeypatch.setattr(uploads, "_locked", unlocked)
    outcome = two_tabs(camille, document, seen)
    # The race: both passed the "still version 1" check; only the unique index stopped the
    # second one, as a database error (a 500 for the resident), not as a clear refusal.
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)


def test_two_tabs_replacing_at_once_keep_exactly_one_current_version(
    document_open_in_two_tabs, monkeypatch, vault_dir
):
    camille, document, seen = document_open_in_two_tabs
    barrier = threading.Barrier(2)
    real_locked = uploads._locked

    def together(doc):
        barrier.wait(timeout=10)  # both tabs ask for the lock at the same instant
        return real_locked(doc)

    monkeypatch.setattr(uploads, "_locked", together)
    outcome = two_tabs(camille, document, seen)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], Conflict)
    assert outcome.errors[0].code == "stale_version"
    versions = DocumentVersion.objects.filter(document=document)
    assert versions.filter(state=State.CURRENT).count() == 1
    assert versions.filter(state=State.SHREDDED).count() == 1  # version 1
    # The losing tab's object was removed, version 1's too: one object, the current one.
    current = versions.get(state=State.CURRENT)
    assert [p.relative_to(vault_dir).as_posix() for p in stored_objects(vault_dir)] == [
        current.object_name
    ]
