"""The demo's access points and entitlements (idempotent; after identity.demo)."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from identity.demo import RESIDENT_EMAIL
from identity.models import Facility, Person

from .actions import grant_entitlement
from .models import AccessPoint, Entitlement

ACCESS_POINTS = {
    Facility.Kind.POOL: [
        ("Entrée", AccessPoint.Kind.ENTRANCE),
        ("Sortie", AccessPoint.Kind.EXIT),
        ("Accueil", AccessPoint.Kind.DESK),
    ],
    Facility.Kind.LIBRARY: [("Accueil", AccessPoint.Kind.DESK)],
    Facility.Kind.TOWN_HALL: [("Guichet", AccessPoint.Kind.DESK)],
    Facility.Kind.SCHOOL: [("Cantine", AccessPoint.Kind.ENTRANCE)],
}


@transaction.atomic
def load() -> None:
    if AccessPoint.objects.exists():
        return
    for facility in Facility.objects.order_by("pk"):
        for name, kind in ACCESS_POINTS.get(facility.kind, []):
            AccessPoint.objects.create(facility=facility, name=name, kind=kind)
    camille = Person.objects.get(user__email=RESIDENT_EMAIL)
    today = timezone.localdate()
    grant_entitlement(
        actor=None,
        holder=camille,
        kind=Entitlement.Kind.ENTRIES,
        facility_kind=Facility.Kind.POOL,
        label="Carnet 10 entrées piscines",
        valid_from=today.replace(month=1, day=1),
        valid_until=date(today.year + 1, 12, 31),
        entries=10,
    )
    lea = camille.household.members.get(first_name="Léa")
    grant_entitlement(
        actor=None,
        holder=lea,
        kind=Entitlement.Kind.PASS,
        facility_kind=Facility.Kind.LIBRARY,
        label="Adhésion médiathèque (moins de 18 ans)",
        valid_from=today.replace(month=1, day=1),
        valid_until=today.replace(month=12, day=31),
    )


def first_pool_entrance() -> AccessPoint:
    return (
        AccessPoint.objects.filter(
            facility__kind=Facility.Kind.POOL, kind=AccessPoint.Kind.ENTRANCE
        )
        .select_related("facility")
        .order_by("facility__pk", "pk")
        .first()
    )
