"""Reduced-rate statuses (student, job seeker, disability) a clerk records."""

from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from ..errors import DomainError, Forbidden
from ..models import (
    AuditEntry,
    Person,
    ReducedRateStatus,
    User,
)
from ..permissions import Capability, has_capability
from .audit import record_audit_entry

Channel = AuditEntry.Channel


MAX_REDUCED_RATE_PERIOD = timedelta(days=5 * 366)  # a disability card runs for years


@transaction.atomic
def record_reduced_rate_status(
    *,
    actor: User,
    person: Person,
    category: str,
    valid_from: date,
    valid_until: date,
    channel: str = Channel.COUNTER,
) -> ReducedRateStatus:
    """A clerk records a reduced-rate category after seeing its proof (student card, job
    seeker's certificate, disability card). Residents cannot declare one themselves: the
    tariff engine trusts these rows. Audited on the person's household."""
    if not has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        raise Forbidden(_("Only a town-hall clerk records a reduced-rate status."))
    if category not in ReducedRateStatus.Category.values:
        raise DomainError(_("Choose a reduced-rate category."), field="category")
    if valid_until < valid_from:
        raise DomainError(_("The end of the period is before its start."), field="valid_until")
    if valid_until - valid_from > MAX_REDUCED_RATE_PERIOD:
        raise DomainError(
            _("A reduced-rate status is valid for five years at most."), field="valid_until"
        )
    status = ReducedRateStatus.objects.create(
        person=person,
        category=category,
        valid_from=valid_from,
        valid_until=valid_until,
        verified_by=actor,
    )
    record_audit_entry(
        actor=actor,
        action="person.reduced_rate_recorded",
        person=person,
        target=category,
        channel=channel,
    )
    return status
