"""What the engine's actions share: the row lock, the permission checks, the timeline and the
audit entry every change writes."""

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, Forbidden, NotFound
from identity.models import AuditEntry, User
from identity.permissions import can_handle_procedures, person_of

from .. import notices
from ..models import SHARE_KIND, ProcedureEvent, ProcedureFile  # noqa: F401 - re-exported
from ..types import ProcedureType, procedure_type

Channel = AuditEntry.Channel


def type_of(file: ProcedureFile) -> ProcedureType:
    kind = procedure_type(file.type_key)
    if kind is None:
        raise NotFound(_("This procedure is no longer offered."))
    return kind


def locked(file: ProcedureFile) -> ProcedureFile:
    """The file's row, locked until the transaction ends: every change reads the state it
    decides on here, so that two clerks (or a clerk and the resident) are serialised."""
    return ProcedureFile.objects.select_for_update().get(pk=file.pk)


def is_applicant(actor: User, file: ProcedureFile) -> bool:
    person = person_of(actor)
    return person is not None and person.pk == file.applicant_id


def may_handle(actor: User, file: ProcedureFile) -> bool:
    kind = procedure_type(file.type_key)
    return kind is not None and can_handle_procedures(actor, role=kind.handler_role)


def is_counter_clerk(actor: User, file: ProcedureFile) -> bool:
    """The clerk who opened the file at the counter fills and submits it for the resident."""
    return (
        file.channel == Channel.COUNTER
        and file.created_by_id == actor.pk
        and may_handle(actor, file)
    )


def require_applicant(actor: User, file: ProcedureFile) -> None:
    if not (is_applicant(actor, file) or is_counter_clerk(actor, file)):
        raise NotFound(_("Procedure not found."))


def require_handler(actor: User, file: ProcedureFile) -> None:
    if not may_handle(actor, file):
        raise Forbidden(_("Only the staff handling this procedure may do this."))


def require_state(file: ProcedureFile, states, *, doing: str) -> None:
    if file.state not in states:
        raise Conflict(
            _("This file is “%(state)s”: %(doing)s is not possible now.")
            % {"state": file.state_label(), "doing": doing},
            code="wrong_state",
        )


def record(
    file: ProcedureFile,
    *,
    actor: User | None,
    kind: str,
    action: str,
    channel: str,
    text: str = "",
    internal: bool = False,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    documents: list[str] | None = None,
) -> ProcedureEvent:
    """One line of the timeline and its audit entry."""
    event = ProcedureEvent.objects.create(
        file=file,
        actor=actor,
        kind=kind,
        text=text,
        internal=internal,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        documents=documents or [],
        channel=channel,
    )
    record_audit_entry(
        actor=actor,
        action=action,
        household=file.household,
        person=file.applicant,
        target=f"procedure:{file.public_id}",
        channel=channel,
    )
    notices.announce(file, event)
    return event


def touch(file: ProcedureFile, *fields: str) -> None:
    file.updated_at = timezone.now()
    file.save(update_fields=[*fields, "updated_at"])
