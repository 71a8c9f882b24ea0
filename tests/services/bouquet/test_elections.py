"""Registration on the electoral roll: the sixth Friday before the vote, shown and enforced;
the mayor's five days as the file's deadline."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from identity.errors import Conflict
from services.elections import procedures
from services.elections.models import Election, registration_deadline
from services.procedures.actions import drafts
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory

from .factories import submit

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("vote", "deadline"),
    [
        (date(2024, 6, 9), date(2024, 5, 3)),  # European elections 2024
        (date(2026, 3, 15), date(2026, 2, 6)),  # municipal elections 2026
        (date(2027, 4, 11), date(2027, 3, 5)),
    ],
)
def test_the_deadline_is_the_sixth_friday_before_the_vote(vote, deadline):
    assert registration_deadline(vote) == deadline
    assert deadline.weekday() == 4


@pytest.fixture
def resident():
    return ResidentFactory()


def answers(resident):
    identity = stored_document(resident, kind="identity_document")
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=2))
    return {
        "birth_place": "Cahors",
        "nationality": "french",
        "identity": identity.public_id,
        "proof_of_address": proof.public_id,
    }


def at(day: date):
    return time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=PARIS), tick=False)


def test_a_request_until_the_deadline_is_due_five_days_later(resident):
    Election.objects.create(name="Municipales", vote_on=date(2026, 3, 15))
    with at(date(2026, 2, 6)):
        file = submit(procedures.KEY, resident, answers(resident))
    assert file.due_on == date(2026, 2, 11)


def test_after_the_deadline_the_request_is_refused_with_the_day(resident):
    Election.objects.create(name="Municipales", vote_on=date(2026, 3, 15))
    with at(date(2026, 2, 5)):
        file = drafts.start_draft(actor=resident.user, type_key=procedures.KEY)
    with at(date(2026, 2, 7)), pytest.raises(Conflict) as refused:
        drafts.submit(actor=resident.user, file=file)
    assert refused.value.code == "closed"
    assert "06/02/2026" in refused.value.message


def test_without_an_election_ahead_requests_are_open(resident):
    file = submit(procedures.KEY, resident, answers(resident))
    assert file.due_on == file.submitted_at.date() + timedelta(days=5)


def test_the_deadline_is_shown_on_the_procedures_page(client):
    Election.objects.create(name="Municipales", vote_on=date(2026, 3, 15))
    with at(date(2026, 1, 10)):
        page = client.get(reverse("procedures:type", args=[procedures.KEY])).content.decode()
    assert "6 février 2026" in page
