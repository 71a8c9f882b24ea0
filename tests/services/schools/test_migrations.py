"""The migration that folds the schools into the town's Facilities runs on a database that
has the first schools migration applied, with its rows: each school becomes a school Facility
(or joins the one of the same commune and name), the map and the places follow it, and an
enrolment is copied into the town's enrolments when its school year exists."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("schools", "0001_initial"), ("identity", "0009_school_details")]
AFTER = [("schools", "0002_schools_are_facilities")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest():
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


def test_the_schools_rows_become_facilities_and_enrolments(back_to_the_latest):
    old = migrate(BEFORE)
    commune = old.get_model("identity", "Commune").objects.create(
        name="Beauvais", insee_code="60057", postcode="60000"
    )
    facility = old.get_model("identity", "Facility").objects.create(
        commune=commune, name="École du Nord", kind="school"
    )
    household = old.get_model("identity", "Household").objects.create()
    child = old.get_model("identity", "Person").objects.create(
        household=household,
        first_name="Léa",
        last_name="Martin",
        birth_date=date(2024, 3, 4),
        role="child",
    )
    user = old.get_model("identity", "User").objects.create(email="clerk@example.org")
    old.get_model("identity", "SchoolYear").objects.create(
        name="2027-2028", starts_on=date(2027, 9, 1), ends_on=date(2028, 7, 3), zone="B"
    )
    School = old.get_model("schools", "School")
    north = School.objects.create(
        name="École du Nord", commune=commune, address="1 rue du Nord", uai="0600001A"
    )
    south = School.objects.create(name="École du Sud", commune=commune, address="2 rue du Sud")
    street = old.get_model("identity", "Street").objects.create(
        commune=commune, name="Rue Nationale"
    )
    old.get_model("schools", "CatchmentSegment").objects.create(
        school=south, street=street, school_year=2027
    )
    old.get_model("schools", "SchoolPlaces").objects.create(
        school=north, school_year=2027, level="ps", places=24
    )
    old.get_model("schools", "Enrolment").objects.create(
        child=child,
        school=north,
        school_year=2027,
        level="ps",
        procedure="FILE-1",
        accepted_by=user,
        derogation=True,
    )

    new = migrate(AFTER)
    Facility = new.get_model("identity", "Facility")
    assert Facility.objects.filter(kind="school").count() == 2
    joined = Facility.objects.get(pk=facility.pk)  # the existing school Facility, completed
    assert (joined.address, joined.uai) == ("1 rue du Nord", "0600001A")
    created = Facility.objects.get(name="École du Sud")
    assert new.get_model("schools", "CatchmentSegment").objects.get().school_id == created.pk
    places = new.get_model("schools", "SchoolPlaces").objects.get()
    assert (places.school_id, places.level) == (joined.pk, "PS")
    enrolment = new.get_model("identity", "Enrolment").objects.get()
    assert (
        enrolment.school_id,
        enrolment.level,
        enrolment.procedure_file,
        enrolment.derogation,
    ) == (
        joined.pk,
        "PS",
        "FILE-1",
        True,
    )
