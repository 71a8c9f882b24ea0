"""What every card use case starts and ends with: who may act, the card row under lock in a
status that allows the step, and the audit entry it leaves."""

from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, can_act_for, has_capability

from ..models import Card


def require_capability(actor: User, capability: Capability) -> None:
    if not has_capability(actor, capability):
        raise Forbidden(_("Your role does not allow this."))


def require_holder_or_staff(actor: User, holder: Person) -> bool:
    """True when staff act (their channel is the counter); residents act for themselves and
    their children."""
    if can_act_for(actor, holder):
        return False
    if has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        return True
    raise Forbidden(_("You cannot manage this person's cards."))


def locked_card(card: Card) -> Card:
    return Card.objects.select_for_update().select_related("holder").get(pk=card.pk)


def require_status(card: Card, allowed: set[str]) -> None:
    if card.status not in allowed:
        raise Conflict(
            _("This card is %(status)s: that step is not possible now.")
            % {"status": card.get_status_display().lower()}
        )


def audit_card(actor: User | None, card: Card, action: str, *, by_staff: bool, reason: str = ""):
    record_audit_entry(
        actor=actor,
        action=f"card.{action}",
        person=card.holder,
        target=card.number,
        reason=reason,
        channel=AuditEntry.Channel.COUNTER if by_staff else AuditEntry.Channel.WEB,
    )
