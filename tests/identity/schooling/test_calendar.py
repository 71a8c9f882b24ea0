"""The territory's school calendar: public holidays computed, school holidays imported from
the Éducation nationale's open data, closures added late."""

from datetime import date
from pathlib import Path

import pytest

from identity.errors import DomainError, Forbidden
from identity.models import Facility, StaffRole
from identity.schooling.actions import close_school, import_school_calendar
from identity.schooling.calendar import easter_sunday, public_holidays, school_calendar
from identity.schooling.models import SchoolHoliday, SchoolYear
from tests.factories import FacilityFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

# An extract of the dataset's CSV export (fr-en-calendrier-scolaire): one row per holiday,
# académie and population; instants in UTC, the evening classes stop and the morning they resume.
EXPORT = (Path(__file__).parent / "fr-en-calendrier-scolaire.csv").read_text(encoding="utf-8")


@pytest.fixture
def year():
    return SchoolYear.objects.create(
        name="2026-2027", starts_on=date(2026, 9, 1), ends_on=date(2027, 7, 3), zone="C"
    )


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, easter):
    assert easter_sunday(year) == easter


def test_public_holidays_include_those_easter_moves():
    holidays = public_holidays(2027)
    assert len(holidays) == 11
    assert holidays[date(2027, 3, 29)] == "Easter Monday"
    assert holidays[date(2027, 5, 6)] == "Ascension Day"
    assert holidays[date(2027, 5, 17)] == "Whit Monday"


def test_the_national_calendar_is_imported_for_the_years_zone(year):
    added = import_school_calendar(actor=staff_user(StaffRole.Role.ADMIN), content=EXPORT)
    assert added == 2  # Toussaint and Noël of zone C, once each; not zone A, not teachers'
    assert list(SchoolHoliday.objects.values_list("name", "starts_on", "classes_resume_on")) == [
        ("Vacances de la Toussaint", date(2026, 10, 17), date(2026, 11, 2)),
        ("Vacances de Noël", date(2026, 12, 19), date(2027, 1, 4)),
    ]
    assert import_school_calendar(actor=None, content=EXPORT) == 0  # imported again: nothing


def test_a_broken_export_is_refused_and_imports_nothing(year):
    broken = EXPORT + "Vacances d'été;-;not a date;2027-08-31;Toulouse;Zone C;2026-2027\n"
    with pytest.raises(DomainError) as refusal:
        import_school_calendar(actor=None, content=broken)
    assert refusal.value.message.startswith("Line 8:")
    assert SchoolHoliday.objects.count() == 0


def test_the_calendar_says_why_a_day_has_no_school(year):
    import_school_calendar(actor=None, content=EXPORT)
    school = FacilityFactory(kind=Facility.Kind.SCHOOL)
    other = FacilityFactory(kind=Facility.Kind.SCHOOL)
    admin = staff_user(StaffRole.Role.ADMIN)
    close_school(actor=admin, day=date(2026, 12, 10), reason="Grève", school=school)
    calendar = school_calendar(school, date(2026, 9, 1), date(2027, 7, 31))
    assert calendar.no_school(date(2026, 12, 10)) == "Grève"
    assert calendar.no_school(date(2026, 12, 21)) == "Vacances de Noël"
    assert calendar.no_school(date(2026, 11, 11)) == "Armistice Day"
    assert calendar.no_school(date(2027, 7, 10)) == "Outside the school year"
    assert calendar.no_school(date(2026, 12, 11)) is None
    assert (
        school_calendar(other, date(2026, 12, 10), date(2026, 12, 10)).no_school(date(2026, 12, 10))
        is None
    )


def test_only_an_administrator_closes_a_school(year):
    clerk = staff_user(StaffRole.Role.CLERK)
    with pytest.raises(Forbidden):
        close_school(actor=clerk, day=date(2026, 12, 10), reason="Grève")
