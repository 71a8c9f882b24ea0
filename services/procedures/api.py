"""The procedures in the public API: the types with their form as JSON Schema, a resident's
files (create a draft with answers, save a step, submit, follow the timeline, answer, write),
and the staff's queue and transitions. Invalid answers are a 422 naming each field; a
transition from the wrong state, a second open request or a closed deadline is a 409 with its
code."""

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from identity.api_auth import session_or_token
from identity.errors import DomainError, Forbidden, NotFound
from identity.models import AuditEntry

from . import queries
from .actions import drafts, handling, outputs
from .errors import FieldErrors
from .models import ProcedureFile
from .types import ProcedureType, procedure_type

router = Router(tags=["procedures"])
API = AuditEntry.Channel.API


class FieldErrorOut(Schema):
    field: str
    message: str


class RefusalOut(Schema):
    code: str
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] = []
    existing: str | None = None


class RequestInvalidOut(Schema):
    """django-ninja's own 422, when the request's shape is wrong before any answer is read
    (`answers` not an object…): each problem with its location."""

    detail: list[dict[str, Any]]


ERRORS = {
    400: RefusalOut,
    403: RefusalOut,
    404: RefusalOut,
    409: RefusalOut,
    422: RefusalOut | RequestInvalidOut,
}


class TransitionOut(Schema):
    key: str
    label: str
    by: str
    sources: list[str]
    target: str
    needs_message: bool


class TypeOut(Schema):
    key: str
    name: str
    service: str
    summary: str
    life_events: list[str]
    answer_days: int
    document_kinds: list[str]
    open_until: date | None
    form_schema: dict
    transitions: list[TransitionOut]


def _type_out(kind: ProcedureType) -> TypeOut:
    return TypeOut(
        key=kind.key,
        name=str(kind.name),
        service=kind.service,
        summary=str(kind.summary),
        life_events=list(kind.life_events),
        answer_days=kind.answer_days,
        document_kinds=sorted(kind.document_kinds()),
        open_until=kind.open_until(timezone.localdate()) if kind.open_until else None,
        form_schema=kind.json_schema(),
        transitions=[
            TransitionOut(
                key=t.key,
                label=str(t.label),
                by=t.by,
                sources=sorted(t.sources),
                target=t.target,
                needs_message=t.needs_message,
            )
            for t in kind.transitions
        ],
    )


class TimelineEventOut(Schema):
    at: datetime
    kind: str
    transition: str
    from_state: str
    to_state: str
    text: str
    documents: list[str]
    internal: bool
    by_resident: bool


class FileOut(Schema):
    id: str
    type: str
    name: str
    state: str
    state_label: str
    channel: str
    answers: dict[str, Any]
    step: str
    submitted_at: datetime | None
    due_on: date | None
    late: bool
    is_open: bool
    timeline: list[TimelineEventOut] = []


def _file_out(file: ProcedureFile, *, events=None, staff: bool = False) -> FileOut:
    return FileOut(
        id=file.public_id,
        type=file.type_key,
        name=file.name,
        state=file.state,
        state_label=file.state_label(staff=staff),
        channel=file.channel,
        answers=file.data,
        step=file.step,
        submitted_at=file.submitted_at,
        due_on=file.due_on,
        late=file.is_late(),
        is_open=file.is_open,
        timeline=[
            TimelineEventOut(
                at=e.at,
                kind=e.kind,
                transition=e.transition,
                from_state=e.from_state,
                to_state=e.to_state,
                text=e.text,
                documents=e.documents,
                internal=e.internal,
                by_resident=e.actor_id is not None and e.actor_id == file.applicant.user_id,
            )
            for e in (events or [])
        ],
    )


def _refusal(error: DomainError):
    """A refusal as its status; a plain refusal of one input (a missing message, a document
    not theirs) is an invalid field: a 422 naming it, like the form's answers."""
    if type(error) is DomainError and error.field:
        error = FieldErrors({error.field: error.message})
    return Status(error.status, error.as_dict())


@router.get("/procedures/types", response=list[TypeOut], auth=None)
def list_types(request):
    """Every procedure a resident can start, its form as JSON Schema (`form_schema`, with the
    steps in `x-steps`, conditions in `x-shown-when`, document kinds in `x-document-kinds`)."""
    return [_type_out(kind) for kind in queries.catalogue()]


class CreateIn(Schema):
    type: str
    answers: dict[str, Any] = {}


class AnswersIn(Schema):
    answers: dict[str, Any] = {}


def _save_answers(request, file: ProcedureFile, answers: dict) -> ProcedureFile:
    """Save, step by step, the answers given for each step (all refusals at once)."""
    errors: dict[str, str] = {}
    for step in file.type.steps:
        given = {f.name: answers[f.name] for f in step.fields if f.name in answers}
        if not given:
            continue
        values = {f.name: answers.get(f.name, file.data.get(f.name)) for f in step.fields}
        try:
            file = drafts.save_step(
                actor=request.user, file=file, step=step.key, values=values, channel=API
            )
        except FieldErrors as refused:
            errors.update(refused.errors)
    if errors:
        raise FieldErrors(errors)
    return file


@router.get("/procedures", response=list[FileOut], auth=session_or_token)
def my_files(request):
    """The signed-in resident's files, newest first (answers, state, deadline)."""
    return [_file_out(f) for f in queries.files_of(request.user)[:200]]


@router.post("/procedures", response={201: FileOut, **ERRORS}, auth=session_or_token)
def create(request, payload: CreateIn):
    """A new draft (or the resident's draft of this type, resumed), with the answers given
    saved; answers refused are a 422 naming each field, and nothing of them is saved."""
    if procedure_type(payload.type) is None:
        return Status(422, FieldErrors({"type": _("There is no such procedure.")}).as_dict())
    try:
        file = drafts.start_draft(actor=request.user, type_key=payload.type, channel=API)
        file = _save_answers(request, file, payload.answers)
    except DomainError as error:
        return _refusal(error)
    return Status(201, _file_out(file))


def _file(request, public_id: str) -> tuple[ProcedureFile, bool]:
    file = queries.file_for_resident(request.user, public_id)
    if file is not None:
        return file, False
    file = queries.file_for_staff(request.user, public_id)
    if file is not None:
        return file, True
    raise NotFound(_("Procedure not found."))


@router.get(
    "/procedures/queue", response={200: list[FileOut], 403: RefusalOut}, auth=session_or_token
)
def staff_queue(request, service: str = "", type: str = "", state: str = "", mine: bool = False):
    """Staff: the open files of the types they handle, late ones first; refused (403) to
    anyone who handles none."""
    if not queries.handled_types(request.user):
        return _refusal(Forbidden(_("You do not handle any procedure.")))
    filters = queries.QueueFilters(service=service, type_key=type, state=state, mine=mine)
    return [_file_out(f, staff=True) for f in queries.queue(request.user, filters)[:500]]


@router.get("/procedures/{public_id}", response={200: FileOut, **ERRORS}, auth=session_or_token)
def file_detail(request, public_id: str):
    """A file with its timeline: the resident's own (without the staff's internal lines), or
    one a staff member handles (the reading is audited)."""
    try:
        file, staff = _file(request, public_id)
        if staff:
            handling.open_for_staff(actor=request.user, file=file, channel=API)
            events = queries.staff_timeline(file)
        else:
            events = queries.resident_timeline(file)
    except DomainError as error:
        return _refusal(error)
    return _file_out(file, events=events, staff=staff)


@router.post(
    "/procedures/{public_id}/steps",
    response={200: FileOut, **ERRORS},
    auth=session_or_token,
)
def save_answers(request, public_id: str, payload: AnswersIn):
    """Save more answers to a draft (each step given is checked and saved as the pages do)."""
    file = queries.file_for_resident(request.user, public_id)
    if file is None:
        return _refusal(NotFound(_("Procedure not found.")))
    try:
        file = _save_answers(request, file, payload.answers)
    except DomainError as error:
        return _refusal(error)
    return _file_out(file)


@router.post(
    "/procedures/{public_id}/submit",
    response={200: FileOut, **ERRORS},
    auth=session_or_token,
)
def submit(request, public_id: str):
    file = queries.file_for_resident(request.user, public_id)
    if file is None:
        return _refusal(NotFound(_("Procedure not found.")))
    try:
        file = drafts.submit(actor=request.user, file=file, channel=API)
    except DomainError as error:
        return _refusal(error)
    return _file_out(file, events=queries.resident_timeline(file))


class TransitionIn(Schema):
    message: str = ""
    # Documents joined to the message, by id: the resident's from their safe; a clerk's among
    # those the file shares (uploads go through the pages or the safe's own API).
    documents: list[str] = []
    # Accepting a file whose type produces a booking: one of the openings' `value`.
    slot: str = ""


class BookingOpeningOut(Schema):
    value: str
    label: str


class BookingOpeningsOut(Schema):
    label: str
    openings: list[BookingOpeningOut]


@router.get(
    "/procedures/{public_id}/openings",
    response={200: BookingOpeningsOut, **ERRORS},
    auth=session_or_token,
)
def booking_openings(request, public_id: str):
    """Staff: what accepting the file books (an appointment to collect a certificate…) and
    the times to choose from, to give as `slot` to the `accept` transition; 404 when it books
    nothing."""
    file = queries.file_for_staff(request.user, public_id)
    if file is None:
        return _refusal(NotFound(_("Procedure not found.")))
    output, openings = outputs.booking_openings(file)
    if output is None:
        return _refusal(NotFound(_("Accepting this file books nothing.")))
    return BookingOpeningsOut(
        label=str(output.label),
        openings=[BookingOpeningOut(value=o.value, label=o.label) for o in openings],
    )


@router.post(
    "/procedures/{public_id}/transitions/{key}",
    response={200: FileOut, **ERRORS},
    auth=session_or_token,
)
def transition(request, public_id: str, key: str, payload: TransitionIn):
    """Staff move a file along (take, ask, accept, refuse, complete, and the type's own);
    the resident answers or withdraws. A state that does not allow it: 409 `wrong_state`."""
    try:
        file, staff = _file(request, public_id)
        file = handling.transition(
            actor=request.user,
            file=file,
            key=key,
            message=payload.message,
            attachments=[handling.Attachment(document_id=d) for d in payload.documents],
            slot=payload.slot,
            channel=API,
        )
    except DomainError as error:
        return _refusal(error)
    events = queries.staff_timeline(file) if staff else queries.resident_timeline(file)
    return _file_out(file, events=events, staff=staff)


class MessageIn(Schema):
    text: str
    documents: list[str] = []


@router.post(
    "/procedures/{public_id}/messages",
    response={201: FileOut, **ERRORS},
    auth=session_or_token,
)
def message(request, public_id: str, payload: MessageIn):
    """A message on a submitted file, with documents joined by id: the resident's from their
    safe, a clerk's among those the file shares."""
    try:
        file, staff = _file(request, public_id)
        handling.send_message(
            actor=request.user,
            file=file,
            text=payload.text,
            attachments=[handling.Attachment(document_id=d) for d in payload.documents],
            channel=API,
        )
    except DomainError as error:
        return _refusal(error)
    events = queries.staff_timeline(file) if staff else queries.resident_timeline(file)
    return Status(201, _file_out(file, events=events, staff=staff))
