"""The audit trail: who did or saw what, when, why and through which channel."""

import logging

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from .. import queries, vocabulary
from ..errors import Forbidden
from ..models import (
    AuditEntry,
    Household,
    Person,
    User,
)
from ..permissions import Capability, active_roles, has_capability

logger = logging.getLogger(__name__)

Channel = AuditEntry.Channel

# An export is one file a spreadsheet opens: beyond this, narrow the filters.
MAX_EXPORT_ROWS = 50_000


def record_audit_entry(
    *,
    actor: User | None,
    action: str,
    household: Household | None = None,
    person: Person | None = None,
    target: str = "",
    reason: str = "",
    channel: str = Channel.WEB,
    changes: dict[str, list] | None = None,
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
        changes=changes or {},
    )
    logger.debug(
        "audit action=%s actor=%s household=%s",
        action,
        getattr(actor, "pk", None),
        getattr(entry.household, "pk", None),
    )
    return entry


# --- Administrators read the trail (each read is itself an entry) ---------------------------


def _describe_filters(filters: queries.AuditFilters) -> str:
    """The filters in words, in the portal's language, for the entry that records the read."""
    with translation.override(settings.LANGUAGE_CODE):
        parts = []
        if filters.actor.strip():
            parts.append(_("who: %(words)s") % {"words": filters.actor.strip()})
        if filters.resident.strip():
            parts.append(_("resident: %(words)s") % {"words": filters.resident.strip()})
        if filters.action:
            parts.append(vocabulary.action_label(filters.action))
        if filters.channel in Channel.values:
            parts.append(str(Channel(filters.channel).label))
        if filters.date_from:
            parts.append(_("from %(day)s") % {"day": filters.date_from.strftime("%d/%m/%Y")})
        if filters.date_to:
            parts.append(_("to %(day)s") % {"day": filters.date_to.strftime("%d/%m/%Y")})
        return " ; ".join(parts) or _("everything")


def _require_trail_reader(actor: User) -> None:
    if not has_capability(actor, Capability.VIEW_AUDIT_TRAIL):
        raise Forbidden(_("Only an administrator reads the audit trail."))


def read_audit_trail(
    *, actor: User, filters: queries.AuditFilters, channel: str = Channel.WEB
) -> QuerySet[AuditEntry]:
    """An administrator reads the trail, filtered; the reading is an entry of its own."""
    _require_trail_reader(actor)
    record_audit_entry(
        actor=actor,
        action="audit.trail_viewed",
        target=_describe_filters(filters)[:120],
        channel=channel,
    )
    return queries.audit_trail(filters)


def export_audit_trail(
    *, actor: User, filters: queries.AuditFilters, channel: str = Channel.WEB
) -> list[AuditEntry]:
    """The filtered trail as a list for a spreadsheet (at most MAX_EXPORT_ROWS); the export is an
    entry of its own, with how many rows left."""
    _require_trail_reader(actor)
    entries = list(queries.audit_trail(filters)[:MAX_EXPORT_ROWS])
    record_audit_entry(
        actor=actor,
        action="audit.trail_exported",
        target=f"{_describe_filters(filters)} ({len(entries)})"[:120],
        channel=channel,
    )
    return entries
