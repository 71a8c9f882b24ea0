"""Two clerks accepting at the same instant the files two guardians sent for the same child:
the child must be enrolled once, the second clerk told why. The child's row lock serialises
them; the race is first shown with the lock switched off. PostgreSQL only."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError

from identity.errors import Conflict
from identity.models import Guardianship
from services.procedures.actions import handling
from services.schools import actions, procedures
from services.schools.models import Enrolment
from tests.concurrency import line_up, run_at_once
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import CommuneFactory, PersonFactory, UserFactory, staff_user
from tests.services.bouquet.factories import submit

from .factories import SchoolFactory, family, segment, street

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")


def file_of(parent, child, pages: int):
    return submit(
        procedures.KEY,
        parent,
        {
            "child": child.public_id,
            "level": "ps",
            "child_identity": stored_document(
                parent, kind="family_record_book", content=pdf_bytes(pages=pages)
            ).public_id,
            "guardian_identity": stored_document(
                parent, kind="identity_document", content=pdf_bytes(pages=pages + 1)
            ).public_id,
            "choice": "catchment",
            "address_proof": "sworn",
            "sworn_statement": True,
        },
    )


def accept_both_at_once(monkeypatch, *, lock: bool):
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=PARIS), tick=False):
        commune = CommuneFactory()
        school = SchoolFactory(commune=commune)
        segment(school, street(commune, "Rue Nationale"), year=2027)
        parent, child = family(line1="12 rue Nationale", commune=commune)
        other = PersonFactory(household=parent.household, user=UserFactory())
        Guardianship.objects.create(guardian=other, child=child)
        # Each guardian sent a file for the child from their own device at the same instant:
        # the second-application check at submission read no other file for either.
        second = file_of(other, child, 3)
        first = _unchecked_file(parent, child)
        clerks = [staff_user("clerk"), staff_user("clerk")]
        line_up(monkeypatch, actions, "enrolled_already", lock=lock)
        outcome = run_at_once(
            lambda: handling.transition(actor=clerks[0], file=first, key="accept"),
            lambda: handling.transition(actor=clerks[1], file=second, key="accept"),
        )
    return outcome, child


def _unchecked_file(parent, child):
    """A submitted file for the child as if the second-application check had run at the same
    instant as the other guardian's submission (it read no other file)."""
    validate = procedures.PRE_ENROLMENT.validate
    try:
        object.__setattr__(procedures.PRE_ENROLMENT, "validate", None)
        return file_of(parent, child, 1)
    finally:
        object.__setattr__(procedures.PRE_ENROLMENT, "validate", validate)


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
