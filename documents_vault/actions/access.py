"""Reading documents out of the safe: the resident's downloads and export, staff reads through
a shared file or with a reason, and refused attempts. Every read is logged on the document
(the resident sees who, when, for which file); staff reads also go to the audit trail ("Who
looked at my file"). A refused attempt (another household's id, a revoked share, a role
without the right) is answered as "not found" and logged: in the audit trail with the
document's household when there is one, and in the server log (ids only).

Files are read and checked outside any transaction, so that an integrity failure's report
is kept even though the read is refused."""

import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, NotFound
from identity.models import AccessReason, AuditEntry, Household, User
from identity.permissions import (
    can_read_documents_with_reason,
    can_read_shared_document,
    person_of,
)

from .. import crypto, queries
from ..errors import DocumentUnreadable
from ..models import Document, DocumentEvent, DocumentVersion, Share
from . import files

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = "sesame-documents/1"


def refuse(
    *, actor: User | None, public_id: str, why: str, channel: str = AuditEntry.Channel.WEB
) -> NotFound:
    """Log a refused attempt at a document or a share and return the 404 to raise."""
    document = queries.document_of_public_id(public_id)
    if document is None:
        share = Share.objects.select_related("document__household").filter(public_id=public_id)
        share = share.first()
        document = share.document if share is not None else None
    record_audit_entry(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action="vault.access_refused",
        household=document.household if document is not None else None,
        target=f"{public_id[:40]}:{why}",
        channel=channel,
    )
    logger.warning(
        "vault access refused actor=%s document=%s why=%s",
        getattr(actor, "pk", None),
        getattr(document, "pk", None),
        why,
    )
    return NotFound(_("Document not found."))


def download_own(
    *, actor: User, public_id: str, channel: str = AuditEntry.Channel.WEB
) -> files.DecryptedFile:
    """A resident downloads one of their household's documents (its current version)."""
    document = queries.document_for(actor, public_id)
    version = queries.current_version(document) if document is not None else None
    if document is None or version is None:
        raise refuse(actor=actor, public_id=public_id, why="not_theirs", channel=channel)
    decrypted = files.read(version, actor=actor)
    files.log_event(
        document, DocumentEvent.Action.DOWNLOADED, actor=actor, version=version, channel=channel
    )
    return decrypted


def version_for_share(share: Share) -> DocumentVersion | None:
    """What a share lets staff read: for the verification queue, the version waiting for the
    clerk; for any other file, the document's current version."""
    document = share.document
    if share.target_kind == queries.VERIFICATION_TARGET:
        return queries.version_under_verification(document)
    return queries.current_version(document)


def open_share_for(
    actor: User, share_public_id: str, *, channel: str, document_public_id: str | None = None
) -> Share:
    """The open share of this id (of that document, when given) if `actor` handles its file,
    else a logged 404."""
    share = (
        Share.objects.select_related("document__person", "document__household")
        .filter(public_id=share_public_id)
        .first()
    )
    if share is None:
        raise refuse(actor=actor, public_id=share_public_id, why="unknown_share", channel=channel)
    if document_public_id is not None and share.document.public_id != document_public_id:
        raise refuse(actor=actor, public_id=share_public_id, why="other_document", channel=channel)
    if share.closed_at is not None or share.document.is_deleted:
        raise refuse(actor=actor, public_id=share_public_id, why="share_closed", channel=channel)
    if not can_read_shared_document(
        actor, capability=share.capability, facility_id=share.facility_id
    ):
        raise refuse(actor=actor, public_id=share_public_id, why="not_handler", channel=channel)
    return share


def _staff_read(
    *,
    actor: User,
    document: Document,
    version: DocumentVersion,
    share: Share | None,
    reason: str,
    channel: str,
) -> files.DecryptedFile:
    decrypted = files.read(version, actor=actor)
    files.log_event(
        document,
        DocumentEvent.Action.READ_BY_STAFF,
        actor=actor,
        version=version,
        share=share,
        reason=reason,
        channel=channel,
    )
    record_audit_entry(
        actor=actor,
        action="staff.document_read",
        person=document.person,
        target=(share.target_label if share is not None else document.get_kind_display())[:120],
        reason=reason,
        channel=channel,
    )
    return decrypted


def read_shared_document(
    *,
    actor: User,
    share_public_id: str,
    document_public_id: str | None = None,
    channel: str = AuditEntry.Channel.COUNTER,
) -> files.DecryptedFile:
    """Staff read a document through a file it is shared with, while the share is open."""
    share = open_share_for(
        actor, share_public_id, channel=channel, document_public_id=document_public_id
    )
    version = version_for_share(share)
    if version is None:
        raise refuse(actor=actor, public_id=share_public_id, why="no_version", channel=channel)
    return _staff_read(
        actor=actor,
        document=share.document,
        version=version,
        share=share,
        reason=share.target_label[:200],
        channel=channel,
    )


def _check_reason(reason: str) -> str:
    if reason not in AccessReason.values:
        raise DomainError(_("Say why you open this document."), field="reason")
    return reason


def open_household_documents(
    *, actor: User, household: Household, reason: str, channel: str = AuditEntry.Channel.COUNTER
) -> list[queries.DocumentRow]:
    """A clerk lists a household's documents outside any shared file, giving a reason; the
    listing itself is audited like opening the file."""
    if not can_read_documents_with_reason(actor):
        raise refuse(actor=actor, public_id=household.public_id, why="no_capability")
    reason = _check_reason(reason)
    record_audit_entry(
        actor=actor,
        action="staff.documents_listed",
        household=household,
        target="documents",
        reason=reason,
        channel=channel,
    )
    return queries.household_documents_for_staff(household)


def read_document_with_reason(
    *, actor: User, public_id: str, reason: str, channel: str = AuditEntry.Channel.COUNTER
) -> files.DecryptedFile:
    """A clerk reads one document outside any shared file, giving a reason (audited)."""
    if not can_read_documents_with_reason(actor):
        raise refuse(actor=actor, public_id=public_id, why="no_capability", channel=channel)
    reason = _check_reason(reason)
    document = queries.document_of_public_id(public_id)
    version = queries.current_version(document) if document is not None else None
    if document is None or document.is_deleted or version is None:
        raise refuse(actor=actor, public_id=public_id, why="unknown", channel=channel)
    return _staff_read(
        actor=actor, document=document, version=version, share=None, reason=reason, channel=channel
    )


# --- Export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    file: tempfile.SpooledTemporaryFile
    filename: str
    documents: int


def _manifest_entry(document: Document, version: DocumentVersion, path: str | None, **extra):
    return {
        "id": document.public_id,
        "kind": document.kind,
        "kind_label": str(document.get_kind_display()),
        "person": {
            "id": document.person.public_id,
            "first_name": document.person.first_name,
            "last_name": document.person.last_name,
        },
        "file": path,
        "content_type": version.content_type,
        "size": version.size,
        "version": version.number,
        "added_at": document.created_at.isoformat(),
        "uploaded_at": version.uploaded_at.isoformat(),
        "expires_on": document.expires_on.isoformat() if document.expires_on else None,
        "verification": {
            "status": version.verification,
            "decided_at": version.decided_at.isoformat() if version.decided_at else None,
            "rejection_reason": version.rejection_reason or None,
        },
        **extra,
    }


def export_safe(*, actor: User, channel: str = AuditEntry.Channel.WEB) -> Export:
    """The resident's whole safe as one ZIP: each document's current version in its own
    format (PDF, JPEG, PNG) and manifest.json (kinds, dates, verification, SHA-256 of each
    file). A document that fails its integrity check is listed as unreadable, not exported.
    The ZIP is built in a temporary file that is gone once closed."""
    person = person_of(actor)
    if person is None:
        raise NotFound(_("This account has no household yet."))
    now = timezone.now()
    archive = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - returned
    entries = []
    used: set[str] = set()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for row in queries.rows_for(queries.documents_visible_to(actor)):
            document, version = row.document, row.current
            if version is None:
                continue
            try:
                decrypted = files.read(version, actor=actor)
            except DocumentUnreadable as error:
                entries.append(_manifest_entry(document, version, None, error=error.code))
                continue
            path = _export_path(document, version, used)
            # Already compressed formats are stored as they are.
            zipped.writestr(path, decrypted.content, compress_type=zipfile.ZIP_STORED)
            entries.append(
                _manifest_entry(
                    document, version, path, sha256=crypto.integrity_hash(decrypted.content)
                )
            )
            files.log_event(
                document,
                DocumentEvent.Action.EXPORTED,
                actor=actor,
                version=version,
                channel=channel,
            )
        manifest = {
            "format": MANIFEST_FORMAT,
            "exported_at": now.isoformat(),
            "household": person.household.public_id,
            "documents": entries,
        }
        zipped.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    archive.seek(0)
    return Export(
        file=archive,
        filename=f"mes-documents-{timezone.localtime(now):%Y-%m-%d}.zip",
        documents=sum(1 for entry in entries if entry["file"]),
    )


def _export_path(document: Document, version: DocumentVersion, used: set[str]) -> str:
    extension = version.original_name.rpartition(".")[2] or "bin"
    stem = slugify(f"{document.person.first_name} {document.get_kind_display()}") or "document"
    day: datetime = timezone.localtime(version.uploaded_at)
    path = f"documents/{stem}-{day:%Y-%m-%d}.{extension}"
    counter = 2
    while path in used:
        path = f"documents/{stem}-{day:%Y-%m-%d}-{counter}.{extension}"
        counter += 1
    used.add(path)
    return path
