"""Assisted mode: a clerk at the counter starts, fills and submits a procedure for a resident,
who consented (who, when, for what is recorded on the file and in its timeline). The file is
the resident's like any other: they find it in Mon espace. Paper documents the clerk saw are
recorded as seen at the counter; the receipt is services.procedures.pdf.receipt."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import DomainError, Forbidden
from identity.models import Person, User
from identity.permissions import Capability, can_handle_procedures, has_capability

from ..models import ProcedureFile
from ..types import procedure_type
from .common import Channel
from .drafts import start_draft


@transaction.atomic
def start_at_counter(
    *,
    actor: User,
    applicant: Person,
    type_key: str,
    consent_given_by: str,
    purpose: str,
) -> ProcedureFile:
    kind = procedure_type(type_key)
    if kind is None:
        raise DomainError(_("There is no such procedure."), field="type")
    if not (
        has_capability(actor, Capability.ASSIST_AT_COUNTER)
        and can_handle_procedures(actor, role=kind.handler_role)
    ):
        raise Forbidden(_("Only a clerk handling this procedure submits it at the counter."))
    consent_given_by = consent_given_by.strip()
    purpose = purpose.strip()
    if not consent_given_by:
        raise DomainError(
            _("Write who gave their consent (the resident or their representative)."),
            field="consent_given_by",
        )
    if not purpose:
        raise DomainError(_("Write what the resident consented to."), field="purpose")
    file = start_draft(actor=actor, type_key=kind.key, applicant=applicant, channel=Channel.COUNTER)
    file.consent_at = timezone.now()
    file.consent_given_by = consent_given_by[:200]
    file.consent_purpose = purpose[:200]
    file.save(update_fields=["consent_at", "consent_given_by", "consent_purpose"])
    return file
