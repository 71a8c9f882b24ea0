"""The pre-enrolment's races, each shown first with the locks switched off, then prevented
(PostgreSQL only):

- two guardians sending a file for the same child at the same instant: one file is kept, the
  other guardian is told of it (the child's row lock around the check at submission);
- two clerks accepting at the same instant the files of the same child: enrolled once, the
  second clerk told why (the child's row lock in identity.schooling's enrol_child);
- two clerks accepting two children for the last place of a school's level: one is enrolled,
  the other refused with the reason (the lock of the places row)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError

from identity.errors import Conflict
from identity.models import Guardianship
from identity.schooling import actions as schooling_actions
from identity.schooling.models import Enrolment
from services.procedures.actions import drafts, handling
from services.procedures.errors import FieldErrors
from services.procedures.models import ProcedureFile
from services.schools import actions, procedures
from tests.concurrency import line_up, run_at_once
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import CommuneFactory, PersonFactory, UserFactory, staff_user
from tests.services.bouquet.factories import submit

from .factories import SchoolFactory, family, places, school_year, segment, street

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")
IN_MARCH = datetime(2027, 3, 15, 10, tzinfo=PARIS)


def answers(parent, child, pages: int) -> dict:
    return {
        "child": child.public_id,
        "level": "PS",
        "child_identity": stored_document(
            parent, kind="family_record_book", content=pdf_bytes(pages=pages)
        ).public_id,
        "guardian_identity": stored_document(
            parent, kind="identity_document", content=pdf_bytes(pages=pages + 1)
        ).public_id,
        "choice": "catchment",
        "address_proof": "sworn",
        "sworn_statement": True,
    }


def draft(parent, child, pages: int):
    """A draft with every step answered, ready to be submitted."""
    file = drafts.start_draft(actor=parent.user, type_key=procedures.KEY)
    values = answers(parent, child, pages)
    for step in file.type.steps:
        file = drafts.save_step(
            actor=parent.user,
            file=file,
            step=step.key,
            values={f.name: values.get(f.name) for f in step.fields},
        )
    return file


def town():
    commune = CommuneFactory()
    school = SchoolFactory(commune=commune)
    school_year(2027)
    segment(school, street(commune, "Rue Nationale"), year=2027)
    return commune, school


def two_guardians(commune):
    parent, child = family(line1="12 rue Nationale", commune=commune)
    other = PersonFactory(household=parent.household, user=UserFactory())
    Guardianship.objects.create(guardian=other, child=child)
    return parent, other, child


def _unchecked_file(parent, child, pages: int):
    """A submitted file for the child as if the second-application check had run at the same
    instant as the other guardian's submission (it read no other file)."""
    validate = procedures.PRE_ENROLMENT.validate
    try:
        object.__setattr__(procedures.PRE_ENROLMENT, "validate", None)
        return submit(procedures.KEY, parent, answers(parent, child, pages))
    finally:
        object.__setattr__(procedures.PRE_ENROLMENT, "validate", validate)


# --- One open file per child ---------------------------------------------------------------


def submit_both_at_once(monkeypatch, *, lock: bool):
    with time_machine.travel(IN_MARCH, tick=False):
        commune, _school = town()
        parent, other, child = two_guardians(commune)
        first, second = draft(parent, child, 1), draft(other, child, 3)
        line_up(monkeypatch, procedures, "other_application", lock=lock)
        outcome = run_at_once(
            lambda: drafts.submit(actor=parent.user, file=first),
            lambda: drafts.submit(actor=other.user, file=second),
        )
    sent = ProcedureFile.objects.filter(type_key=procedures.KEY, state="submitted")
    return outcome, sent, (parent, other)


def test_without_the_lock_two_guardians_both_send_a_file_for_the_child(monkeypatch):
    outcome, sent, _guardians = submit_both_at_once(monkeypatch, lock=False)
    assert outcome.errors == []
    assert sent.count() == 2  # the race: two open files for one child and year


def test_with_the_lock_the_second_guardian_sees_the_first_guardians_file(monkeypatch):
    outcome, sent, guardians = submit_both_at_once(monkeypatch, lock=True)
    assert sent.count() == 1
    [refusal] = outcome.errors
    assert isinstance(refusal, FieldErrors)
    kept = sent.get()
    assert kept.applicant.full_name in refusal.errors["child"]


# --- One enrolment per child -----------------------------------------------------------------


def accept_both_at_once(monkeypatch, *, lock: bool):
    with time_machine.travel(IN_MARCH, tick=False):
        commune, _school = town()
        parent, other, child = two_guardians(commune)
        second = submit(procedures.KEY, other, answers(other, child, 3))
        first = _unchecked_file(parent, child, 1)
        clerks = [staff_user("clerk"), staff_user("clerk")]
        line_up(monkeypatch, schooling_actions, "enrolment_of", lock=lock)
        outcome = run_at_once(
            lambda: handling.transition(actor=clerks[0], file=first, key="accept"),
            lambda: handling.transition(actor=clerks[1], file=second, key="accept"),
        )
    return outcome, child


def test_without_the_lock_both_acceptances_pass_the_check_and_the_database_fails(monkeypatch):
    outcome, child = accept_both_at_once(monkeypatch, lock=False)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)  # a crash, not an answer
    assert Enrolment.objects.filter(child=child).count() == 1


def test_with_the_lock_the_second_clerk_is_told_the_child_is_enrolled(monkeypatch):
    outcome, child = accept_both_at_once(monkeypatch, lock=True)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], Conflict)
    assert outcome.errors[0].code == "already_enrolled"
    assert Enrolment.objects.filter(child=child).count() == 1


# --- The last place --------------------------------------------------------------------------


def accept_two_children_for_the_last_place(monkeypatch, *, lock: bool):
    with time_machine.travel(IN_MARCH, tick=False):
        commune, school = town()
        places(school, "PS", 1, year=2027)
        files = []
        for pages in (1, 3):
            parent, child = family(line1="12 rue Nationale", commune=commune)
            files.append(submit(procedures.KEY, parent, answers(parent, child, pages)))
        clerks = [staff_user("clerk"), staff_user("clerk")]
        line_up(monkeypatch, actions, "places_taken", lock=lock)
        outcome = run_at_once(
            lambda: handling.transition(actor=clerks[0], file=files[0], key="accept"),
            lambda: handling.transition(actor=clerks[1], file=files[1], key="accept"),
        )
    return outcome, school


def test_without_the_lock_two_children_take_the_last_place(monkeypatch):
    outcome, school = accept_two_children_for_the_last_place(monkeypatch, lock=False)
    assert outcome.errors == []
    assert Enrolment.objects.filter(school=school, level="PS").count() == 2  # one too many


def test_with_the_lock_the_second_clerk_is_told_the_level_is_full(monkeypatch):
    outcome, school = accept_two_children_for_the_last_place(monkeypatch, lock=True)
    [refusal] = outcome.errors
    assert isinstance(refusal, Conflict)
    assert refusal.code == "school_full"
    assert Enrolment.objects.filter(school=school, level="PS").count() == 1
