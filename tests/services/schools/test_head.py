"""The school's head (directeur, directrice d'école) reads their own school's list on
/agents/ecole/ — the coming school year first, per level and class, with the guardians — and
downloads it as CSV; every opening and download is audited. Nobody else reads it there: not
another school's head, not a canteen agent of the school, not a resident."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from identity.actions.staff import grant_staff_role
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, Facility, StaffRole
from identity.permissions import Capability, has_capability
from identity.schooling.actions import enrol_child
from identity.schooling.models import SchoolClass
from services.schools import actions
from tests.factories import FacilityFactory, StaffRoleFactory, staff_user

from .factories import SchoolFactory, family, school_year

pytestmark = pytest.mark.django_db
PAGE = reverse("schools:head_list")
CSV = reverse("schools:head_list_csv")


@pytest.fixture(autouse=True)
def in_may():
    # Pre-enrolment time: the coming school year starts in September 2026.
    with time_machine.travel(date(2026, 5, 11), tick=False):
        yield


@pytest.fixture
def school():
    return SchoolFactory(name="École Lucie-Aubrac")


@pytest.fixture
def head(school):
    return staff_user(StaffRole.Role.SCHOOL_HEAD, facility=school)


@pytest.fixture
def enrolled(school):
    """Léa in CP, class CP-A, by derogation, for 2026-2027; Tom in PS (no class yet); and a
    child of last year, at the same school."""
    admin = staff_user(StaffRole.Role.ADMIN)
    coming = school_year(2026)
    cp_a = SchoolClass.objects.create(school=school, school_year=coming, name="CP-A", levels="CP")
    lea_parent, lea = family()
    lea.first_name, lea.last_name = "Léa", "Martin"
    lea.save()
    tom_parent, tom = family(child_born=date(2023, 2, 8))
    tom.first_name, tom.last_name = "Tom", "Bernard"
    tom.save()
    _p, former = family()
    former.first_name, former.last_name = "Jules", "Ancien"
    former.save()
    enrolled = {
        "lea": enrol_child(
            actor=admin,
            child=lea,
            school=school,
            school_year=coming,
            level="CP",
            school_class=cp_a,
            procedure_file="F-PRE-1",
            derogation=True,
        ),
        "tom": enrol_child(actor=admin, child=tom, school=school, school_year=coming, level="PS"),
        "former": enrol_child(
            actor=admin, child=former, school=school, school_year=school_year(2025), level="CE1"
        ),
    }
    enrolled["lea_parent"], enrolled["tom_parent"] = lea_parent, tom_parent
    return enrolled


def test_the_head_sees_the_coming_years_list_per_level_and_class_audited(
    client, head, school, enrolled
):
    client.force_login(head)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert "École Lucie-Aubrac" in page
    assert "Année scolaire 2026-2027\u00a0: 2 enfants inscrits." in page
    # Levels in school order (PS before CP), each with its class.
    assert page.index("Petite section (PS) — Pas encore de classe") < page.index(
        "Cours préparatoire (CP) — CP-A"
    )
    assert "Martin Léa" in page
    assert "Bernard Tom" in page
    assert "Jules" not in page  # last year's child is on last year's list
    assert "Par dérogation" in page
    assert "Né(e) le 4 mars 2024" in page
    assert enrolled["lea_parent"].full_name in page
    assert enrolled["lea_parent"].user.email in page
    # The years the head may choose: the coming one first, then last year.
    assert page.index('value="2026"') < page.index('value="2025"')
    entry = AuditEntry.objects.get(action="schools.list_read", actor=head)
    assert entry.target == f"identity.Facility:{school.public_id} 2026 (2)"


def test_the_head_reads_a_former_year_when_they_choose_it(client, head, enrolled):
    client.force_login(head)
    page = client.get(PAGE, {"annee": "2025"}).content.decode()
    assert "Ancien Jules" in page
    assert "Martin Léa" not in page
    # A year that is not on offer, or not a year, shows the coming one.
    assert "Martin Léa" in client.get(PAGE, {"annee": "1990"}).content.decode()
    assert "Martin Léa" in client.get(PAGE, {"annee": "x"}).content.decode()


def test_the_head_downloads_the_list_as_csv_audited(client, head, school, enrolled):
    client.force_login(head)
    response = client.get(CSV, {"annee": "2026"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "ecoles-2026-2027.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "École",
        "Niveau",
        "Nom",
        "Prénom",
        "Date de naissance",
        "Classe",
        "Dérogation",
        "Responsables légaux",
    ]
    by_name = {row[3]: row for row in rows[1:]}
    assert set(by_name) == {"Léa", "Tom"}
    lea = by_name["Léa"]
    parent = enrolled["lea_parent"]
    assert lea[:7] == [
        "École Lucie-Aubrac",
        "Cours préparatoire (CP)",
        "Martin",
        "Léa",
        "04/03/2024",
        "CP-A",
        "oui",
    ]
    assert lea[7] == f"{parent.full_name} <{parent.user.email}>"
    assert by_name["Tom"][5:7] == ["", "non"]
    assert AuditEntry.objects.filter(action="schools.list_read", actor=head).count() == 1


def test_another_schools_head_reads_nothing_of_this_school(client, school, enrolled):
    elsewhere = staff_user(StaffRole.Role.SCHOOL_HEAD, facility=SchoolFactory(name="Autre"))
    client.force_login(elsewhere)
    page = client.get(PAGE).content.decode()
    assert "Martin" not in page
    assert "Autre" in page
    # Naming this school gets nothing but a 404, and the action refuses it outright.
    assert client.get(PAGE, {"ecole": school.public_id}).status_code == 404
    assert client.get(CSV, {"ecole": school.public_id}).status_code == 404
    with pytest.raises(Forbidden):
        actions.read_school_list(actor=elsewhere, school=school, school_year=2026)
    assert not AuditEntry.objects.filter(
        action="schools.list_read", target__contains=school.public_id
    ).exists()


def test_a_head_of_two_schools_chooses_which_one(client, head, school, enrolled):
    other = SchoolFactory(name="École Zola")
    StaffRoleFactory(user=head, role=StaffRole.Role.SCHOOL_HEAD, facility=other)
    client.force_login(head)
    page = client.get(PAGE, {"ecole": other.public_id}).content.decode()
    assert "École Zola" in page
    assert "Martin" not in page
    assert "Martin Léa" in client.get(PAGE, {"ecole": school.public_id}).content.decode()


@pytest.mark.parametrize("role", [StaffRole.Role.CANTEEN_AGENT, StaffRole.Role.POOL_AGENT])
def test_other_staff_of_the_school_are_refused(client, school, enrolled, role):
    facility = school if role == StaffRole.Role.CANTEEN_AGENT else FacilityFactory(kind="pool")
    client.force_login(staff_user(role, facility=facility))
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403
    assert not AuditEntry.objects.filter(action="schools.list_read").exists()


def test_a_resident_is_sent_away_and_a_visitor_asked_to_log_in(client, enrolled):
    client.force_login(enrolled["lea_parent"].user)
    assert client.get(PAGE).status_code == 403
    assert client.get(CSV).status_code == 403
    client.logout()
    assert client.get(PAGE).status_code == 302
    assert not AuditEntry.objects.filter(action="schools.list_read").exists()


def test_the_head_has_the_least_privilege(client, head, school):
    """Their school's list only: no resident search or file, no queue, no admin, no card desk."""
    for capability in Capability:
        assert has_capability(head, capability) == (capability == Capability.READ_SCHOOL_LIST)
    client.force_login(head)
    assert client.get(reverse("identity:staff_search")).status_code == 403
    assert client.get(reverse("procedures:queue")).status_code == 403
    assert client.get("/admin/").status_code == 302
    home = client.get(reverse("portal:staff_home")).content.decode()
    assert PAGE in home
    assert "Liste de mon école" in home


def test_the_role_is_granted_at_a_school_only(head):
    admin = staff_user(StaffRole.Role.ADMIN)
    pool = FacilityFactory(kind=Facility.Kind.POOL)
    with pytest.raises(DomainError) as refused:
        grant_staff_role(actor=admin, user=head, role=StaffRole.Role.SCHOOL_HEAD, facility=pool)
    assert refused.value.field == "facility"
    with pytest.raises(DomainError):
        grant_staff_role(actor=admin, user=head, role=StaffRole.Role.SCHOOL_HEAD, facility=None)
