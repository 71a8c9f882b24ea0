"""The demo: a catchment map for two schools and pre-enrolment files in every state."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from identity import demo
from identity.models import AuditEntry, Facility
from identity.schooling.models import Enrolment
from services.procedures.models import ProcedureFile
from services.schools.models import CatchmentSegment
from services.schools.procedures import KEY
from services.schools.queries import list_years, map_errors
from tests.portal.demo_site import log_in

pytestmark = pytest.mark.django_db


def load_demo():
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())


def test_the_demo_has_two_schools_a_clean_map_and_files_in_every_state():
    load_demo()
    mapped = set(CatchmentSegment.objects.values_list("school__name", flat=True))
    assert mapped == {"École Lucie-Aubrac", "École Jean-Jaurès"}
    # The identity demo's school is the same Facility, now with its address and UAI.
    assert Facility.objects.filter(kind=Facility.Kind.SCHOOL).count() == 2
    year = CatchmentSegment.objects.values_list("school_year", flat=True).first()
    assert map_errors(year) == []
    states = set(ProcedureFile.objects.filter(type_key=KEY).values_list("state", flat=True))
    assert states == {
        "draft",
        "submitted",
        "in_review",
        "waiting",
        "complete",
        "accepted",
        "refused",
        "done",
        "withdrawn",
    }
    # The accepted files are the town's enrolments, which the canteen reads.
    assert Enrolment.objects.exclude(procedure_file="").count() == 2
    count = ProcedureFile.objects.count()
    load_demo()
    assert ProcedureFile.objects.count() == count


def test_the_demo_head_of_lucie_aubrac_reads_their_schools_children_only(client):
    load_demo()
    accounts = {account.email: account for account in demo.accounts()}
    log_in(client, accounts["direction.lucie-aubrac@demo.sesame.fr"])
    school = Facility.objects.get(name="École Lucie-Aubrac")
    years = list_years(school, timezone.localdate())
    assert Enrolment.objects.filter(school=school).exists()
    for year in years:
        response = client.get(reverse("schools:head_list"), {"annee": year})
        assert response.status_code == 200
        page = response.content.decode()
        of_year = Enrolment.objects.filter(school_year__starts_on__year=year).select_related(
            "child"
        )
        for enrolment in of_year:
            name = f"{enrolment.child.last_name} {enrolment.child.first_name}"
            assert (name in page) == (enrolment.school_id == school.pk)
    assert AuditEntry.objects.filter(action="schools.list_read").count() == len(years)
