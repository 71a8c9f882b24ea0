"""Writes of the schools: a school year's catchment map imported from the town's CSV (all or
nothing), the enrolment of a child on the acceptance of their pre-enrolment (places checked
under lock, written through identity.schooling.actions.enrol_child), and the head's list of a
school (an audited read of children's names)."""

import csv
import io

from django.db import transaction
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.actions.configuration import require_administrator
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import (
    AuditEntry,
    Commune,
    Facility,
    Person,
    StaffRole,
    Street,
    User,
    normalise_street_name,
)
from identity.permissions import (
    Capability,
    can_handle_procedures,
    has_capability,
    headed_schools,
)
from identity.schooling.actions import enrol_child
from identity.schooling.models import Enrolment

from .levels import school_year_label, school_year_of
from .models import CatchmentSegment, SchoolPlaces
from .queries import PlacesLine, places_line, school_list, schools

CSV_COLUMNS = ("school", "commune", "street", "from", "to", "side")
SIDES = {
    "": CatchmentSegment.Side.BOTH,
    "both": CatchmentSegment.Side.BOTH,
    "tous": CatchmentSegment.Side.BOTH,
    "odd": CatchmentSegment.Side.ODD,
    "impair": CatchmentSegment.Side.ODD,
    "even": CatchmentSegment.Side.EVEN,
    "pair": CatchmentSegment.Side.EVEN,
}
MAX_NUMBER = 9999


class CatchmentCsvError(DomainError):
    """A refused import: every wrong line, by its number in the file."""

    status = 422
    code = "invalid_csv"

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        text = "; ".join(
            _("line %(line)s: %(problem)s") % {"line": line, "problem": problem}
            for line, problem in problems
        )
        super().__init__(text, field="csv")


def _number(raw: str, default: int) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return default
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_NUMBER else None


def _parse(text: str) -> tuple[list[CatchmentSegment], list[tuple[int, str]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")
    rows = list(reader)
    problems: list[tuple[int, str]] = []
    if not rows or [c.strip().lower() for c in rows[0]] != list(CSV_COLUMNS):
        return [], [(1, _("the header must be %(columns)s") % {"columns": ";".join(CSV_COLUMNS)})]
    by_name = {normalise_street_name(s.name): s for s in schools()}
    communes = {c.insee_code: c for c in Commune.objects.all()}
    segments = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_COLUMNS):
            problems.append((line, _("%(count)s columns expected") % {"count": len(CSV_COLUMNS)}))
            continue
        name, insee, street_name, start, end, side = (cell.strip() for cell in row)
        school = by_name.get(normalise_street_name(name))
        commune = communes.get(insee)
        if school is None:
            problems.append((line, _("unknown school “%(name)s”") % {"name": name}))
            continue
        if commune is None:
            problems.append((line, _("unknown commune %(code)s") % {"code": insee}))
            continue
        street = Street.objects.filter(
            commune=commune, normalised=normalise_street_name(street_name)
        ).first()
        if street is None:
            problems.append(
                (
                    line,
                    _("unknown street “%(street)s” in %(commune)s")
                    % {"street": street_name, "commune": commune.name},
                )
            )
            continue
        number_from, number_to = _number(start, 1), _number(end, MAX_NUMBER)
        if number_from is None or number_to is None or number_from > number_to:
            problems.append((line, _("the number range is not valid")))
            continue
        if side.lower() not in SIDES:
            problems.append((line, _("the side is both, odd or even")))
            continue
        segment = CatchmentSegment(
            school=school,
            street=street,
            number_from=number_from,
            number_to=number_to,
            side=SIDES[side.lower()],
        )
        segment.line = line
        segments.append(segment)
    for i, first in enumerate(segments):
        for second in segments[i + 1 :]:
            first.school_year = second.school_year = 0
            if first.overlaps(second):
                problems.append(
                    (
                        second.line,
                        _("its range overlaps line %(other)s on %(street)s")
                        % {"other": first.line, "street": first.street.name},
                    )
                )
    return segments, sorted(problems)


@transaction.atomic
def import_catchment_map(
    *, actor: User, school_year: int, text: str, channel: str = AuditEntry.Channel.WEB
) -> int:
    """A school year's whole map from the town's CSV (`school;commune;street;from;to;side`,
    the commune by INSEE code, the side both/odd/even): every line right or nothing written.
    A year that has a map is never edited: a change is the next year's map."""
    require_administrator(actor)
    if CatchmentSegment.objects.filter(school_year=school_year).exists():
        raise Conflict(
            _("The map of this school year exists: a change of map is a new school year's map."),
            field="school_year",
            code="map_exists",
        )
    segments, problems = _parse(text)
    if problems:
        raise CatchmentCsvError(problems)
    if not segments:
        raise DomainError(_("The file has no line."), field="csv")
    for segment in segments:
        segment.school_year = school_year
    CatchmentSegment.objects.bulk_create(segments)
    record_audit_entry(
        actor=actor,
        action="schools.catchment_imported",
        target=f"{school_year} ({len(segments)})",
        channel=channel,
    )
    return len(segments)


def places_taken(*, school: Facility, level: str, school_year: int) -> PlacesLine:
    """The places of the school and level against its enrolments, read under the lock of its
    places row (when the service has set places): two acceptances for the last place are
    decided one after the other."""
    SchoolPlaces.objects.select_for_update().filter(
        school=school, level=level, school_year=school_year
    ).first()
    return places_line(school, level, school_year)


def enrol_pre_enrolled(
    *,
    actor: User,
    child: Person,
    school: Facility,
    school_year: int,
    level: str,
    derogation: bool,
    procedure_file: str,
) -> Enrolment:
    """The child of an accepted pre-enrolment enrolled (inside the acceptance's transaction)
    in the town's one enrolment table, which the canteen and after-school care read.

    Refused with its reason, the file staying as it was: the town's school year not set up,
    the school and level full (the places the service set, against every enrolment of the
    year), the child already enrolled for the year. A full level is never overridden here:
    raising its places in the admin is the service's explicit, audited decision."""
    year = school_year_of(school_year)
    if year is None:
        raise DomainError(
            _(
                "The school year %(year)s is not set up: the administrator adds it "
                "(School years) before files are accepted."
            )
            % {"year": school_year_label(school_year)},
            field="school_year",
            code="no_school_year",
        )
    line = places_taken(school=school, level=level, school_year=school_year)
    if line.full:
        raise Conflict(
            _(
                "%(school)s has no place left in %(level)s for %(year)s (places: %(places)s, "
                "enrolled: %(accepted)s): refuse the file, or raise the places in the admin first."
            )
            % {
                "school": school.name,
                "level": line.level_label,
                "year": school_year_label(school_year),
                "accepted": line.accepted,
                "places": line.places,
            },
            field="school",
            code="school_full",
        )
    return enrol_child(
        actor=actor,
        child=child,
        school=school,
        school_year=year,
        level=level,
        procedure_file=procedure_file,
        derogation=derogation,
    )


def may_read_lists(actor: User, school: Facility | None = None) -> bool:
    """The school service (clerks who handle procedures, administrators) reads every school's
    list; a school's head reads their own school's list only."""
    if can_handle_procedures(actor, role=StaffRole.Role.CLERK) or has_capability(
        actor, Capability.MANAGE_TERRITORY
    ):
        return True
    return school is not None and any(s.pk == school.pk for s in headed_schools(actor))


@transaction.atomic
def read_school_list(
    *, actor: User, school: Facility, school_year: int, channel: str = AuditEntry.Channel.WEB
) -> list[Enrolment]:
    """The school's children for a school year, for its head: audited (names of children)."""
    if not may_read_lists(actor, school):
        raise Forbidden(_("Only the school service and the school's head read a school's list."))
    rows = list(school_list(school, school_year))
    record_audit_entry(
        actor=actor,
        action="schools.list_read",
        target=f"identity.Facility:{school.public_id} {school_year} ({len(rows)})",
        channel=channel,
    )
    return rows
