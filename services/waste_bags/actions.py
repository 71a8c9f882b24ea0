"""Handing out waste-sorting bags at a town-hall desk."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Facility, Household, Person, User
from identity.permissions import Capability, has_capability
from services.catalog.models import AccessPoint

from . import queries
from .models import BagDistribution

# No household's quota comes near it: a typing slip (40 for 4) is refused before any read.
MAX_ROLLS_AT_ONCE = 20


def _lock_household(household_id: int) -> None:
    """Serialise the hand-outs of one household: the household's row is locked until commit,
    so a second desk waits, then reads what the first handed out (READ COMMITTED). Without it
    two desks could both read "one roll left" and both hand it out
    (tests/services/waste_bags/test_concurrency.py)."""
    list(Household.objects.select_for_update().filter(pk=household_id).values_list("pk"))


@transaction.atomic
def hand_out_bags(
    *,
    actor: User,
    person: Person,
    access_point: AccessPoint,
    quantity: int,
    day: date | None = None,
) -> str:
    """Give `quantity` rolls to `person`'s household at a town-hall desk, within the
    household's quota for the year; returns the confirmation the desk shows. Over-distribution
    is refused (DomainError on "quantity") and writes nothing, also when two desks serve the
    same household at once."""
    facility = access_point.facility
    if not has_capability(actor, Capability.SCAN_CARDS, facility=facility):
        raise Forbidden(_("You cannot hand out bags at this desk."))
    if facility.kind != Facility.Kind.TOWN_HALL or access_point.kind != AccessPoint.Kind.DESK:
        raise Forbidden(_("Bags are handed out at a town-hall desk."))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError(_("Hand out at least one roll."), field="quantity")
    if quantity > MAX_ROLLS_AT_ONCE:
        raise DomainError(
            _("At most %(max)s rolls at once: check the number.") % {"max": MAX_ROLLS_AT_ONCE},
            field="quantity",
        )
    day = day or timezone.localdate()
    year = day.year
    household = person.household
    if not queries.entitled_on(household, day):
        raise DomainError(
            _("This household does not live in the territory: no bags."),
            field="quantity",
            code="not_entitled",
        )
    quota = queries.quota_for(household, year)
    if quota is None:
        raise DomainError(
            _("No bag quota is set for %(year)s: ask the administrator.") % {"year": year},
            field="quantity",
        )
    _lock_household(household.pk)
    left = max(quota - queries.handed_out(household, year), 0)
    if quantity > left:
        if left == 0:
            message = _("This household has had all its bags for %(year)s.") % {"year": year}
        else:
            message = ngettext(
                "Only %(left)s roll is left for this household this year.",
                "Only %(left)s rolls are left for this household this year.",
                left,
            ) % {"left": left}
        raise DomainError(message, field="quantity", code="quota_exceeded")
    BagDistribution.objects.create(
        household=household,
        person=person,
        year=year,
        quantity=quantity,
        staff=actor,
        facility=facility,
    )
    record_audit_entry(
        actor=actor,
        action="waste_bags.handed_out",
        person=person,
        target=f"{year}:{quantity}",
        channel=AuditEntry.Channel.COUNTER,
    )
    left -= quantity
    return ngettext(
        "%(quantity)s roll handed out; %(left)s left this year.",
        "%(quantity)s rolls handed out; %(left)s left this year.",
        quantity,
    ) % {"quantity": quantity, "left": left}
