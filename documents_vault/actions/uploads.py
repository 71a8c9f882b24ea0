"""A resident adds a document to the safe, replaces it with a new version, deletes it.

Each upload is inspected (documents_vault.inspection) and sealed before its rows are written;
a refusal or a failure leaves nothing behind. Kinds a clerk verifies go to the clerks' queue
(a share with the verification "file"). A replacement is accepted at once, the old version
shredded; but when the old version was verified, the new one waits for a clerk and the old
one stays the document's content until then. Two replacements of one document at once keep
exactly one current version: the document's row is locked, and a replacement made from a page
showing a version that is no longer current is refused (the other tab won)."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User, new_public_id
from identity.permissions import can_read_shared_document

from .. import inspection, queries
from ..models import (
    KINDS_VERIFIED_BY_STAFF,
    KINDS_WITH_EXPIRY,
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentVersion,
    Share,
)
from . import files, sharing

State = DocumentVersion.State
Verification = DocumentVersion.Verification
MAX_EXPIRY_YEARS = 15  # an identity card runs 15 years at most; beyond is a typing slip


def _check_kind(kind: str) -> None:
    if kind not in DocumentKind.values:
        raise DomainError(_("Choose the kind of document."), field="kind")


def _check_expiry(kind: str, expires_on: date | None) -> None:
    if expires_on is None:
        return
    if kind not in KINDS_WITH_EXPIRY:
        raise DomainError(
            _("This kind of document has no expiry date: leave it empty."), field="expires_on"
        )
    today = timezone.localdate()
    if expires_on < today:
        raise DomainError(
            _("This document has already expired: add a valid one."), field="expires_on"
        )
    if expires_on > today + timedelta(days=366 * MAX_EXPIRY_YEARS):
        raise DomainError(_("Check the expiry date."), field="expires_on")


def _refuse_duplicate(person: Person, fingerprint: str, *, allow: Document | None = None):
    owner = queries.household_fingerprint_owner(person.household, fingerprint)
    if owner is not None and owner != allow:
        raise Conflict(
            _("This file is already in your documents (%(kind)s of %(name)s): pick it there.")
            % {"kind": owner.get_kind_display(), "name": owner.person.first_name},
            field="file",
            code="duplicate",
        )
    if owner is not None:
        raise Conflict(
            _("This file is the same as the document's current version."),
            field="file",
            code="duplicate",
        )


def _new_version(
    document: Document,
    *,
    public_id: str,
    number: int,
    state: str,
    sealed: files.SealedObject,
    clean: inspection.CleanFile,
    fingerprint: str,
    actor: User,
) -> DocumentVersion:
    return DocumentVersion.objects.create(
        public_id=public_id,
        document=document,
        number=number,
        state=state,
        object_name=sealed.object_name,
        wrapped_key=sealed.wrapped_key,
        key_id=sealed.key_id,
        ciphertext_sha256=sealed.ciphertext_sha256,
        fingerprint=fingerprint,
        content_type=clean.content_type,
        size=len(clean.content),
        original_name=clean.name,
        uploaded_by=actor,
        verification=(
            Verification.PENDING
            if document.kind in KINDS_VERIFIED_BY_STAFF
            else Verification.NOT_REQUESTED
        ),
    )


def add_document(
    *,
    actor: User,
    person: Person,
    kind: str,
    file_name: str,
    content: bytes,
    expires_on: date | None = None,
    channel: str = AuditEntry.Channel.WEB,
) -> Document:
    """A new document in the safe of `person`'s household, belonging to `person`."""
    if not queries.may_file_for(actor, person):
        raise Forbidden(_("You cannot add a document for this person."))
    return _store(
        actor=actor,
        person=person,
        kind=kind,
        file_name=file_name,
        content=content,
        expires_on=expires_on,
        channel=channel,
    )


def _store(
    *,
    actor: User,
    person: Person,
    kind: str,
    file_name: str,
    content: bytes,
    expires_on: date | None,
    channel: str,
) -> Document:
    """The safe's checks (kind, expiry, inspection with the antivirus hook, duplicates), then
    the sealed file and its rows; nothing is left behind on a refusal."""
    _check_kind(kind)
    _check_expiry(kind, expires_on)
    clean = inspection.inspect(content, name=file_name)
    fingerprint = inspection.fingerprint(clean.content)
    _refuse_duplicate(person, fingerprint)
    version_id = new_public_id()
    sealed = files.seal(clean.content, binding=version_id)
    with files.discard_on_error(sealed), transaction.atomic():
        document = Document.objects.create(
            household=person.household,
            person=person,
            kind=kind,
            expires_on=expires_on,
            created_by=actor,
        )
        version = _new_version(
            document,
            public_id=version_id,
            number=1,
            state=State.CURRENT,
            sealed=sealed,
            clean=clean,
            fingerprint=fingerprint,
            actor=actor,
        )
        files.log_event(
            document, DocumentEvent.Action.UPLOADED, actor=actor, version=version, channel=channel
        )
        if version.verification == Verification.PENDING:
            sharing.submit_for_verification(document, actor=actor, channel=channel)
    return document


# What staff may put into a resident's safe for a file they handle: a letter, a form to fill
# in, a certificate of the town's own. Never a kind the clerks verify (a proof the resident
# gives), which would look verified by the town that wrote it.
KINDS_STAFF_MAY_ADD = frozenset({DocumentKind.OTHER})


@transaction.atomic
def add_document_for_file(
    *,
    actor: User,
    person: Person,
    target: sharing.FileRef,
    file_name: str,
    content: bytes,
    kind: str = DocumentKind.OTHER,
    channel: str = AuditEntry.Channel.WEB,
) -> Share:
    """Staff handling a file (`target`) send its resident a document: it goes into `person`'s
    safe with the safe's checks (type, size, antivirus, encryption), marked as added by staff,
    and is shared with the file at once. The resident reads it like any of their documents;
    staff read it through the share while the file is open. Audited."""
    facility_id = target.facility.pk if target.facility is not None else None
    if not can_read_shared_document(actor, capability=target.capability, facility_id=facility_id):
        raise Forbidden(_("Only the staff handling this file may send it a document."))
    if kind not in KINDS_STAFF_MAY_ADD:
        raise DomainError(
            _("The town hall sends documents of the kind “Other” only."), field="kind"
        )
    try:
        document = _store(
            actor=actor,
            person=person,
            kind=kind,
            file_name=file_name,
            content=content,
            expires_on=None,
            channel=channel,
        )
    except Conflict as error:
        if error.code != "duplicate":
            raise
        raise Conflict(
            _("This file is already in the resident's documents: they have it."),
            field="file",
            code="duplicate",
        ) from error
    share = sharing.open_share(document, target, actor=actor, channel=channel)
    record_audit_entry(
        actor=actor,
        action="staff.document_added",
        household=person.household,
        person=person,
        target=str(target.label)[:120],
        channel=channel,
    )
    return share


def _locked(document: Document) -> Document:
    """Serialise the changes to one document (two tabs replacing it at once)."""
    return Document.objects.select_for_update().get(pk=document.pk)


def replace_document(
    *,
    actor: User,
    document: Document,
    file_name: str,
    content: bytes,
    replaces: str | None = None,
    expires_on: date | None = None,
    channel: str = AuditEntry.Channel.WEB,
) -> DocumentVersion:
    """A new version of the document. `replaces`: the public id of the version the resident
    saw; if another replacement got there first, this one is refused (and leaves nothing)."""
    if not queries.may_see(actor, document):
        raise Forbidden(_("You cannot change this document."))
    _check_expiry(document.kind, expires_on)
    clean = inspection.inspect(content, name=file_name)
    fingerprint = inspection.fingerprint(clean.content)
    _refuse_duplicate(document.person, fingerprint, allow=document)
    version_id = new_public_id()
    sealed = files.seal(clean.content, binding=version_id)
    with files.discard_on_error(sealed), transaction.atomic():
        document = _locked(document)
        if document.is_deleted:
            raise Conflict(_("This document was deleted."), code="deleted")
        live = list(document.versions.exclude(state=State.SHREDDED))
        current = next((v for v in live if v.state == State.CURRENT), None)
        pending = next((v for v in live if v.state == State.PENDING), None)
        newest = pending or current
        if replaces is not None and (newest is None or newest.public_id != replaces):
            raise Conflict(
                _(
                    "This document was replaced in another window or tab in the meantime: "
                    "reload the page to see its new version."
                ),
                field="file",
                code="stale_version",
            )
        # A verified version stays the document's content until a clerk accepts the new one.
        waits = (
            current is not None
            and current.verification == Verification.VERIFIED
            and document.kind in KINDS_VERIFIED_BY_STAFF
        )
        if pending is not None:
            files.shred(pending)
        if current is not None and not waits:
            files.shred(current)
        number = (
            document.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        version = _new_version(
            document,
            public_id=version_id,
            number=number,
            state=State.PENDING if waits else State.CURRENT,
            sealed=sealed,
            clean=clean,
            fingerprint=fingerprint,
            actor=actor,
        )
        if expires_on is not None:
            document.expires_on = expires_on
            document.save(update_fields=["expires_on"])
        files.log_event(
            document, DocumentEvent.Action.REPLACED, actor=actor, version=version, channel=channel
        )
        if version.verification == Verification.PENDING:
            sharing.submit_for_verification(document, actor=actor, channel=channel)
    return version


@transaction.atomic
def delete_document(
    *, actor: User, document: Document, channel: str = AuditEntry.Channel.WEB
) -> Document:
    """Delete a document: every version's data key destroyed (no copy of it can be read
    again, backups included), its objects removed, its shares closed. The row stays as a
    tombstone for the log (kind and dates, no content)."""
    if not queries.may_see(actor, document):
        raise Forbidden(_("You cannot delete this document."))
    document = _locked(document)
    if document.is_deleted:
        return document
    for version in document.versions.exclude(state=State.SHREDDED):
        files.shred(version)
    for share in document.shares.filter(closed_at__isnull=True):
        sharing.close_share(share, reason=Share.CloseReason.DOCUMENT_DELETED, actor=actor)
    document.deleted_at = timezone.now()
    document.save(update_fields=["deleted_at"])
    files.log_event(document, DocumentEvent.Action.DELETED, actor=actor, channel=channel)
    return document
