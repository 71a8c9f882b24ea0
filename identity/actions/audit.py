"""The audit trail: who did or saw what, when, why and through which channel."""

import logging

from ..models import (
    AuditEntry,
    Household,
    Person,
    User,
)
from ..permissions import active_roles

logger = logging.getLogger(__name__)

Channel = AuditEntry.Channel


def record_audit_entry(
    *,
    actor: User | None,
    action: str,
    household: Household | None = None,
    person: Person | None = None,
    target: str = "",
    reason: str = "",
    channel: str = Channel.WEB,
) -> AuditEntry:
    """Append to the audit trail. Staff actors are stamped with their role so the resident's
    access log can say "town-hall clerk" without exposing more of the staff account."""
    roles = active_roles(actor) if actor is not None else []
    entry = AuditEntry.objects.create(
        actor=actor,
        actor_role=roles[0].role if roles else "",
        action=action,
        household=household if household is not None else getattr(person, "household", None),
        person=person,
        target=target,
        reason=reason,
        channel=channel,
    )
    logger.debug(
        "audit action=%s actor=%s household=%s",
        action,
        getattr(actor, "pk", None),
        getattr(entry.household, "pk", None),
    )
    return entry
