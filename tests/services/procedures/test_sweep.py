"""A draft forgotten for 60 days is deleted, a week after a reminder; saving resets the clock."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from identity.models import AuditEntry
from services.procedures.actions import drafts
from services.procedures.actions.sweep import sweep_drafts
from services.procedures.models import ProcedureFile
from tests.factories import ResidentFactory

from .factories import SAMPLE

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def at(day: int):
    return time_machine.travel(START + timedelta(days=day), tick=False)


@pytest.fixture
def draft():
    resident = ResidentFactory()
    with at(0):
        return drafts.start_draft(actor=resident.user, type_key=SAMPLE)


def test_a_draft_is_reminded_after_53_days_then_deleted_after_60(draft):
    with at(52):
        assert sweep_drafts().reminded == 0
    with at(53):
        assert sweep_drafts().reminded == 1
    draft.refresh_from_db()
    assert draft.reminded_at is not None
    assert draft.events.filter(kind="reminded").exists()
    with at(59):
        assert sweep_drafts().deleted == 0
    with at(60):
        assert sweep_drafts().deleted == 1
    assert not ProcedureFile.objects.filter(pk=draft.pk).exists()
    assert AuditEntry.objects.filter(action="procedure.draft_expired").exists()


def test_a_draft_found_late_is_reminded_first_and_kept_a_week(draft):
    with at(90):
        outcome = sweep_drafts()
    assert (outcome.reminded, outcome.deleted) == (1, 0)
    with at(97):
        assert sweep_drafts().deleted == 1


def test_saving_a_step_resets_the_clock(draft):
    with at(53):
        sweep_drafts()
    with at(55):
        drafts.save_step(
            actor=draft.created_by,
            file=draft,
            step="what",
            values={"delivery": "email", "copies": 1},
        )
    with at(61):
        outcome = sweep_drafts()
    assert (outcome.reminded, outcome.deleted) == (0, 0)
    draft.refresh_from_db()
    assert draft.reminded_at is None


def test_submitted_files_are_never_swept(draft):
    ProcedureFile.objects.filter(pk=draft.pk).update(state="submitted", is_open=True)
    with at(200):
        assert sweep_drafts() == sweep_drafts().__class__(reminded=0, deleted=0)


def test_the_command_says_what_it_did(draft):
    out = StringIO()
    with at(53):
        call_command("procedures_sweep", stdout=out)
    assert "1 draft(s) reminded, 0 draft(s) deleted" in out.getvalue()
