"""The canteen's demo: the school year under way with its holidays, the restaurant of the École
Lucie-Aubrac with lunch, morning and evening care and the Wednesday centre, Camille's children
Léa and Tom and three children of the schools' demo families enrolled there, the month ahead
booked by their parents, their diets (Tom's peanut allergy rests on a care plan (PAI) in the
safe), and the menus of this week and the next, published. The canteen agent of the school
(identity's demo, cantine@demo.sesame.fr) reads the kitchen lists."""

from datetime import date, time, timedelta

from django.db import transaction
from django.utils import timezone

from documents_vault.demo import _demo_pdf
from identity.models import Facility, Person, User
from identity.schooling.actions import enrol_child
from identity.schooling.models import Level, SchoolClass, SchoolHoliday, SchoolYear
from payments.models import Regie
from services.catalog.models import Product
from services.catalog.tariffs import LineInput as TariffLine
from services.catalog.tariffs import publish_tariff_grid

from . import actions, demo_history
from .models import CanteenSite, Dish, Menu, Service

SITE_NAME = "Restaurant scolaire Lucie-Aubrac"
REGIE_DETAILS = {
    "name": "Régie de la restauration scolaire",
    "collectivite": "Communauté d'agglomération du Grand Cahors",
    "address_line1": "72 rue Wilson",
    "postcode": "46000",
    "city": "Cahors",
    "siret": "20002373700017",
}
# (first name, last name, level, class): Camille's children, then three of the schools' demo.
CHILDREN = (
    ("Léa", "Martin", Level.CM2, "CM1-CM2 de M. Faure"),
    ("Tom", "Martin", Level.CE1, "CE1 de Mme Delmas"),
    ("Inès", "Haddad", Level.CP, "CP de Mme Rey"),
    ("Lina", "Leroy", Level.CP, "CP de Mme Rey"),
    ("Hugo", "Moreau", Level.GS, "GS de Mme Vidal"),
)
# (course, dish, allergens) for each day of a menu, by weekday.
MENUS = {
    0: [
        (Dish.Course.STARTER, "Carottes râpées", "mustard"),
        (Dish.Course.MAIN, "Poisson pané", "fish,gluten,eggs"),
        (Dish.Course.SIDE, "Riz pilaf", ""),
        (Dish.Course.DESSERT, "Compote de pommes", ""),
    ],
    1: [
        (Dish.Course.STARTER, "Velouté de potiron", "milk,celery"),
        (Dish.Course.MAIN, "Omelette aux fines herbes", "eggs"),
        (Dish.Course.CHEESE, "Cabécou", "milk"),
        (Dish.Course.DESSERT, "Poire", ""),
    ],
    3: [
        (Dish.Course.MAIN, "Sauté de veau aux olives", ""),
        (Dish.Course.SIDE, "Haricots verts", ""),
        (Dish.Course.CHEESE, "Yaourt nature", "milk"),
        (Dish.Course.DESSERT, "Gâteau aux noix", "gluten,eggs,milk,nuts"),
    ],
    4: [
        (Dish.Course.STARTER, "Salade de lentilles", "mustard"),
        (Dish.Course.MAIN, "Lasagnes de légumes", "gluten,milk"),
        (Dish.Course.DESSERT, "Clémentines", ""),
    ],
}


def _school_year(today: date) -> SchoolYear:
    """The school year under way (or starting) on `today`, with its holidays (zone C)."""
    first = today.year if today.month >= 8 else today.year - 1
    year, _created = SchoolYear.objects.get_or_create(
        name=f"{first}-{first + 1}",
        defaults={"starts_on": date(first, 9, 1), "ends_on": date(first + 1, 7, 3), "zone": "C"},
    )
    # Each holiday if missing: the catalogue's demo may have set up the year with its
    # Christmas holidays already (the pools' holiday hours follow them).
    for name, start, resume in (
        ("Vacances de la Toussaint", date(first, 10, 17), date(first, 11, 2)),
        ("Vacances de Noël", date(first, 12, 19), date(first + 1, 1, 4)),
        ("Vacances d’hiver", date(first + 1, 2, 20), date(first + 1, 3, 8)),
        ("Vacances de printemps", date(first + 1, 4, 17), date(first + 1, 5, 3)),
    ):
        SchoolHoliday.objects.get_or_create(
            school_year=year,
            starts_on=start,
            defaults={"name": name, "classes_resume_on": resume},
        )
    return year


# The town's prices, from the start of the school year (services/catalog/tariffs.py): code,
# name, then (residency, family-quotient bracket, price in cents) lines. Billed on the monthly
# invoice, never sold in the shop (the products are not on sale). The penalty and the packed
# meal apply to lunch.
PRICES = {
    Service.Kind.LUNCH: (
        "cantine-repas",
        "Repas au restaurant scolaire",
        [
            ("non_resident", None, 520),
            ("resident", None, 380),
            ("resident", 1, 150),
            ("resident", 2, 260),
        ],
    ),
    "penalty": (
        "cantine-repas-sans-reservation",
        "Repas majoré",
        [("non_resident", None, 800), ("resident", None, 650)],
    ),
    "packed_meal": (
        "cantine-panier-repas-pai",
        "Accueil du midi",
        [("non_resident", None, 160), ("resident", None, 120), ("resident", 1, 50)],
    ),
    Service.Kind.MORNING_CARE: (
        "periscolaire-matin",
        "Accueil périscolaire du matin",
        [("non_resident", None, 180), ("resident", None, 120), ("resident", 1, 60)],
    ),
    Service.Kind.EVENING_CARE: (
        "periscolaire-soir",
        "Accueil périscolaire du soir",
        [("non_resident", None, 260), ("resident", None, 180), ("resident", 1, 90)],
    ),
    Service.Kind.WEDNESDAY_CENTRE: (
        "centre-loisirs-mercredi",
        "Centre de loisirs du mercredi (journée)",
        [("non_resident", None, 1800), ("resident", None, 1200), ("resident", 1, 500)],
    ),
}
REGIE = "cantine"


def _products(year: SchoolYear) -> dict[str, Product]:
    """The canteen's products priced from the start of the school year, each added when
    missing (also to a demo loaded before they existed)."""
    products = {}
    for use, (code, name, lines) in PRICES.items():
        product, _created = Product.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "facility_kind": Facility.Kind.SCHOOL,
                "kind": Product.Kind.SINGLE_ENTRY,
                "validity_days": 1,
                "active": False,
                "regie_code": REGIE,
            },
        )
        if not product.grids.exists():
            publish_tariff_grid(
                actor=None,
                product=product,
                valid_from=year.starts_on,
                historical=True,
                lines=[
                    TariffLine(residency=residency, qf_bracket=qf, price_cents=cents)
                    for residency, qf, cents in lines
                ],
            )
        products[use] = product
    return products


def _price_services(site: CanteenSite, products: dict[str, Product]) -> None:
    """Each service's price where it has none (the town may have set its own)."""
    for kind in Service.Kind.values:
        Service.objects.filter(site=site, kind=kind, product__isnull=True).update(
            product=products[kind]
        )
    lunch = Service.objects.filter(site=site, kind=Service.Kind.LUNCH)
    lunch.filter(penalty_product__isnull=True).update(penalty_product=products["penalty"])
    lunch.filter(packed_meal_product__isnull=True).update(
        packed_meal_product=products["packed_meal"]
    )


def _services(site: CanteenSite) -> dict[str, Service]:
    rows = {
        Service.Kind.LUNCH: {
            "capacity": 150,
            "weekdays": "0,1,3,4",
            "rule": Service.Rule.DAYS_BEFORE,
            "rule_days": 1,
            "rule_time": time(15, 0),
        },
        Service.Kind.MORNING_CARE: {
            "capacity": 40,
            "weekdays": "0,1,3,4",
            "rule": Service.Rule.WORKING_DAYS_BEFORE,
            "rule_days": 2,
            "rule_time": time(18, 0),
        },
        Service.Kind.EVENING_CARE: {
            "capacity": 60,
            "weekdays": "0,1,3,4",
            "rule": Service.Rule.DAYS_BEFORE,
            "rule_days": 1,
            "rule_time": time(12, 0),
        },
        Service.Kind.WEDNESDAY_CENTRE: {
            "capacity": 48,
            "weekdays": "2",
            "runs_in_holidays": True,
            "rule": Service.Rule.WEEK_BEFORE,
            "rule_weekday": 1,
            "rule_time": time(23, 59, 59),
            "holiday_rule_days": 15,
        },
    }
    return {
        kind: Service.objects.create(site=site, kind=kind, **fields)
        for kind, fields in rows.items()
    }


def _guardian_user(child: Person) -> User | None:
    link = child.guardians.active().select_related("guardian__user").order_by("pk").first()
    return link.guardian.user if link else None


@transaction.atomic
def load() -> None:
    school = Facility.objects.filter(name="École Lucie-Aubrac", kind=Facility.Kind.SCHOOL).first()
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if school is None or admin is None:
        return
    today = timezone.localdate()
    year = _school_year(today)
    # The collection office the canteen's bills are paid to (payments' demo makes it first).
    Regie.objects.get_or_create(code=REGIE, defaults=REGIE_DETAILS)
    products = _products(year)
    existing = CanteenSite.objects.filter(name=SITE_NAME).first()
    if existing is not None:  # loaded before: its prices only, where missing
        _price_services(existing, products)
        return
    site = CanteenSite.objects.create(school=school, name=SITE_NAME)
    services = _services(site)
    _price_services(site, products)

    classes: dict[str, SchoolClass] = {}
    children: dict[str, Person] = {}
    for first_name, last_name, level, class_name in CHILDREN:
        child = (
            Person.objects.filter(
                first_name=first_name, last_name=last_name, role=Person.Role.CHILD
            )
            .order_by("pk")
            .first()
        )
        if child is None:
            continue
        if class_name not in classes:
            classes[class_name] = SchoolClass.objects.create(
                school=school, school_year=year, name=class_name, levels=level
            )
        school_class = classes[class_name]
        if level not in school_class.level_codes:
            school_class.levels = f"{school_class.levels},{level}"
            school_class.save(update_fields=["levels"])
        enrol_child(
            actor=admin,
            child=child,
            school=school,
            school_year=year,
            level=level,
            school_class=school_class,
        )
        children[first_name] = child

    # The month ahead, booked by each child's parent the way parents do: a pattern of weeks
    # (the holidays and the days past their deadline are skipped).
    until = today + timedelta(days=31)
    for n, (first_name, child) in enumerate(children.items()):
        parent = _guardian_user(child)
        if parent is None:
            continue
        actions.book_pattern(
            actor=parent,
            child=child,
            service=services[Service.Kind.LUNCH],
            weekdays=[0, 1, 3, 4],
            start=today,
            until=until,
            key=f"demo-lunch-{first_name}",
        )
        if n % 2 == 0:
            actions.book_pattern(
                actor=parent,
                child=child,
                service=services[Service.Kind.EVENING_CARE],
                weekdays=[0, 1, 3],
                start=today,
                until=until,
                key=f"demo-evening-{first_name}",
            )
        if first_name == "Tom":
            actions.book_pattern(
                actor=parent,
                child=child,
                service=services[Service.Kind.WEDNESDAY_CENTRE],
                weekdays=[2],
                start=today,
                until=until,
                every_weeks=2,
                key="demo-wednesday-Tom",
            )

    # Diets: Tom's allergy rests on his care plan, added to the safe by Camille; it says he
    # brings a packed meal from home (his lunches booked above follow it).
    diets = {
        "Tom": (
            [actions.DietChoice("allergy_pai", "arachide, fruits à coque", packed_meal=True)],
            True,
        ),
        "Léa": ([actions.DietChoice("no_pork")], False),
        "Inès": ([actions.DietChoice("vegetarian")], False),
        "Hugo": ([actions.DietChoice("texture", "morceaux coupés petits")], False),
    }
    for first_name, (choices, with_plan) in diets.items():
        child = children.get(first_name)
        parent = _guardian_user(child) if child else None
        if parent is None:
            continue
        care_plan = None
        if with_plan:
            care_plan = {
                "file_name": "pai-tom.pdf",
                "content": _demo_pdf(
                    "Projet d’accueil individualisé",
                    [child.full_name, "Allergie : arachide, fruits à coque", "Trousse d’urgence"],
                ),
            }
        actions.declare_diets(actor=parent, child=child, choices=choices, care_plan=care_plan)

    # The menus of this week and the next, published to parents.
    monday = today - timedelta(days=today.weekday())
    menus = []
    for week in (0, 7):
        for weekday, dishes in MENUS.items():
            menu = Menu.objects.create(site=site, day=monday + timedelta(days=week + weekday))
            Dish.objects.bulk_create(
                [Dish(menu=menu, course=c, name=n, allergens=a) for c, n, a in dishes]
            )
            menus.append(menu)
    actions.publish_menus(actor=admin, menus=menus)

    # Last month, imported from the town's previous system and its attendance marked, for the
    # invoice `demo_invoices` issues next.
    demo_history.load(
        lunch=services[Service.Kind.LUNCH],
        children=children,
        parents={name: _guardian_user(child) for name, child in children.items()},
    )
