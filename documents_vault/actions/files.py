"""Sealing, reading and shredding the content of file versions, and the safe's log: the
building blocks every use case of the safe goes through.

Writing: the content is encrypted with a fresh data key and written under a random name
BEFORE the row that holds the wrapped key is committed. A crash between the two leaves an
object whose key never reached the database (unreadable by anyone) and that no row names:
`maintenance.sweep_orphans` removes it. A use case that fails after writing deletes the object
itself (`discard_on_error`).

Reading: the stored bytes' SHA-256 is compared with the row's, then the data key is unwrapped
and the content decrypted (AES-GCM checks its tag): any mismatch is refused, logged on the
document and the audit trail, and mailed to the administrators."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.mail import mail_admins
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.models import AuditEntry, User
from identity.permissions import active_roles

from .. import crypto, storage
from ..errors import DocumentUnreadable, StorageUnavailable
from ..models import Document, DocumentEvent, DocumentVersion, Share

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealedObject:
    object_name: str
    wrapped_key: bytes
    key_id: str
    ciphertext_sha256: str


@dataclass(frozen=True)
class DecryptedFile:
    content: bytes
    content_type: str
    filename: str


def seal(content: bytes, *, binding: str) -> SealedObject:
    """Encrypt `content` under a new data key bound to the version `binding` and store it."""
    master = crypto.master_key()
    data_key = crypto.new_data_key()
    sealed = crypto.encrypt_file(content, data_key=data_key, binding=binding)
    try:
        name = storage.write_object(sealed)
    except OSError as error:
        logger.error("vault storage refused a write: %s", error.strerror or type(error).__name__)
        raise StorageUnavailable(
            _("My documents cannot store files right now: nothing was saved. Try again later."),
            field="file",
        ) from error
    return SealedObject(
        object_name=name,
        wrapped_key=crypto.wrap_data_key(data_key, binding=binding, master=master),
        key_id=master.key_id,
        ciphertext_sha256=crypto.integrity_hash(sealed),
    )


@contextmanager
def discard_on_error(sealed: SealedObject) -> Iterator[None]:
    """Remove the object just written if the use case fails before its row is committed."""
    try:
        yield
    except BaseException:
        storage.delete_object(sealed.object_name)
        raise


def log_event(
    document: Document,
    action: str,
    *,
    actor: User | None,
    version: DocumentVersion | None = None,
    share: Share | None = None,
    reason: str = "",
    channel: str = AuditEntry.Channel.WEB,
) -> DocumentEvent:
    roles = active_roles(actor) if actor is not None else []
    return DocumentEvent.objects.create(
        document=document,
        version=version,
        share=share,
        actor=actor,
        actor_role=roles[0].role if roles else "",
        action=action,
        reason=reason[:300],
        channel=channel,
    )


def shred(version: DocumentVersion) -> None:
    """Destroy the version's data key (crypto-shredding) and, once committed, its object. A
    copy of the object anywhere (a backup) can no longer be decrypted."""
    object_name = version.object_name
    version.state = DocumentVersion.State.SHREDDED
    version.wrapped_key = None
    version.key_id = ""
    version.ciphertext_sha256 = ""
    version.fingerprint = ""
    version.object_name = ""
    version.shredded_at = timezone.now()
    version.save(
        update_fields=[
            "state",
            "wrapped_key",
            "key_id",
            "ciphertext_sha256",
            "fingerprint",
            "object_name",
            "shredded_at",
        ]
    )
    # If the storage is unreachable now, the object is unreferenced: the sweep removes it.
    transaction.on_commit(lambda: _delete_quietly(object_name))


def _delete_quietly(object_name: str) -> None:
    try:
        storage.delete_object(object_name)
    except OSError:
        logger.warning("vault object deletion deferred to the sweep")


def _report(version: DocumentVersion, *, actor: User | None, problem: str) -> None:
    """An unreadable file is an incident: on the document's log, in the audit trail, in the
    error log and in the administrators' mailbox (ids only, never a name)."""
    document = version.document
    log_event(
        document,
        DocumentEvent.Action.INTEGRITY_FAILURE,
        actor=actor,
        version=version,
        reason=problem,
        channel=AuditEntry.Channel.SYSTEM,
    )
    record_audit_entry(
        actor=None,
        action="vault.integrity_failure",
        household=document.household,
        target=f"{version.public_id}:{problem}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    logger.error(
        "vault integrity failure version=%s document=%s problem=%s",
        version.pk,
        document.pk,
        problem,
    )
    mail_admins(
        "Document safe: integrity failure",
        f"Version {version.public_id} of document {document.public_id}: {problem}.",
        fail_silently=True,
    )


def _integrity_failure() -> DocumentUnreadable:
    return DocumentUnreadable(
        _(
            "This document failed its integrity check and was not sent. The town's "
            "administrators have been alerted."
        ),
        code="integrity_check_failed",
    )


def read(version: DocumentVersion, *, actor: User | None) -> DecryptedFile:
    """The version's content, checked; DocumentUnreadable (reported) when it is not exactly
    what was written or no configured master key opens it."""
    if not version.is_readable:
        raise DocumentUnreadable(_("This version of the document was destroyed."), code="shredded")
    try:
        stored = storage.read_object(version.object_name)
    except (FileNotFoundError, OSError):
        stored = None
    if stored is None or crypto.integrity_hash(stored) != version.ciphertext_sha256:
        _report(version, actor=actor, problem="missing" if stored is None else "hash_mismatch")
        raise _integrity_failure()
    try:
        data_key = crypto.unwrap_data_key(
            version.wrapped_key, binding=version.public_id, key_id=version.key_id
        )
    except crypto.VaultKeyError as error:
        _report(version, actor=actor, problem="master_key")
        raise DocumentUnreadable(
            _(
                "This document cannot be decrypted with the server's key. The town's "
                "administrators have been alerted."
            ),
            code="key_unavailable",
        ) from error
    try:
        content = crypto.decrypt_file(stored, data_key=data_key, binding=version.public_id)
    except crypto.TamperedError as error:
        _report(version, actor=actor, problem="tag_mismatch")
        raise _integrity_failure() from error
    return DecryptedFile(
        content=content, content_type=version.content_type, filename=version.original_name
    )
