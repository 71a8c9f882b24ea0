"""The demo has a file in each state, so that the queue and the timeline show something."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from identity.demo import RESIDENT_EMAIL
from services.procedures.models import ProcedureFile

pytestmark = pytest.mark.django_db


def load_demo():
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=StringIO())


def test_the_demo_has_a_file_in_each_state_and_loads_twice():
    load_demo()
    # The schools' demo has families of its own and a state of its own (tests/services/schools).
    bouquet = ProcedureFile.objects.exclude(type_key="school_pre_enrolment")
    states = set(bouquet.values_list("state", flat=True))
    assert states == {
        "draft",
        "submitted",
        "in_review",
        "waiting",
        "accepted",
        "refused",
        "done",
        "withdrawn",
    }
    assert set(bouquet.values_list("applicant__user__email", flat=True)) == {RESIDENT_EMAIL}
    count = ProcedureFile.objects.count()
    load_demo()
    assert ProcedureFile.objects.count() == count
