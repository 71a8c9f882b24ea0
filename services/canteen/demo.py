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

from . import actions
from .models import CanteenSite, Dish, Menu, Service

SITE_NAME = "Restaurant scolaire Lucie-Aubrac"
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
    if school is None or admin is None or CanteenSite.objects.filter(name=SITE_NAME).exists():
        return
    today = timezone.localdate()
    year = _school_year(today)
    site = CanteenSite.objects.create(school=school, name=SITE_NAME)
    services = _services(site)

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

    # Diets: Tom's allergy rests on his care plan, added to the safe by Camille.
    diets = {
        "Tom": ([actions.DietChoice("allergy_pai", "arachide, fruits à coque")], True),
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
