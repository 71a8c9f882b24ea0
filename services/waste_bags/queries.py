"""Reads of the waste-bag quotas: a household's quota and what is left of it in a year."""

from datetime import date

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from identity import trust
from identity.models import Household, Person
from identity.queries import current_address

from .models import BagDistribution, BagQuota


def household_size(household: Household) -> int:
    """The members the quota counts today: the territory's household-size trust rule decides
    whether members declared online and not yet confirmed by a clerk count (identity.trust)."""
    return trust.counted_household_size(household, timezone.localdate())


def quota_for(household: Household, year: int) -> int | None:
    """Rolls the household may take in `year` (by its size today), or None when the town has
    not set that year's table."""
    size = household_size(household)
    line = (
        BagQuota.objects.filter(year=year, min_members__lte=max(size, 1))
        .order_by("-min_members")
        .first()
    )
    return line.rolls if line else None


def entitled_on(household: Household, day: date) -> bool:
    """The bags are for households living in the territory: the entitlement follows the
    household's address on `day` (a household that moved out takes none from its moving day;
    one that moved in is entitled from its own). A household without a recorded address
    keeps the desk's judgement, as before addresses were kept."""
    address = current_address(household, on=day)
    return address is None or address.commune.is_member


def handed_out(household: Household, year: int) -> int:
    total = BagDistribution.objects.filter(household=household, year=year).aggregate(
        total=Sum("quantity")
    )["total"]
    return total or 0


def bags_left(household: Household, year: int) -> int:
    """Rolls the household may still take in `year` (0 without a quota table that year, or
    when the household no longer lives in the territory)."""
    quota = quota_for(household, year)
    if quota is None or not entitled_on(household, timezone.localdate()):
        return 0
    return max(quota - handed_out(household, year), 0)


def desk_summary(person: Person, day: date) -> str:
    """What the town-hall desk shows for the holder of the card just checked."""
    if not entitled_on(person.household, day):
        return _("Waste-sorting bags: the household does not live in the territory.")
    quota = quota_for(person.household, day.year)
    if quota is None:
        return _("Waste-sorting bags: no quota is set for %(year)s.") % {"year": day.year}
    left = max(quota - handed_out(person.household, day.year), 0)
    return ngettext(
        "Waste-sorting bags: %(left)s roll left this year (of %(quota)s).",
        "Waste-sorting bags: %(left)s rolls left this year (of %(quota)s).",
        left,
    ) % {"left": left, "quota": quota}
