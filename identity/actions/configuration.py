"""The territory's plain configuration (communes, facilities, access points, opening hours,
products, quotas, kiosk settings…) as administrators edit it in the Django admin: one audited
write for every such row, so that no admin page writes around the actions.

Rows with a use case of their own (staff roles, tariff grids, readers, régies) are not saved
here: their admin calls their action."""

from collections.abc import Iterable

from django.db import models, transaction
from django.utils.translation import gettext as _

from ..errors import Forbidden
from ..models import User
from ..permissions import Capability, has_capability
from .audit import record_audit_entry

TARGET_LENGTH = 120  # AuditEntry.target


def require_administrator(actor: User) -> None:
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Only an administrator changes the territory's configuration."))


def _target(instance: models.Model) -> str:
    """The model and the row, as the trail names them: `catalog.OpeningHours:12 Piscine…`."""
    return f"{instance._meta.label}:{instance.pk} {instance}"[:TARGET_LENGTH]


def _value(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    if not field.concrete or field.many_to_many:
        return ""
    return field.value_to_string(instance)


def lock_changes(instance: models.Model, changed_fields: Iterable[str]) -> dict[str, list]:
    """Before an update, lock the row (two administrators editing it are serialised) and return
    the changed fields' before and after values, as the trail keeps them. Within a
    transaction."""
    if instance._state.adding:
        return {}
    before = type(instance).objects.select_for_update().filter(pk=instance.pk).first()
    if before is None:
        return {}
    return {
        name: [_value(before, name), _value(instance, name)]
        for name in changed_fields
        if _value(before, name) != _value(instance, name)
    }


@transaction.atomic
def save_configuration(
    *, actor: User, instance: models.Model, changed_fields: Iterable[str] = ()
) -> models.Model:
    """Create or update one configuration row, audited with what changed (`lock_changes`)."""
    require_administrator(actor)
    changes = lock_changes(instance, changed_fields)
    instance.save()
    record_audit_entry(
        actor=actor, action="configuration.saved", target=_target(instance), changes=changes
    )
    return instance


@transaction.atomic
def delete_configuration(*, actor: User, instances: Iterable[models.Model]) -> int:
    """Delete configuration rows, one audit entry each (what cascades goes with them)."""
    require_administrator(actor)
    count = 0
    for instance in instances:
        target = _target(instance)
        instance.delete()
        record_audit_entry(actor=actor, action="configuration.deleted", target=target)
        count += 1
    return count
