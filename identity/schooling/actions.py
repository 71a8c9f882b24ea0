"""Writes of the school structure: enrolling a child, closing a school for a day, importing the
Éducation nationale's school calendar."""

import csv
import io
import json
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Facility, Person, StaffRole, User
from identity.permissions import Capability, can_handle_procedures, has_capability

from .models import Enrolment, Level, SchoolClass, SchoolClosure, SchoolHoliday, SchoolYear
from .signals import school_closed


def _check_manages(actor: User, school: Facility | None = None) -> None:
    if not has_capability(actor, Capability.MANAGE_TERRITORY, facility=school):
        raise Forbidden(_("You cannot change the school structure."))


def _check_enrols(actor: User, school: Facility, procedure_file: str) -> None:
    # A pre-enrolment's acceptance is the procedures engine's transition: the clerk who handles
    # the file may enrol through it without managing the territory.
    if procedure_file and can_handle_procedures(actor, role=StaffRole.Role.CLERK):
        return
    _check_manages(actor, school)


def lock_child(child: Person) -> None:
    """The child's row locked: one writer at a time decides about the child's enrolments,
    canteen bookings or diets (a row that does not exist yet cannot be locked, the child's
    can)."""
    Person.objects.select_for_update().filter(pk=child.pk).first()


def _enrolment_words(enrolment: Enrolment) -> dict:
    """An enrolment as its audit entry keeps it: the school's and the class's names (the trail
    is read years later, by people, after classes are renamed or gone)."""
    return {
        "school": enrolment.school.name,
        "level": enrolment.level,
        "class": enrolment.school_class.name if enrolment.school_class_id else None,
    }


def enrolment_of(child: Person, school_year: SchoolYear) -> Enrolment | None:
    """The child's enrolment for the year, read after `lock_child`."""
    return Enrolment.objects.filter(child=child, school_year=school_year).first()


@transaction.atomic
def enrol_child(
    *,
    actor: User,
    child: Person,
    school: Facility,
    school_year: SchoolYear,
    level: str,
    school_class: SchoolClass | None = None,
    procedure_file: str = "",
    derogation: bool = False,
) -> Enrolment:
    """Enrol `child` at `school` for `school_year`. At the counter (no `procedure_file`), a
    second enrolment of the child for the same year replaces the school, level and class of
    the first, audited with what changed. From an accepted pre-enrolment (`procedure_file`,
    its public id), a child already enrolled for the year is refused (Conflict
    "already_enrolled"): a file never overwrites another decision. The child's row is locked
    while this is decided, so two acceptances at once enrol the child once."""
    _check_enrols(actor, school, procedure_file)
    if school.kind != Facility.Kind.SCHOOL:
        raise DomainError(_("Choose a school."), field="school")
    if child.role != Person.Role.CHILD:
        raise DomainError(_("Only a child is enrolled at a school."), field="child")
    if level not in Level.values:
        raise DomainError(_("Choose a level from PS to CM2."), field="level")
    if school_class is not None:
        if school_class.school_id != school.pk or school_class.school_year_id != school_year.pk:
            raise DomainError(_("This class is not of this school and year."), field="school_class")
        if level not in school_class.level_codes:
            raise DomainError(_("This class does not take this level."), field="school_class")
    lock_child(child)
    enrolment = enrolment_of(child, school_year)
    before = {}
    if enrolment is None:
        enrolment = Enrolment(child=child, school_year=school_year)
    elif procedure_file:
        raise Conflict(
            _("This child is already enrolled for this school year."),
            field="child",
            code="already_enrolled",
        )
    else:
        before = _enrolment_words(enrolment)
    enrolment.school = school
    enrolment.level = level
    enrolment.school_class = school_class
    enrolment.recorded_by = actor
    enrolment.recorded_at = timezone.now()
    if procedure_file:
        enrolment.procedure_file = procedure_file
        enrolment.derogation = derogation
    enrolment.save()
    after = _enrolment_words(enrolment)
    record_audit_entry(
        actor=actor,
        action="schooling.child_enrolled",
        person=child,
        target=f"{school_year.name}:{school.public_id}",
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        reason=f"procedure:{procedure_file}" if procedure_file else "",
        channel=AuditEntry.Channel.WEB if procedure_file else AuditEntry.Channel.COUNTER,
    )
    return enrolment


@transaction.atomic
def close_school(
    *, actor: User, day: date, reason: str, school: Facility | None = None
) -> SchoolClosure:
    """Close a school (None: every school) for a day, even late (a strike announced the day
    before): its services do not run and bookings of that day are not billed; the services
    hear of it (`signals.school_closed`) and tell the families."""
    _check_manages(actor, school)
    if school is not None and school.kind != Facility.Kind.SCHOOL:
        raise DomainError(_("Choose a school."), field="school")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the school is closed."), field="reason")
    closure = SchoolClosure.objects.create(school=school, day=day, reason=reason[:200])
    school_closed.send(sender=SchoolClosure, closure=closure, actor=actor)
    record_audit_entry(
        actor=actor,
        action="schooling.school_closed",
        target=f"{day.isoformat()}:{getattr(school, 'public_id', 'all')}",
        reason=reason[:200],
        channel=AuditEntry.Channel.SYSTEM,
    )
    return closure


# --- The Éducation nationale's open data "calendrier scolaire" -------------------------------
# data.education.gouv.fr, dataset fr-en-calendrier-scolaire: one record per holiday, académie and
# population, with `description`, `population` ("-", "Élèves" or "Enseignants"), `start_date`
# and `end_date` (instants: the evening classes stop and the morning they resume), `location`,
# `zones` ("Zone A"…) and `annee_scolaire` ("2026-2027"). Exported as CSV (";") or JSON.


def _local_day(value: str) -> date:
    instant = datetime.fromisoformat(value.strip())
    if timezone.is_naive(instant):
        return instant.date()
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def _records(content: str) -> list[dict]:
    text = content.lstrip("\ufeff").strip()
    if text.startswith(("[", "{")):
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("results", [])
        return [row.get("fields", row) for row in data]
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@transaction.atomic
def import_school_calendar(*, actor: User | None, content: str) -> int:
    """Import the school holidays of each school year's zone from an export of the Éducation
    nationale's calendar, all or nothing; returns how many holiday periods were added (one
    already there is left as it is). Years the town has not set up (their first and last days
    of classes are the town's) are skipped."""
    if actor is not None:
        _check_manages(actor)
    try:
        records = _records(content)
    except (ValueError, csv.Error) as error:
        raise DomainError(_("This file is not a school calendar export."), field="file") from error
    years = {year.name: year for year in SchoolYear.objects.all()}
    added = 0
    seen: set[tuple[str, date]] = set()
    for number, record in enumerate(records, start=2):
        if (record.get("population") or "-").strip() not in {"-", "Élèves"}:
            continue
        try:
            name = record["description"].strip()
            starts_on = _local_day(record["start_date"])
            resume_on = _local_day(record["end_date"])
            year_name = record["annee_scolaire"].strip()
        except (KeyError, ValueError, AttributeError) as error:
            raise DomainError(
                _(
                    "Line %(line)s: description, start_date, end_date or annee_scolaire "
                    "is missing or wrong."
                )
                % {"line": number},
                field="file",
            ) from error
        year = years.get(year_name)
        if year is None or (record.get("zones") or "").strip() != f"Zone {year.zone}":
            continue
        if resume_on <= starts_on or (year.pk, starts_on) in seen:
            continue
        seen.add((year.pk, starts_on))
        try:
            with transaction.atomic():
                _holiday, created = SchoolHoliday.objects.get_or_create(
                    school_year=year,
                    starts_on=starts_on,
                    defaults={"name": name[:120], "classes_resume_on": resume_on},
                )
        except IntegrityError as error:
            raise DomainError(
                _("Line %(line)s: the dates are wrong.") % {"line": number}, field="file"
            ) from error
        added += created
    record_audit_entry(
        actor=actor,
        action="schooling.calendar_imported",
        target=str(added),
        channel=AuditEntry.Channel.SYSTEM,
    )
    return added
