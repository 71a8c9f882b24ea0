"""Sharing a document with a file handled by staff, on purpose and for as long as the file is
open; and the one call other apps make wherever a document is asked for.

A share names its file generically (`FileRef`: the app's kind of file, its public id, a label
the resident reads, the staff capability that handles it), so the safe knows nothing of the
apps above it. Staff of that file read the document through `access.read_shared_document`
while the share is open; the app calls `close_file_shares` when the file is closed. The
resident sees each share and each read in the document's log, and may withdraw a share.
Other apps ask for a document through `picking.attach_document`."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import DomainError, NotFound
from identity.models import AuditEntry, Facility, User
from identity.permissions import Capability

from .. import queries
from ..models import VERIFICATION_LABEL, Document, DocumentEvent, Share
from . import files


@dataclass(frozen=True)
class FileRef:
    """A file staff handle, that documents can be shared with."""

    kind: str  # "card_request", "procedure", …: the app's own name for its files
    id: str  # the file's public id
    label: str  # what the resident reads: "Card request for Léa"
    capability: str  # identity.permissions.Capability of the staff who handle it
    facility: Facility | None = None  # when only the staff of one facility handle it


def open_share(document: Document, target: FileRef, *, actor: User | None, channel: str) -> Share:
    """Open (or find, if already open) the share of `document` with `target`."""
    existing = document.shares.filter(
        target_kind=target.kind, target_id=target.id, closed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            share = Share.objects.create(
                document=document,
                target_kind=target.kind,
                target_id=target.id,
                target_label=str(target.label)[:200],
                capability=str(target.capability),
                facility=target.facility,
                opened_by=actor,
            )
    except IntegrityError:
        # The same choice submitted twice at once: the other request opened it.
        return document.shares.get(
            target_kind=target.kind, target_id=target.id, closed_at__isnull=True
        )
    files.log_event(
        document, DocumentEvent.Action.SHARED, actor=actor, share=share, channel=channel
    )
    return share


def submit_for_verification(document: Document, *, actor: User, channel: str) -> Share:
    """A document of a kind clerks verify joins their queue: shared with it until decided."""
    return open_share(
        document,
        FileRef(
            kind=queries.VERIFICATION_TARGET,
            id=document.public_id,
            label=str(VERIFICATION_LABEL),
            capability=Capability.VIEW_RESIDENT_DOCUMENTS,
        ),
        actor=actor,
        channel=channel,
    )


def close_share(share: Share, *, reason: str, actor: User | None, channel: str = "web") -> None:
    if share.closed_at is not None:
        return
    share.closed_at = timezone.now()
    share.close_reason = reason
    share.save(update_fields=["closed_at", "close_reason"])
    files.log_event(
        share.document,
        DocumentEvent.Action.SHARE_CLOSED,
        actor=actor,
        share=share,
        reason=share.get_close_reason_display(),
        channel=channel,
    )


@transaction.atomic
def share_document(
    *,
    actor: User,
    document: Document,
    target: FileRef,
    channel: str = AuditEntry.Channel.WEB,
) -> Share:
    """The resident shares one of their documents with a file (explicitly, from that file's
    form)."""
    if not queries.may_see(actor, document):
        raise NotFound(_("Document not found."))
    return open_share(document, target, actor=actor, channel=channel)


@transaction.atomic
def close_file_shares(
    *, target_kind: str, target_id: str, actor: User | None = None, channel: str = "web"
) -> int:
    """The file is closed (the card made, the procedure decided): its staff read its
    documents no more. Returns how many shares were closed."""
    shares = list(
        Share.objects.select_for_update()
        .select_related("document")
        .filter(target_kind=target_kind, target_id=target_id, closed_at__isnull=True)
    )
    for share in shares:
        close_share(share, reason=Share.CloseReason.FILE_CLOSED, actor=actor, channel=channel)
    return len(shares)


@transaction.atomic
def revoke_share(*, actor: User, share_public_id: str, channel: str = "web") -> Share:
    """The resident withdraws a share: the file's staff no longer read the document."""
    share = (
        Share.objects.select_for_update()
        .select_related("document")
        .filter(public_id=share_public_id)
        .first()
    )
    if share is None or not queries.may_see(actor, share.document):
        raise NotFound(_("Share not found."))
    if share.target_kind == queries.VERIFICATION_TARGET:
        raise DomainError(
            _(
                "A document waiting for verification stays with the town hall until it decides; "
                "delete the document to withdraw it."
            ),
            code="verification_pending",
        )
    close_share(share, reason=Share.CloseReason.REVOKED, actor=actor, channel=channel)
    return share
