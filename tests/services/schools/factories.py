"""Schools, school years, streets, a catchment map and places for the tests; a family with a
child to enrol."""

from datetime import date

import factory

from identity.models import Facility, Guardianship, Person, Street
from identity.schooling.models import SchoolYear
from services.schools.models import CatchmentSegment, SchoolPlaces
from tests.factories import CommuneFactory, PersonFactory, ResidentFactory


class SchoolFactory(factory.django.DjangoModelFactory):
    """A school of the town: a Facility of kind school."""

    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"École Jean Moulin {n}")
    commune = factory.SubFactory(CommuneFactory)
    kind = Facility.Kind.SCHOOL
    address = "2 rue des Écoles"
    uai = factory.Sequence(lambda n: f"0460{n:03d}X")


def school_year(start: int) -> SchoolYear:
    """The town's school year starting in September of `start`."""
    return SchoolYear.objects.get_or_create(
        name=f"{start}-{start + 1}",
        defaults={"starts_on": date(start, 9, 1), "ends_on": date(start + 1, 7, 3), "zone": "B"},
    )[0]


def places(school, level: str, count: int, *, year: int) -> SchoolPlaces:
    return SchoolPlaces.objects.create(school=school, school_year=year, level=level, places=count)


def street(commune, name: str) -> Street:
    return Street.objects.create(commune=commune, name=name)


def segment(school, street, *, year: int, start=1, end=9999, side="both") -> CatchmentSegment:
    return CatchmentSegment.objects.create(
        school=school, street=street, school_year=year, number_from=start, number_to=end, side=side
    )


def family(*, line1: str = "12 rue Nationale", commune=None, child_born=date(2024, 3, 4)):
    """A parent with a login living at `line1`, and their child."""
    parent = ResidentFactory(
        address__line1=line1, **({"address__commune": commune} if commune else {})
    )
    child = PersonFactory(
        household=parent.household,
        role=Person.Role.CHILD,
        first_name="Léa",
        last_name=parent.last_name,
        birth_date=child_born,
    )
    Guardianship.objects.create(guardian=parent, child=child)
    return parent, child
