"""The administrator imports a year's map in the admin (all or nothing, the wrong lines named),
sees the map's data errors above the list, and downloads a school's list (audited)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from identity.models import AuditEntry, Facility
from identity.schooling.actions import enrol_child
from services.schools.levels import next_school_year
from services.schools.models import CatchmentSegment
from tests.factories import CommuneFactory, FacilityFactory, site_administrator

from .factories import SchoolFactory, family, school_year, street

pytestmark = pytest.mark.django_db
URL = "/admin/schools/catchmentsegment/"


@pytest.fixture
def administrator(client):
    user = site_administrator()
    client.force_login(user)
    return user


@pytest.fixture
def town():
    commune = CommuneFactory(insee_code="60057")
    SchoolFactory(name="École du Nord", commune=commune)
    street(commune, "Rue Nationale")
    street(commune, "Rue de la Gare")
    return commune


def upload(client, text: str, year: int = 2027):
    return client.post(
        URL + "import/",
        {"school_year": year, "csv": SimpleUploadedFile("carte.csv", text.encode())},
    )


def test_a_wrong_file_is_refused_whole_with_its_lines_named(client, administrator, town):
    response = upload(
        client,
        "school;commune;street;from;to;side\n"
        "École du Nord;60057;Rue Nationale;1;20;\n"
        "École du Nord;60057;Rue Perdue;1;20;\n",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "ligne 3" in page
    assert "Rue Perdue" in page
    assert CatchmentSegment.objects.count() == 0


def test_a_good_file_is_imported_and_the_missing_street_is_shown(client, administrator, town):
    response = upload(
        client, "school;commune;street;from;to;side\nÉcole du Nord;60057;Rue Nationale;;;\n"
    )
    assert response.status_code == 302
    assert CatchmentSegment.objects.count() == 1
    page = client.get(URL + "?school_year__exact=2027").content.decode()
    assert "Rue de la Gare n’est dans le secteur d’aucune école" in page


def test_the_heads_list_downloads_as_csv_and_is_audited(client, administrator, town):
    school = SchoolFactory(name="École du Sud", commune=town)
    _parent, child = family(commune=town)
    enrol_child(
        actor=administrator,
        child=child,
        school=school,
        school_year=school_year(next_school_year(timezone.localdate())),
        level="PS",
    )
    response = client.post(
        "/admin/schools/schoolfacility/",
        {"action": "download_list", "_selected_action": [school.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert child.last_name in text
    assert "Petite section" in text
    assert AuditEntry.objects.filter(action="schools.list_read", actor=administrator).count() == 1


def test_the_schools_are_the_towns_school_facilities_edited_in_the_admin(
    client, administrator, town
):
    school = Facility.objects.get(name="École du Nord")
    response = client.post(
        f"/admin/schools/schoolfacility/{school.pk}/change/",
        {
            "name": "École du Nord",
            "commune": town.pk,
            "address": "1 place de l’École, 60000 Beauvais",
            "uai": "0600001A",
        },
    )
    assert response.status_code == 302
    school.refresh_from_db()
    assert (school.kind, school.address, school.uai) == (
        Facility.Kind.SCHOOL,
        "1 place de l’École, 60000 Beauvais",
        "0600001A",
    )
    assert AuditEntry.objects.filter(action="configuration.saved", actor=administrator).exists()
    listed = client.get("/admin/schools/schoolfacility/").content.decode()
    assert "École du Nord" in listed
    FacilityFactory(name="Piscine du Nord", commune=town)
    assert "Piscine du Nord" not in client.get("/admin/schools/schoolfacility/").content.decode()
