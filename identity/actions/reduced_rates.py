"""Reduced-rate statuses (student, job seeker, disability) a clerk records and ends."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import Conflict, DomainError, Forbidden
from ..models import (
    AuditEntry,
    Person,
    ReducedRateStatus,
    User,
)
from ..permissions import Capability, has_capability
from .audit import record_audit_entry
from .corrections import check_correction_reason

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


@transaction.atomic
def end_reduced_rate_status(
    *,
    actor: User,
    status: ReducedRateStatus,
    last_day: date,
    reason: str,
    channel: str = Channel.COUNTER,
) -> ReducedRateStatus:
    """A clerk ends a status early (the student left school, the job seeker found work): it
    covers no day after `last_day`. The row is kept with who ended it and when, never deleted;
    sales already made keep their price."""
    if not has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        raise Forbidden(_("Only a town-hall clerk ends a reduced-rate status."))
    reason = check_correction_reason(reason)
    status = ReducedRateStatus.objects.select_for_update().get(pk=status.pk)
    if status.ended_on is not None:
        raise Conflict(_("This reduced-rate status has already ended."))
    if last_day < status.valid_from - timedelta(days=1):
        raise DomainError(
            _("The status starts on %(day)s: it cannot end before.")
            % {"day": status.valid_from.strftime("%d/%m/%Y")},
            field="last_day",
        )
    if last_day >= status.valid_until:
        raise DomainError(
            _("The status already ends on %(day)s.")
            % {"day": status.valid_until.strftime("%d/%m/%Y")},
            field="last_day",
        )
    status.ended_on, status.ended_at, status.ended_by = last_day, timezone.now(), actor
    status.save(update_fields=["ended_on", "ended_at", "ended_by"])
    record_audit_entry(
        actor=actor,
        action="person.reduced_rate_ended",
        person=status.person,
        target=status.category,
        reason=reason,
        changes={"valid_until": [status.valid_until.isoformat(), last_day.isoformat()]},
        channel=channel,
    )
    return status
