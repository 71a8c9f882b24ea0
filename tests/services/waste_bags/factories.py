"""Quota tables and town-hall desks for the waste-bag tests."""

from identity.models import Facility, Person, StaffRole
from services.catalog.models import AccessPoint
from services.waste_bags.models import BagQuota
from tests.factories import AccessPointFactory, FacilityFactory, PersonFactory, staff_user

# The town's table: 1 person: 2 rolls, 2: 3, 3–4: 4, 5 or more: 5.
TABLE = {1: 2, 2: 3, 3: 4, 5: 5}


def quota_table(year: int) -> None:
    for min_members, rolls in TABLE.items():
        BagQuota.objects.create(year=year, min_members=min_members, rolls=rolls)


def town_hall_desk() -> AccessPoint:
    hall = FacilityFactory(name="Mairie de Cahors", kind=Facility.Kind.TOWN_HALL)
    return AccessPointFactory(facility=hall, name="Guichet", kind=AccessPoint.Kind.DESK)


def clerk_at(point: AccessPoint):
    return staff_user(StaffRole.Role.CLERK, facility=point.facility)


def household_of(size: int) -> list[Person]:
    first = PersonFactory()
    return [first, *(PersonFactory(household=first.household) for _ in range(size - 1))]
