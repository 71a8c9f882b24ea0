"""The demo's access points, entitlements, opening hours and limits (idempotent; after
identity.demo).

The two demo pools show the two situations a territory meets:

- the Piscine de Pradines has everything configured: opening hours (longer in the school
  holidays), 120 places and a four-hour anti-passback: outside its hours a tap is `closed`, a
  second tap within four hours `already_inside` until the swimmer taps out;
- the Piscine de Cahors counts its 250 places but has no hours entered in Sésame yet (a
  facility without hours is always open, as facilities are until the town configures them) and
  no anti-passback: `make tap`, at its entrance, shows the entry book being spent at any hour.

Both pools sell single entries, 10-entry books, annual passes and lessons (the lesson courses
and their limited places are the pools service's demo, services/pools/demo.py, run at the end
through the registry); the médiathèque sells its annual membership, free for residents under
18. The products are paid to two régies (payments); the Pradines gate charges a single entry
to the wallet of a swimmer who holds nothing (pay-per-entry).
"""

from datetime import date, time

from django.db import transaction
from django.utils import timezone

from identity.demo import RESIDENT_EMAIL
from identity.models import Facility, Person
from identity.schooling.models import SchoolHoliday, SchoolYear
from payments.models import Regie

from .actions import grant_entitlement
from .models import (
    AccessPoint,
    Entitlement,
    FacilityAccessRules,
    OpeningHours,
    Product,
    QuotientBracket,
)
from .queries import forget_facility_rules
from .registry import services as registered_services
from .tariffs import LineInput, publish_tariff_grid

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


NORMAL = OpeningHours.Schedule.NORMAL
HOLIDAYS = OpeningHours.Schedule.SCHOOL_HOLIDAYS
WEEKDAYS, SATURDAY, SUNDAY = range(5), 5, 6

# The hours entrances accept people (the last entry, not when the water is cleared).
POOL_HOURS = {
    NORMAL: [
        (WEEKDAYS, time(12), time(13, 45)),
        (WEEKDAYS, time(17), time(20)),
        ([SATURDAY], time(10), time(18)),
        ([SUNDAY], time(9), time(13)),
    ],
    HOLIDAYS: [
        (WEEKDAYS, time(10), time(19, 30)),
        ([SATURDAY], time(10), time(18)),
        ([SUNDAY], time(9), time(13)),
    ],
}
LIBRARY_HOURS = {
    NORMAL: [
        ([1, 3, 4], time(13), time(18)),  # Tuesday, Thursday, Friday afternoons
        ([2, 5], time(10), time(18)),  # Wednesday and Saturday all day
    ],
}
# Limits of each demo pool (the Facility names of identity.demo): places, anti-passback minutes.
LEA_MEMBERSHIP = "Adhésion médiathèque (moins de 18 ans)"
POOL_LIMITS = {"Piscine de Cahors": (250, None), "Piscine de Pradines": (120, 240)}
# Facilities whose hours are entered in the demo (the Cahors pool's are not, see above).
WITHOUT_HOURS = {"Piscine de Cahors"}
# The school year of the demo (zone C) and its holidays, in identity's school calendar: the
# Pradines pool's holiday hours follow them.
SCHOOL_YEAR = ("2026-2027", date(2026, 9, 1), date(2027, 7, 3), "C")
SCHOOL_HOLIDAYS = [("Vacances de Noël 2026", date(2026, 12, 19), date(2027, 1, 4))]


@transaction.atomic
def load() -> None:
    _load_access_points_and_entitlements()
    _load_hours_and_limits()
    _load_products_and_tariffs()
    _link_demo_membership()
    _load_sales_setup()
    # Then each municipal service's own demo (services.catalog.registry): the pools' lessons…
    for service in registered_services():
        if service.demo is not None:
            service.demo()


def _load_hours_and_limits() -> None:
    """Hours, limits and holidays, added to a demo loaded before they existed too."""
    name, starts_on, ends_on, zone = SCHOOL_YEAR
    year, _created = SchoolYear.objects.get_or_create(
        name=name, defaults={"starts_on": starts_on, "ends_on": ends_on, "zone": zone}
    )
    for name, starts_on, classes_resume_on in SCHOOL_HOLIDAYS:
        SchoolHoliday.objects.get_or_create(
            school_year=year,
            starts_on=starts_on,
            defaults={"name": name, "classes_resume_on": classes_resume_on},
        )
    for facility in Facility.objects.filter(kind__in=[Facility.Kind.POOL, Facility.Kind.LIBRARY]):
        if facility.name in POOL_LIMITS:
            places, anti_passback = POOL_LIMITS[facility.name]
            FacilityAccessRules.objects.get_or_create(
                facility=facility,
                defaults={"max_occupancy": places, "anti_passback_minutes": anti_passback},
            )
        if (
            facility.name in WITHOUT_HOURS
            or OpeningHours.objects.filter(facility=facility).exists()
        ):
            continue
        hours = POOL_HOURS if facility.kind == Facility.Kind.POOL else LIBRARY_HOURS
        OpeningHours.objects.bulk_create(
            OpeningHours(facility=facility, schedule=schedule, weekday=day, opens=o, closes=c)
            for schedule, slots in hours.items()
            for days, o, c in slots
            for day in days
        )
    forget_facility_rules()  # bulk_create sends no signal


def _load_access_points_and_entitlements() -> None:
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
        label=LEA_MEMBERSHIP,
        valid_from=today.replace(month=1, day=1),
        valid_until=today.replace(month=12, day=31),
    )


# The self-service kiosk in the hall of the first pool checks cards at an access point of its
# own: its taps never mix with the reception desk's (card/demo.py puts the kiosk reader there).
KIOSK_HALL = "Borne du hall"


def kiosk_hall_point() -> AccessPoint | None:
    """The first pool's kiosk access point, added when missing (None without a pool)."""
    entrance = first_pool_entrance()
    if entrance is None:
        return None
    point, _created = AccessPoint.objects.get_or_create(
        facility=entrance.facility, name=KIOSK_HALL, defaults={"kind": AccessPoint.Kind.DESK}
    )
    return point


def pool_entrance(name: str) -> AccessPoint:
    return AccessPoint.objects.select_related("facility").get(
        facility__name=name, kind=AccessPoint.Kind.ENTRANCE
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


# --- Products and tariffs (services/catalog/tariffs.py) --------------------------------------
# Two grids per product show history: the prices of the 2025–2026 season, then those from
# 1 September 2026 (a quote dated 31 August 2026 still gets the old price).

QUOTIENT_BRACKETS = [(1, 500), (2, 900), (3, 1400), (4, None)]  # euros, from 1 September 2025
SEASONS = [date(2025, 9, 1), date(2026, 9, 1)]
POOL, LIBRARY = Facility.Kind.POOL, Facility.Kind.LIBRARY
# code, name, facility kind, kind, entries, validity in days (lessons: their sessions' days)
PRODUCTS = [
    ("piscine-entree", "Entrée piscine", POOL, "single_entry", None, 1),
    ("piscine-stage-natation", "Stage de natation (5 séances)", POOL, "lesson", None, None),
    ("piscine-aquagym", "Séance d'aquagym", POOL, "lesson", None, None),
    ("piscine-carnet-10", "Carnet 10 entrées piscines", POOL, "entry_book", 10, 730),
    ("piscine-pass-annuel", "Pass annuel piscines", POOL, "pass", None, 365),
    (
        "mediatheque-adhesion",
        "Adhésion médiathèque",
        Facility.Kind.LIBRARY,
        "membership",
        None,
        365,
    ),
]
# Who each product is open to (services/catalog/eligibility.py); the others: everyone.
ELIGIBILITY = {
    "piscine-stage-natation": {"min_age": 6, "max_age": 12},  # Léa and Tom, not their parents
    "piscine-aquagym": {"min_age": 16},
    "piscine-pass-annuel": {"held_once": True},
}
# Per product: (residency, age, QF bracket, reduced category, price in cents per season).
TARIFFS = {
    "piscine-entree": [
        ("non_resident", "any", None, "any", (500, 550)),
        ("resident", "any", None, "any", (350, 380)),
        ("resident", "child", None, "any", (200, 220)),
        ("resident", "senior", None, "any", (250, 270)),
        ("resident", "any", 1, "any", (150, 160)),
        ("any", "any", None, "student", (250, 270)),
        ("any", "any", None, "job_seeker", (200, 220)),
        ("any", "any", None, "disability", (150, 160)),
    ],
    "piscine-carnet-10": [
        ("non_resident", "any", None, "any", (4500, 5000)),
        ("resident", "any", None, "any", (3000, 3300)),
        ("resident", "child", None, "any", (1800, 2000)),
        ("resident", "any", 1, "any", (1300, 1400)),
    ],
    "piscine-pass-annuel": [
        ("non_resident", "any", None, "any", (32000, 35000)),
        ("resident", "any", None, "any", (21000, 23000)),
        ("resident", "child", None, "any", (12000, 13000)),
        ("resident", "senior", None, "any", (15000, 16000)),
    ],
    "piscine-stage-natation": [
        ("non_resident", "any", None, "any", (8500, 9000)),
        ("resident", "any", None, "any", (6000, 6500)),
        ("resident", "child", None, "any", (4000, 4500)),
        ("resident", "any", 1, "any", (2500, 2500)),
    ],
    "piscine-aquagym": [
        ("non_resident", "any", None, "any", (1200, 1300)),
        ("resident", "any", None, "any", (900, 1000)),
        ("resident", "senior", None, "any", (700, 800)),
    ],
    # Free for residents under 18, priced otherwise.
    "mediatheque-adhesion": [
        ("non_resident", "any", None, "any", (2500, 2800)),
        ("resident", "any", None, "any", (1500, 1600)),
        ("resident", "child", None, "any", (0, 0)),
        ("resident", "any", 1, "any", (500, 500)),
        ("any", "any", None, "job_seeker", (0, 0)),
    ],
}


def _load_products_and_tariffs() -> None:
    """Products, their two seasons of prices and the family-quotient brackets, each added only
    when missing (also to a demo loaded before they existed)."""
    for number, max_amount in QUOTIENT_BRACKETS:
        QuotientBracket.objects.get_or_create(
            valid_from=SEASONS[0],
            number=number,
            defaults={"label": f"QF {number}", "max_amount": max_amount},
        )
    for code, rules in ELIGIBILITY.items():  # a demo loaded before eligibility existed
        Product.objects.filter(code=code, min_age=None, max_age=None, held_once=False).update(
            **rules
        )
    for code, name, facility_kind, kind, entries, days in PRODUCTS:
        product, _created = Product.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "facility_kind": facility_kind,
                "kind": kind,
                "entries": entries,
                "validity_days": days,
                "regie_code": REGIES[facility_kind][0],
                **ELIGIBILITY.get(code, {}),
            },
        )
        for season, valid_from in enumerate(SEASONS):
            if product.grids.filter(valid_from=valid_from).exists():
                continue
            publish_tariff_grid(
                actor=None,
                product=product,
                valid_from=valid_from,
                historical=True,
                lines=[
                    LineInput(
                        residency=residency,
                        age_bracket=age,
                        qf_bracket=qf,
                        reduced_category=reduced,
                        price_cents=prices[season],
                    )
                    for residency, age, qf, reduced, prices in TARIFFS[code]
                ],
            )


def _link_demo_membership() -> None:
    """Léa's library membership is one of the product's: held once at a time, it is not
    offered to her again while it is valid (her brother Tom is offered his)."""
    Entitlement.objects.filter(label=LEA_MEMBERSHIP, product__isnull=True).update(
        product=Product.objects.filter(code="mediatheque-adhesion").first()
    )


# --- Sales: the collection offices and pay-per-entry -----------------------------------------
# The régies (payments) the demo products are paid to, by kind of facility: code, name.
REGIES = {
    POOL: ("piscines", "Régie des piscines du Grand Cahors"),
    LIBRARY: ("mediatheque", "Régie de la médiathèque du Grand Cahors"),
}
# The pool whose gate sells single entries from the wallet when a swimmer holds nothing.
PAY_PER_ENTRY = {"Piscine de Pradines": "piscine-entree"}


def _load_sales_setup() -> None:
    """The régies products are paid to (created only when payments' demo has not), products of
    a demo loaded before régies existed, and pay-per-entry at the Pradines pool."""
    for code, name in REGIES.values():
        Regie.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "collectivite": "Communauté d'agglomération du Grand Cahors",
                "address_line1": "72 rue Wilson",
                "postcode": "46000",
                "city": "Cahors",
                "siret": "20004600400017",
            },
        )
    for facility_kind, (code, _name) in REGIES.items():
        Product.objects.filter(facility_kind=facility_kind, regie_code="").update(regie_code=code)
    for facility_name, product_code in PAY_PER_ENTRY.items():
        FacilityAccessRules.objects.filter(
            facility__name=facility_name, pay_per_entry_product__isnull=True
        ).update(pay_per_entry_product=Product.objects.get(code=product_code))
    forget_facility_rules()
