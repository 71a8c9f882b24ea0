"""Two clerks deciding the same file at the same instant, one accepting, the other refusing:
each alone is allowed from "in review"; together, the second must see the first's decision and
be refused. The file's row lock serialises them. Following pretix, the race is first shown with
the lock switched off. PostgreSQL only."""

import pytest

from identity.errors import Conflict
from services.procedures.actions import common, handling
from tests.concurrency import line_up, run_at_once
from tests.documents_vault.factories import stored_document
from tests.factories import ResidentFactory

from .factories import clerk, in_review

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def decide_both_at_once(monkeypatch, *, lock: bool):
    resident = ResidentFactory()
    agents = [clerk(), clerk()]
    file = in_review(resident, stored_document(resident, kind="identity_document"), agents[0])
    # Each decision reads the state under the lock, then waits there for the other.
    line_up(monkeypatch, common, "locked", lock=lock)
    outcome = run_at_once(
        lambda: handling.transition(actor=agents[0], file=file, key="accept"),
        lambda: handling.transition(
            actor=agents[1], file=file, key="refuse", message="Incomplete."
        ),
    )
    decisions = list(
        file.events.filter(kind="transition", from_state="in_review").values_list(
            "to_state", flat=True
        )
    )
    file.refresh_from_db()
    return outcome, decisions, file


def test_without_the_lock_both_clerks_decide_the_same_file(monkeypatch):
    outcome, decisions, _file = decide_both_at_once(monkeypatch, lock=False)
    assert outcome.errors == []
    assert sorted(decisions) == ["accepted", "refused"]  # two contradictory decisions


def test_with_the_lock_the_second_clerk_is_refused_and_told_why(monkeypatch):
    outcome, decisions, file = decide_both_at_once(monkeypatch, lock=True)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], Conflict)
    assert outcome.errors[0].code == "wrong_state"
    assert len(decisions) == 1
    assert file.state == decisions[0]


def test_two_submissions_at_once_both_pass_the_check_and_the_constraint_keeps_one(monkeypatch):
    """The resident's two devices submit two drafts of the same type at the same instant: both
    read "no open request" (lined up after that read, so the check alone lets both through),
    then the database's partial unique constraint lets one in and the other is told to follow
    the first."""
    from services.procedures.actions import drafts
    from services.procedures.errors import AlreadyOpen
    from services.procedures.models import ProcedureFile

    from .factories import filled_draft

    resident = ResidentFactory()
    card = stored_document(resident, kind="identity_document")
    first = filled_draft(resident, card)
    second = drafts.start_draft(actor=resident.user, type_key=first.type_key, channel="api")
    for step in first.type.steps:
        drafts.save_step(
            actor=resident.user,
            file=second,
            step=step.key,
            values={f.name: first.data.get(f.name) for f in step.fields},
        )
    seen = []
    real = drafts.open_request
    monkeypatch.setattr(drafts, "open_request", lambda file: seen.append(real(file)) or seen[-1])
    line_up(monkeypatch, drafts, "open_request", lock=True)
    outcome = run_at_once(
        lambda: drafts.submit(actor=resident.user, file=first),
        lambda: drafts.submit(actor=resident.user, file=second),
    )
    assert seen == [None, None]  # both passed the check
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], AlreadyOpen)
    assert ProcedureFile.objects.filter(applicant=resident, is_open=True).count() == 1
