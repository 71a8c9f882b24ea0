"""Who is told what about a procedure file: the one place the engine calls
identity.notifications.notify, inside the transaction of the change (a change rolled back tells
no one). Each timeline event is looked at once (`announce`, from actions.common.record):

- the resident's submission online: an acknowledgement with the date the town answers by;
- a submission at the counter: the receipt (PDF) by email, as the clerk may print it;
- a change of state by staff (the review started, a request for information, an acceptance —
  with the outcome PDF when the type produces one —, a refusal, the file done): the new state
  and the clerk's message;
- a message from staff: its text;
- the reminder of a draft about to be deleted.

What the resident does themself (a draft saved, an answer, a withdrawal, their own messages),
internal comments and assignments tell the resident nothing. Texts are written in the portal's
language; a resident without a login (a member helped at the counter) is told nothing here: the
counter's receipt is printed for them."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from identity.notifications import notify

from . import pdf
from .models import ProcedureEvent, ProcedureFile
from .types import By, State

Kind = ProcedureEvent.Kind


def _link(file: ProcedureFile) -> str:
    return reverse("procedures:file", args=[file.public_id])


def _tell(
    file: ProcedureFile,
    event: ProcedureEvent,
    *,
    topic: str,
    subject: str,
    lines,
    sms: str = "",
    attachments=(),
) -> list:
    recipient = file.applicant.user
    if recipient is None:
        return []
    return notify(
        recipient=recipient,
        topic=topic,
        subject=subject,
        body="\n\n".join(line for line in lines if line),
        sms=sms,
        link=_link(file),
        attachments=attachments,
        dedupe_key=f"procedure-event:{event.pk}",
    )


def _due(file: ProcedureFile) -> str:
    if not file.is_open or file.due_on is None:
        return ""
    return _("The town hall answers by %(day)s.") % {"day": file.due_on.strftime("%d/%m/%Y")}


def _message(event: ProcedureEvent) -> str:
    if not event.text:
        return ""
    return _("Message from the town hall:") + "\n" + event.text


def _by_staff(file: ProcedureFile, event: ProcedureEvent) -> bool:
    step = file.type.transition(event.transition) if file.type else None
    return step is not None and step.by == By.STAFF


def announce(file: ProcedureFile, event: ProcedureEvent) -> list:
    """Tell the resident what this event changes for them, if anything (the module's docstring
    lists who is told what). Returns the notifications written."""
    if event.internal or file.type is None:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        name = file.name
        if event.kind == Kind.SUBMITTED:
            lines = [
                _("Your request “%(name)s” is received.") % {"name": name},
                _due(file),
            ]
            attachments = ()
            if file.channel == "counter":
                lines.insert(
                    1, _("The receipt of the request made for you at the counter is attached.")
                )
                attachments = (
                    (f"recepisse-{file.public_id}.pdf", pdf.receipt(file), "application/pdf"),
                )
            return _tell(
                file,
                event,
                topic="procedures.state_changed",
                subject=_("Request received: %(name)s") % {"name": name},
                lines=lines,
                attachments=attachments,
            )
        if event.kind == Kind.TRANSITION and _by_staff(file, event):
            state = file.type.state_label(event.to_state)
            attachments = ()
            if event.to_state == State.ACCEPTED and file.type.outcome_lines is not None:
                attachments = (
                    (f"demarche-{file.public_id}.pdf", pdf.outcome(file), "application/pdf"),
                )
            return _tell(
                file,
                event,
                topic="procedures.state_changed",
                subject=_("%(name)s: %(state)s") % {"name": name, "state": state},
                lines=[
                    _("Your request “%(name)s” is now: %(state)s.")
                    % {"name": name, "state": state},
                    _message(event),
                    _("Your answer is expected on the request's page.")
                    if event.to_state == State.WAITING
                    else "",
                    _due(file),
                ],
                sms=_("Sésame: your request “%(name)s” is now: %(state)s.")
                % {"name": name, "state": state},
                attachments=attachments,
            )
        if event.kind == Kind.MESSAGE and event.actor_id != file.applicant.user_id:
            return _tell(
                file,
                event,
                topic="procedures.message",
                subject=_("A message about your request: %(name)s") % {"name": name},
                lines=[_message(event)],
            )
        if event.kind == Kind.REMINDED:
            return _tell(
                file,
                event,
                topic="procedures.draft_reminder",
                subject=_("Your unfinished request: %(name)s") % {"name": name},
                lines=[
                    _("You started the request “%(name)s” but did not send it.") % {"name": name},
                    _("Without a change within a week, the draft is deleted."),
                ],
            )
    return []
