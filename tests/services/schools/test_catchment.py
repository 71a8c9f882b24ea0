"""The catchment map: street segments per school year, imported whole from the town's CSV or
not at all, its data errors shown, and the public lookup of an address's school."""

import pytest
from django.core.cache import cache

from identity.errors import Conflict, Forbidden
from identity.models import AuditEntry, Commune
from services.schools import queries
from services.schools.actions import CatchmentCsvError, import_catchment_map
from services.schools.models import CatchmentSegment
from tests.factories import CommuneFactory, ResidentFactory, staff_user

from .factories import SchoolFactory, segment, street

pytestmark = pytest.mark.django_db
HEADER = "school;commune;street;from;to;side\n"


@pytest.fixture
def town():
    commune = CommuneFactory(name="Beauvais", insee_code="60057")
    north = SchoolFactory(name="École du Nord", commune=commune)
    south = SchoolFactory(name="École du Sud", commune=commune)
    nationale = street(commune, "Rue Nationale")
    gare = street(commune, "Avenue de la Gare")
    return commune, north, south, nationale, gare


@pytest.fixture
def admin_user():
    return staff_user("admin")


def test_a_csv_map_is_imported_whole_for_its_school_year(town, admin_user):
    _commune, north, south, nationale, gare = town
    count = import_catchment_map(
        actor=admin_user,
        school_year=2027,
        text=HEADER
        + "École du Nord;60057;rue Nationale;1;99;impair\n"
        + "École du Sud;60057;Rue Nationale;2;98;pair\n"
        + "Ecole du sud;60057;av. de la Gare;;;\n",
    )
    assert count == 3
    rows = CatchmentSegment.objects.order_by("pk")
    assert [(r.school, r.street, r.number_from, r.number_to, r.side) for r in rows] == [
        (north, nationale, 1, 99, "odd"),
        (south, nationale, 2, 98, "even"),
        (south, gare, 1, 9999, "both"),
    ]
    assert {r.school_year for r in rows} == {2027}
    assert AuditEntry.objects.filter(action="schools.catchment_imported").count() == 1


def test_overlapping_ranges_and_unknown_streets_refuse_the_whole_file_naming_lines(
    town, admin_user
):
    with pytest.raises(CatchmentCsvError) as refused:
        import_catchment_map(
            actor=admin_user,
            school_year=2027,
            text=HEADER
            + "École du Nord;60057;Rue Nationale;1;50;\n"
            + "École du Sud;60057;Rue Nationale;41;99;impair\n"
            + "École du Sud;60057;Rue Inconnue;1;9;\n"
            + "École du Sud;60057;Avenue de la Gare;1;9;\n",
        )
    lines = [line for line, _problem in refused.value.problems]
    assert lines == [3, 4]
    assert "ligne 4" in str(refused.value.message) or "line 4" in str(refused.value.message)
    assert CatchmentSegment.objects.count() == 0


def test_odd_and_even_sides_of_one_range_do_not_overlap(town, admin_user):
    import_catchment_map(
        actor=admin_user,
        school_year=2027,
        text=HEADER
        + "École du Nord;60057;Rue Nationale;1;99;odd\n"
        + "École du Sud;60057;Rue Nationale;1;99;even\n",
    )
    assert CatchmentSegment.objects.count() == 2


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("École du Nord;60057;Rue Nationale;50;10;", "range"),
        ("École du Nord;60057;Rue Nationale;1;10;left", "side"),
        ("École Inconnue;60057;Rue Nationale;1;10;", "school"),
        ("École du Nord;99999;Rue Nationale;1;10;", "commune"),
        ("École du Nord;60057;Rue Nationale;1;10", "columns"),
    ],
)
def test_a_wrong_line_is_named_and_nothing_is_written(town, admin_user, row, why):
    with pytest.raises(CatchmentCsvError) as refused:
        import_catchment_map(actor=admin_user, school_year=2027, text=HEADER + row + "\n")
    assert refused.value.problems[0][0] == 2
    assert refused.value.field == "csv"
    assert CatchmentSegment.objects.count() == 0


def test_a_year_with_a_map_is_never_edited_a_change_is_the_next_years_map(town, admin_user):
    _commune, north, _south, nationale, _gare = town
    segment(north, nationale, year=2027)
    with pytest.raises(Conflict) as refused:
        import_catchment_map(
            actor=admin_user,
            school_year=2027,
            text=HEADER + "École du Sud;60057;Rue Nationale;1;9;\n",
        )
    assert refused.value.code == "map_exists"
    import_catchment_map(
        actor=admin_user, school_year=2028, text=HEADER + "École du Sud;60057;Rue Nationale;;;\n"
    )
    assert CatchmentSegment.objects.filter(school_year=2028).count() == 1


def test_only_an_administrator_imports_a_map(town):
    with pytest.raises(Forbidden):
        import_catchment_map(
            actor=staff_user("clerk"), school_year=2027, text=HEADER + "x;y;z;;;\n"
        )


def test_a_street_missing_from_the_map_and_a_number_for_two_schools_are_data_errors(town):
    _commune, north, south, nationale, gare = town
    segment(north, nationale, year=2027, start=1, end=60)
    segment(south, nationale, year=2027, start=50, end=99, side="even")
    errors = {(e.kind, e.street.name) for e in queries.map_errors(2027)}
    assert errors == {("missing_street", "Avenue de la Gare"), ("overlap", "Rue Nationale")}
    found = queries.catchment_of(street=nationale, number=52, school_year=2027)
    assert found.status == queries.TWO_SCHOOLS
    assert found.school is None
    assert queries.catchment_of(street=nationale, number=51, school_year=2027).school == north
    assert queries.catchment_of(street=gare, number=3, school_year=2027).status == "not_in_map"


@pytest.fixture
def mapped(town):
    commune, north, south, nationale, _gare = town
    segment(north, nationale, year=2027, start=1, end=99, side="odd")
    segment(south, nationale, year=2027, start=2, end=98, side="even")
    cache.clear()
    yield town
    cache.clear()


def lookup(client, **params):
    return client.get("/api/v1/schools/catchment", {"school_year": 2027, **params})


def test_the_public_lookup_gives_the_school_of_an_address(client, mapped):
    response = lookup(client, street="rue nationale", number=13, commune="60057")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "in_map"
    assert body["school"]["name"] == "École du Nord"
    assert body["school_year"] == "2027-2028"
    assert (
        lookup(client, street="Rue Nationale", number=14, commune="60057").json()["school"]["name"]
        == "École du Sud"
    )


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"street": "Rue Nationale", "number": 101, "commune": "60057"}, "not_in_map"),
        ({"street": "Rue du Puits", "number": 1, "commune": "60057"}, "unknown_street"),
        ({"street": "Rue Nationale", "number": 1, "commune": "75056"}, "outside_territory"),
    ],
)
def test_an_address_without_a_school_says_why(client, mapped, params, status):
    Commune.objects.create(name="Paris", insee_code="75056", postcode="75001")
    body = lookup(client, **params).json()
    assert body["status"] == status
    assert body["school"] is None
    assert body["message"]


def test_a_lookup_without_a_number_is_refused_naming_the_field(client, mapped):
    response = lookup(client, street="Rue Nationale", number=0, commune="60057")
    assert response.status_code == 422
    assert response.json()["field"] == "number"


def test_the_lookup_is_rate_limited_per_client(client, mapped):
    answers = [lookup(client, street="Rue Nationale", number=1, commune="60057") for _ in range(61)]
    assert [a.status_code for a in answers[:60]] == [200] * 60
    assert answers[60].status_code == 429
    assert answers[60].json()["code"] == "rate_limited"
    assert answers[60]["Retry-After"]


def test_residents_reach_the_lookup_without_signing_in(client, mapped):
    ResidentFactory()
    assert lookup(client, street="Rue Nationale", number=3, commune="60057").status_code == 200
