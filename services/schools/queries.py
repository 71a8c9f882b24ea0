"""Reads of the schools: the school of an address for a school year (never a silent pick
when the map is wrong), the map's data errors, places against accepted files, the lists."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count
from django.utils.translation import gettext as _

from identity.models import (
    Commune,
    Facility,
    Guardianship,
    Household,
    Street,
    normalise_street_name,
)
from identity.queries import current_address, street_for
from identity.schooling.models import Enrolment

from .levels import LEVEL_CHOICES, next_school_year
from .models import CatchmentSegment, SchoolPlaces

IN_MAP, NOT_IN_MAP, TWO_SCHOOLS, UNKNOWN_STREET, OUTSIDE = (
    "in_map",
    "not_in_map",
    "two_schools",
    "unknown_street",
    "outside_territory",
)


@dataclass(frozen=True)
class Catchment:
    """The answer for an address: `school` when exactly one segment covers it, else why not."""

    status: str
    school: Facility | None = None
    schools: tuple[Facility, ...] = ()


def house_number(address_line: str) -> int | None:
    digits = ""
    for char in address_line.strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else None


def catchment_of(*, street: Street, number: int, school_year: int) -> Catchment:
    segments = [
        s
        for s in CatchmentSegment.objects.filter(school_year=school_year, street=street)
        .select_related("school")
        .order_by("pk")
        if s.covers(number)
    ]
    schools = tuple({s.school_id: s.school for s in segments}.values())
    if not schools:
        return Catchment(NOT_IN_MAP)
    if len(schools) > 1:
        return Catchment(TWO_SCHOOLS, schools=schools)
    return Catchment(IN_MAP, school=schools[0])


def catchment_for_address(
    *, commune: Commune | None, street_name: str, number: int, school_year: int
) -> Catchment:
    if commune is None or commune.territory_id is None:
        return Catchment(OUTSIDE)
    street = Street.objects.filter(
        commune=commune, normalised=normalise_street_name(street_name)
    ).first()
    if street is None:
        return Catchment(UNKNOWN_STREET)
    return catchment_of(street=street, number=number, school_year=school_year)


def catchment_of_household(household: Household, *, on: date, school_year: int) -> Catchment:
    """The school proposed for the household's address on `on`."""
    address = current_address(household, on=on)
    if address is None or address.commune.territory_id is None:
        return Catchment(OUTSIDE)
    street = street_for(address.commune, address.line1)
    number = house_number(address.line1)
    if street is None:
        return Catchment(UNKNOWN_STREET)
    if number is None:
        return Catchment(NOT_IN_MAP)
    return catchment_of(street=street, number=number, school_year=school_year)


@dataclass(frozen=True)
class MapError:
    kind: str  # "missing_street" or "overlap"
    street: Street
    segments: tuple[CatchmentSegment, ...] = ()


def map_errors(school_year: int) -> list[MapError]:
    """What the administrator must fix in a year's map: a street of a mapped commune that no
    segment covers, and ranges of one street given to two schools."""
    segments = list(
        CatchmentSegment.objects.filter(school_year=school_year)
        .select_related("street", "school")
        .order_by("street__name", "number_from", "pk")
    )
    if not segments:
        return []
    errors = []
    communes = {s.street.commune_id for s in segments}
    mapped = {s.street_id for s in segments}
    for street in Street.objects.filter(commune__in=communes).exclude(pk__in=mapped):
        errors.append(MapError("missing_street", street))
    for i, first in enumerate(segments):
        for second in segments[i + 1 :]:
            if first.school_id != second.school_id and first.overlaps(second):
                errors.append(MapError("overlap", first.street, (first, second)))
    return errors


def schools():
    """The town's schools (Facilities of kind school), by name."""
    return Facility.objects.filter(kind=Facility.Kind.SCHOOL).order_by("name")


def school_by_public_id(public_id: str | None) -> Facility | None:
    return schools().filter(public_id=public_id or "").first()


def enrolments_of_year(school_year: int):
    """The enrolments of the school year starting in `school_year` (pre-enrolments accepted
    and children enrolled at the counter alike: both take a place)."""
    return Enrolment.objects.filter(school_year__starts_on__year=school_year)


@dataclass(frozen=True)
class PlacesLine:
    school: Facility
    level: str
    level_label: str
    places: int | None
    accepted: int

    @property
    def full(self) -> bool:
        return self.places is not None and self.accepted >= self.places


def places_against_accepted(school_year: int) -> list[PlacesLine]:
    """Each school and level: the places opened and the children accepted so far."""
    places = {
        (p.school_id, p.level): p.places
        for p in SchoolPlaces.objects.filter(school_year=school_year)
    }
    accepted = {
        (row["school"], row["level"]): row["n"]
        for row in enrolments_of_year(school_year).values("school", "level").annotate(n=Count("pk"))
    }
    lines = []
    for school in schools():
        for level, label in LEVEL_CHOICES:
            key = (school.pk, level)
            if key in places or key in accepted:
                lines.append(
                    PlacesLine(school, level, str(label), places.get(key), accepted.get(key, 0))
                )
    return lines


def places_line(school: Facility, level: str, school_year: int) -> PlacesLine:
    """The places of one school and level against the children enrolled there."""
    places = (
        SchoolPlaces.objects.filter(school=school, level=level, school_year=school_year)
        .values_list("places", flat=True)
        .first()
    )
    accepted = enrolments_of_year(school_year).filter(school=school, level=level).count()
    label = dict(LEVEL_CHOICES).get(level, level)
    return PlacesLine(school, level, str(label), places, accepted)


def school_list(school: Facility, school_year: int) -> list[Enrolment]:
    """The children enrolled in a school for a school year, by level (PS to CM2) and name."""
    order = [code for code, _label in LEVEL_CHOICES]
    rows = (
        enrolments_of_year(school_year)
        .filter(school=school)
        .select_related("child", "school_class")
    )
    return sorted(
        rows,
        key=lambda e: (order.index(e.level), e.child.last_name, e.child.first_name),
    )


def enrolment_of(child, school_year: int) -> Enrolment | None:
    return enrolments_of_year(school_year).filter(child=child).first()


def enrolment_of_file(file_public_id: str) -> Enrolment | None:
    """The enrolment an accepted pre-enrolment file wrote."""
    return (
        Enrolment.objects.filter(procedure_file=file_public_id)
        .select_related("school", "child", "school_year")
        .first()
    )


def status_label(found: Catchment) -> str:
    labels = {
        IN_MAP: _("in the map"),
        NOT_IN_MAP: _("not in the map"),
        TWO_SCHOOLS: _("the number matches two schools"),
        UNKNOWN_STREET: _("the street is not in the territory's street list"),
        OUTSIDE: _("the address is outside the territory"),
    }
    return str(labels[found.status])


@dataclass(frozen=True)
class Guardian:
    name: str
    email: str


def guardians_of(children: list) -> dict[int, list[Guardian]]:
    """Each child's guardians (active links) with the email of their login when they have one:
    what a school's head needs to reach a family, nothing more."""
    links = (
        Guardianship.objects.active()
        .filter(child__in=children)
        .select_related("guardian__user")
        .order_by("guardian__last_name", "guardian__first_name")
    )
    found: dict[int, list[Guardian]] = {}
    for link in links:
        user = link.guardian.user
        found.setdefault(link.child_id, []).append(
            Guardian(link.guardian.full_name, user.email if user else "")
        )
    return found


def list_years(school: Facility, today: date) -> list[int]:
    """The school years (by the year they start in) with children enrolled at the school: the
    coming one first (even when nobody is enrolled yet), then the others, latest first."""
    coming = next_school_year(today)
    years = set(
        Enrolment.objects.filter(school=school).values_list(
            "school_year__starts_on__year", flat=True
        )
    )
    return [coming] + sorted(years - {coming}, reverse=True)
