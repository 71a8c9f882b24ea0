"""A resident's request, from the first step to its submission: a draft saved at each step
(resumed on any device), a summary, then the submission, which checks everything again, shares
the documents with the file and starts the town's deadline."""

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from documents_vault import queries as vault_queries
from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import FileRef
from documents_vault.actions.uploads import add_document
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Person, User
from identity.permissions import Capability, can_manage_household, person_of

from .. import prefill
from ..errors import AlreadyOpen, FieldErrors
from ..fields import SEEN_AT_COUNTER, Context, DocumentField, Field, FieldError
from ..models import ProcedureEvent, ProcedureFile
from ..types import ProcedureType, State, procedure_type
from .common import (
    SHARE_KIND,
    Channel,
    locked,
    record,
    require_applicant,
    require_state,
    touch,
    type_of,
)


def file_ref(file: ProcedureFile) -> FileRef:
    return FileRef(
        kind=SHARE_KIND,
        id=file.public_id,
        label=str(file.name),
        capability=Capability.HANDLE_PROCEDURES,
    )


def check_open_for_submission(kind: ProcedureType, today) -> None:
    """A request with a closing day (an election's registration deadline) is refused after it."""
    if kind.open_until is None:
        return
    last_day = kind.open_until(today)
    if last_day is not None and today > last_day:
        raise Conflict(
            _("Requests closed on %(day)s.") % {"day": last_day.strftime("%d/%m/%Y")},
            code="closed",
        )


@transaction.atomic
def start_draft(
    *, actor: User, type_key: str, applicant: Person | None = None, channel: str = Channel.WEB
) -> ProcedureFile:
    """A new draft for `applicant` (the actor themself online), prefilled with what the town
    knows. A resident with a draft of this type not yet submitted resumes it instead."""
    kind = procedure_type(type_key)
    if kind is None:
        raise DomainError(_("There is no such procedure."), field="type")
    if applicant is None:
        applicant = person_of(actor)
        if applicant is None or not can_manage_household(actor, applicant.household):
            raise Forbidden(_("Complete your profile first: procedures are for residents."))
        existing = ProcedureFile.objects.filter(
            applicant=applicant, type_key=type_key, state=State.DRAFT, channel=channel
        ).first()
        if existing is not None:
            return existing
    check_open_for_submission(kind, timezone.localdate())
    known = prefill.known(applicant)
    data = {f.name: known[f.prefill] for f in kind.fields() if f.prefill and known.get(f.prefill)}
    file = ProcedureFile.objects.create(
        type_key=kind.key,
        service_key=kind.service,
        applicant=applicant,
        household=applicant.household,
        created_by=actor,
        channel=channel,
        data=data,
    )
    record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.CREATED,
        action="procedure.started",
        channel=channel,
        to_state=State.DRAFT,
    )
    return file


def _context(file: ProcedureFile) -> Context:
    return Context(household=file.household, today=timezone.localdate())


def _clean_fields(
    fields: list[Field], values: Mapping[str, Any], data: Mapping[str, Any], context: Context
) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned values of the fields shown (given `data`), and the errors by field name."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if not field.is_shown(data):
            continue
        raw = values.get(field.name)
        if field.is_empty(raw):
            if field.required:
                errors[field.name] = _("%(field)s: this answer is required.") % {
                    "field": field.label
                }
            continue
        try:
            cleaned[field.name] = field.clean(raw, context)
        except FieldError as error:
            errors[field.name] = f"{field.label} : {error.message}"
    return cleaned, errors


def _check_document(actor: User, file: ProcedureFile, field: DocumentField, value: str) -> None:
    """A document picked must be one of the applicant's valid documents of the field's kinds
    (not another household's, not another kind): the same rule attach_document applies."""
    if value == SEEN_AT_COUNTER and file.channel == Channel.COUNTER:
        return
    picked = vault_queries.documents_for_picker(actor, file.applicant, field.kinds)
    if not any(document.public_id == value for document in picked):
        raise FieldError(_("Pick one of your valid documents of the kind asked for."))


@transaction.atomic
def save_step(
    *,
    actor: User,
    file: ProcedureFile,
    step: str,
    values: Mapping[str, Any],
    uploads: Mapping[str, tuple[str, bytes]] | None = None,
    channel: str = Channel.WEB,
) -> ProcedureFile:
    """Save one step of a draft: its answers are checked (every refusal names its field, and
    nothing is saved while one is refused); a new file uploaded for a document field goes into
    the safe (with the safe's checks), so that it is never asked for again. Documents are
    shared with the file when it is submitted, not before."""
    require_applicant(actor, file)
    file = locked(file)
    require_state(file, {State.DRAFT}, doing=_("changing the answers"))
    kind = type_of(file)
    current = kind.step(step)
    if current is None:
        raise DomainError(_("There is no such step."), field="step")
    values = dict(values)
    errors: dict[str, str] = {}
    for field in current.fields:
        if isinstance(field, DocumentField) and uploads and field.name in uploads:
            file_name, content = uploads[field.name]
            try:
                with transaction.atomic():
                    document = add_document(
                        actor=actor,
                        person=file.applicant,
                        kind=field.kinds[0],
                        file_name=file_name,
                        content=content,
                        channel=channel,
                    )
            except DomainError as error:
                errors[field.name] = f"{field.label} : {error.message}"
            else:
                values[field.name] = document.public_id
    merged = {**file.data, **values}
    context = _context(file)
    cleaned, field_errors = _clean_fields(list(current.fields), values, merged, context)
    errors.update(field_errors)
    for field in current.fields:
        if isinstance(field, DocumentField) and field.name in cleaned:
            try:
                _check_document(actor, file, field, cleaned[field.name])
            except FieldError as error:
                errors[field.name] = f"{field.label} : {error.message}"
    if errors:
        raise FieldErrors(errors)
    data = {**file.data}
    for field in current.fields:
        data.pop(field.name, None)
    data.update(cleaned)
    # A field an answer hides is no longer kept (one whose condition is not answered yet, a
    # prefilled address for a delivery not chosen yet, stays).
    file.data = {
        name: value
        for name, value in data.items()
        if (field := kind.field(name)) is not None
        and (field.shown_when is None or field.shown_when.field not in data or field.is_shown(data))
    }
    file.step = current.key
    file.reminded_at = None
    touch(file, "data", "step", "reminded_at")
    return file


def check_answers(actor: User, file: ProcedureFile) -> dict[str, Any]:
    """Every answer of the file checked again (a document may have expired since), and the
    type's checks between fields: the answers to submit, or FieldErrors."""
    kind = type_of(file)
    context = _context(file)
    cleaned, errors = _clean_fields(kind.fields(), file.data, file.data, context)
    for field in kind.fields():
        if isinstance(field, DocumentField) and field.name in cleaned:
            try:
                _check_document(actor, file, field, cleaned[field.name])
            except FieldError as error:
                errors[field.name] = f"{field.label} : {error.message}"
    if errors:
        raise FieldErrors(errors)
    if kind.validate is not None:
        kind.validate(cleaned, context)
    return cleaned


def _other_open_file(file: ProcedureFile) -> ProcedureFile | None:
    return (
        ProcedureFile.objects.filter(
            applicant_id=file.applicant_id, type_key=file.type_key, is_open=True
        )
        .exclude(pk=file.pk)
        .first()
    )


def open_request(file: ProcedureFile) -> ProcedureFile | None:
    """The applicant's other open file of the same type, if any: the check before submitting
    (two submissions at once both pass it; the database constraint keeps one)."""
    return _other_open_file(file)


def _already_open(existing: ProcedureFile) -> AlreadyOpen:
    return AlreadyOpen(
        _("You already have a request of this kind in progress: follow it there."),
        existing=existing.public_id,
    )


@transaction.atomic
def submit(*, actor: User, file: ProcedureFile, channel: str = Channel.WEB) -> ProcedureFile:
    """Submit a draft: checked whole, refused after the type's closing day or while the
    resident has an open request of the same type (AlreadyOpen names it); the documents are
    shared with the file and the town's deadline starts."""
    require_applicant(actor, file)
    file = locked(file)
    require_state(file, {State.DRAFT}, doing=_("submitting"))
    kind = type_of(file)
    today = timezone.localdate()
    check_open_for_submission(kind, today)
    data = check_answers(actor, file)
    existing = open_request(file)
    if existing is not None:
        raise _already_open(existing)
    shared = []
    for field in kind.fields():
        value = data.get(field.name)
        if isinstance(field, DocumentField) and value and value != SEEN_AT_COUNTER:
            attach_document(
                actor=actor,
                person=file.applicant,
                kinds=field.kinds,
                target=file_ref(file),
                document_id=value,
                channel=channel,
            )
            shared.append(value)
    file.data = data
    file.state = State.SUBMITTED
    file.is_open = True
    file.submitted_at = timezone.now()
    file.due_on = kind.due_on(today)
    try:
        with transaction.atomic():
            touch(file, "data", "state", "is_open", "submitted_at", "due_on")
    except IntegrityError as error:
        # Two submissions at once: the constraint let one through.
        raise _already_open(_other_open_file(file) or file) from error
    record(
        file,
        actor=actor,
        kind=ProcedureEvent.Kind.SUBMITTED,
        action="procedure.submitted",
        channel=channel,
        from_state=State.DRAFT,
        to_state=State.SUBMITTED,
        documents=shared,
    )
    return file


@transaction.atomic
def delete_draft(*, actor: User, file: ProcedureFile, channel: str = Channel.WEB) -> None:
    """The resident gives up a draft (nothing was submitted: nothing is kept but the audit)."""
    require_applicant(actor, file)
    file = locked(file)
    require_state(file, {State.DRAFT}, doing=_("deleting the draft"))
    record_audit_entry(
        actor=actor,
        action="procedure.draft_deleted",
        household=file.household,
        person=file.applicant,
        target=f"procedure:{file.public_id}",
        channel=channel,
    )
    file.events.all().delete()
    file.delete()
