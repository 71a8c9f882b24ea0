"""A submitted file handled by the staff of its service, and followed by the resident: state
changes (each checked against the current state under the row lock, audited, in the
timeline, with its message), assignment, internal comments, messages both ways with
documents from the safe, bulk changes, and the staff's audited reads."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents_vault import queries as vault_queries
from documents_vault.actions.access import download_own
from documents_vault.actions.files import DecryptedFile
from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import close_file_shares
from documents_vault.actions.uploads import add_document_for_file
from documents_vault.models import DocumentKind
from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, NotFound
from identity.models import User

from ..errors import FieldErrors
from ..models import ProcedureEvent, ProcedureFile
from ..types import CLOSED_STATES, By, State
from . import common, outputs
from .common import (
    SHARE_KIND,
    Channel,
    is_applicant,
    record,
    require_applicant,
    require_handler,
    require_state,
    touch,
    type_of,
)
from .drafts import file_ref

MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Attachment:
    """A document for a message: picked from the safe (`document_id`) or a new file."""

    document_id: str | None = None
    file_name: str = ""
    content: bytes | None = None


def _message(text: str, *, required: bool) -> str:
    text = (text or "").strip()
    if required and not text:
        raise FieldErrors({"message": _("Write the message to send with it.")})
    if len(text) > MAX_MESSAGE:
        raise FieldErrors(
            {"message": _("A message has at most %(count)s characters.") % {"count": MAX_MESSAGE}}
        )
    return text


def _attach(
    actor: User, file: ProcedureFile, attachments: Sequence[Attachment], channel: str
) -> list[str]:
    """The documents joined to a message, the same way from both sides: each ends in the
    resident's safe and shared with the file. The resident picks one of their documents (of
    any kind: the clerk may ask for anything) or uploads a new one into their safe; a clerk
    picks one the file already shares or uploads one, which goes into the applicant's safe
    (the safe's checks). Returns the documents' public ids, for the timeline."""
    if not attachments:
        return []
    if not file.is_open:
        raise DomainError(
            _("This file is closed: documents are no longer shared with it."), field="document"
        )
    if is_applicant(actor, file):
        return [_attach_from_resident(actor, file, a, channel) for a in attachments]
    require_handler(actor, file)
    return [_attach_from_staff(actor, file, a, channel) for a in attachments]


def _attach_from_resident(
    actor: User, file: ProcedureFile, attachment: Attachment, channel: str
) -> str:
    share = attach_document(
        actor=actor,
        person=file.applicant,
        kinds=DocumentKind.values,
        target=file_ref(file),
        document_id=attachment.document_id,
        file_name=attachment.file_name,
        content=attachment.content,
        new_kind=DocumentKind.OTHER if attachment.content is not None else None,
        channel=channel,
    )
    return share.document.public_id


def _attach_from_staff(
    actor: User, file: ProcedureFile, attachment: Attachment, channel: str
) -> str:
    if (attachment.document_id is None) == (attachment.content is None):
        raise DomainError(_("Pick a document of the file or add a new one."), field="document")
    if attachment.document_id is not None:
        shared = vault_queries.open_shares_for_file(SHARE_KIND, file.public_id)
        if not shared.filter(document__public_id=attachment.document_id).exists():
            # Another household's document, or one the resident never shared with this file.
            raise DomainError(
                _("Pick one of the documents shared with this file."), field="document"
            )
        return attachment.document_id
    share = add_document_for_file(
        actor=actor,
        person=file.applicant,
        target=file_ref(file),
        file_name=attachment.file_name,
        content=attachment.content,
        channel=channel,
    )
    return share.document.public_id


@transaction.atomic
def transition(
    *,
    actor: User,
    file: ProcedureFile,
    key: str,
    message: str = "",
    attachments: Sequence[Attachment] = (),
    slot: str = "",
    channel: str = Channel.WEB,
) -> ProcedureFile:
    """Move the file along one of its type's transitions: who may (staff handling the type, or
    the resident) and from which states is the type's; the state is read under the row lock,
    so that of two clerks clicking at once the second is refused ("wrong_state"). Accepting a
    file whose type produces a booking books the `slot` chosen (actions.outputs)."""
    kind = type_of(file)
    step = kind.transition(key)
    if step is None:
        raise DomainError(_("This procedure has no such step."), field="transition")
    if step.by == By.STAFF:
        require_handler(actor, file)
    else:
        require_applicant(actor, file)
    file = common.locked(file)
    require_state(file, step.sources, doing=str(step.label).lower())
    text = _message(message, required=step.needs_message)
    shared = _attach(actor, file, attachments, channel)
    before = file.state
    if step.target == State.ACCEPTED:
        produced = outputs.produce_booking(actor=actor, file=file, opening=slot)
        if produced is not None:
            text = "\n\n".join(filter(None, [text, _booking_line(*produced)]))
        if kind.on_accept is not None:
            kind.on_accept(file, actor)
    file.state = step.target
    fields = ["state"]
    if step.target in CLOSED_STATES:
        file.is_open = False
        file.closed_at = timezone.now()
        fields += ["is_open", "closed_at"]
        close_file_shares(
            target_kind=SHARE_KIND, target_id=file.public_id, actor=actor, channel=channel
        )
    touch(file, *fields)
    record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.TRANSITION,
        action="procedure.state_changed",
        channel=channel,
        transition=step.key,
        from_state=before,
        to_state=step.target,
        text=text,
        documents=shared,
    )
    return file


def _booking_line(output, booked) -> str:
    """The booking in the acceptance's message: what, when and where, in words."""
    return _("%(what)s: %(when)s, %(place)s.") % {
        "what": output.label,
        "when": booked.when,
        "place": booked.place,
    }


@dataclass(frozen=True)
class BulkOutcome:
    done: list[str]
    refused: dict[str, str]  # public id → the reason


def bulk_transition(
    *,
    actor: User,
    files: Iterable[ProcedureFile],
    key: str,
    message: str = "",
    channel: str = Channel.WEB,
) -> BulkOutcome:
    """The same transition on many files, each in its own transaction: those that cannot
    (another state, another service) are listed with the reason, the others done."""
    done: list[str] = []
    refused: dict[str, str] = {}
    for file in files:
        try:
            transition(actor=actor, file=file, key=key, message=message, channel=channel)
        except DomainError as error:
            refused[file.public_id] = str(error.message)
        else:
            done.append(file.public_id)
    return BulkOutcome(done=done, refused=refused)


@transaction.atomic
def assign(
    *, actor: User, file: ProcedureFile, to: User | None, channel: str = Channel.WEB
) -> ProcedureFile:
    """Give the file to a clerk handling its type (or to nobody)."""
    require_handler(actor, file)
    if to is not None and not common.may_handle(to, file):
        raise DomainError(_("This person does not handle this procedure."), field="assignee")
    file = common.locked(file)
    if file.state == State.DRAFT:
        raise DomainError(_("A draft is not handled yet."), field="assignee")
    file.assigned_to = to
    touch(file, "assigned_to")
    record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.ASSIGNED,
        action="procedure.assigned",
        channel=channel,
        internal=True,
        text=to.display_name if to is not None else "",
    )
    return file


@transaction.atomic
def comment(
    *, actor: User, file: ProcedureFile, text: str, channel: str = Channel.WEB
) -> ProcedureEvent:
    """An internal comment: staff read it, the resident never does."""
    require_handler(actor, file)
    text = _message(text, required=True)
    file = common.locked(file)
    return record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.COMMENT,
        action="procedure.commented",
        channel=channel,
        internal=True,
        text=text,
    )


@transaction.atomic
def send_message(
    *,
    actor: User,
    file: ProcedureFile,
    text: str,
    attachments: Sequence[Attachment] = (),
    channel: str = Channel.WEB,
) -> ProcedureEvent:
    """A message between the resident and the clerks on a submitted file, with documents
    joined the same way from both sides (`_attach`)."""
    from_resident = is_applicant(actor, file)
    if not from_resident:
        require_handler(actor, file)
    text = _message(text, required=True)
    file = common.locked(file)
    if file.state == State.DRAFT:
        raise DomainError(_("Submit the request first."), field="message")
    shared = _attach(actor, file, attachments, channel)
    touch(file)
    return record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.MESSAGE,
        action="procedure.message_sent",
        channel=channel,
        text=text,
        documents=shared,
    )


def open_for_staff(*, actor: User, file: ProcedureFile, channel: str = Channel.WEB) -> None:
    """A clerk opens a file: personal data, so the reading is in the audit trail."""
    require_handler(actor, file)
    record_audit_entry(
        actor=actor,
        action="procedure.viewed",
        household=file.household,
        person=file.applicant,
        target=f"procedure:{file.public_id}",
        reason="procedure",
        channel=channel,
    )


def record_export(*, actor: User, count: int, channel: str = Channel.WEB) -> None:
    """The service's files exported for its statistics: who, when, how many."""
    record_audit_entry(
        actor=actor,
        action="procedure.exported",
        target=f"{count} results",
        channel=channel,
    )


def _joined_for_resident(file: ProcedureFile) -> set[str]:
    """The documents joined to the timeline lines the resident reads."""
    events = file.events.filter(internal=False)
    return {
        public_id
        for documents in events.values_list("documents", flat=True)
        for public_id in documents
    }


def download_attachment(
    *, actor: User, file: ProcedureFile, document_id: str, channel: str = Channel.WEB
) -> DecryptedFile:
    """The resident downloads a document joined to their file's timeline (one the clerk sent,
    or one of theirs): read from their safe (logged on the document) and audited on the
    file. A document that is not on this file's timeline is not found."""
    require_applicant(actor, file)
    if document_id not in _joined_for_resident(file):
        raise NotFound(_("Document not found."))
    decrypted = download_own(actor=actor, public_id=document_id, channel=channel)
    record_audit_entry(
        actor=actor,
        action="procedure.document_downloaded",
        household=file.household,
        person=file.applicant,
        target=f"procedure:{file.public_id}",
        channel=channel,
    )
    return decrypted


@transaction.atomic
def post_note(*, file: ProcedureFile, text: str, channel: str = Channel.WEB) -> ProcedureEvent:
    """A line written by Sésame itself on an open file, read by both the clerk and the
    resident (and mailed to the resident like a message): what another service learnt that
    matters to this request (the household moved…)."""
    file = common.locked(file)
    if not file.is_open:
        raise DomainError(_("This file is closed."), field="message")
    touch(file)
    return record(
        file,
        actor=None,
        kind=ProcedureEvent.Kind.MESSAGE,
        action="procedure.message_sent",
        channel=channel,
        text=_message(text, required=True),
    )
