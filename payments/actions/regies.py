"""Régies (collection offices) set up by administrators: what their documents must say, and
which one holds the residents' prepaid wallets (one at most: top-ups are paid to it)."""

from django.db import transaction
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.actions.configuration import lock_changes
from identity.errors import DomainError, Forbidden
from identity.models import User
from identity.permissions import Capability, has_capability
from payments.models import Regie


@transaction.atomic
def save_regie(*, actor: User, regie: Regie, changed_fields: list[str]) -> Regie:
    """Create or update a régie (its fields set by the caller), audited with what changed.
    Two administrators naming a wallet holder at once are serialised by the holder's lock."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Only an administrator sets up the régies."))
    if not (regie.siret.isdigit() and len(regie.siret) == 14):
        raise DomainError(_("A SIRET is 14 digits."), field="siret")
    if regie.holds_wallets:
        holder = (
            Regie.objects.select_for_update()
            .filter(holds_wallets=True)
            .exclude(pk=regie.pk)
            .first()
        )
        if holder is not None:
            raise DomainError(
                _("%(regie)s holds the wallets already: one régie holds them.")
                % {"regie": holder.name},
                field="holds_wallets",
            )
    changes = lock_changes(regie, changed_fields)
    regie.save()
    record_audit_entry(
        actor=actor, action="payments.regie_saved", target=f"regie:{regie.code}", changes=changes
    )
    return regie
