"""The demo: a catchment map for two schools and pre-enrolment files in every state."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from identity.models import Facility
from identity.schooling.models import Enrolment
from services.procedures.models import ProcedureFile
from services.schools.models import CatchmentSegment
from services.schools.procedures import KEY
from services.schools.queries import map_errors

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
