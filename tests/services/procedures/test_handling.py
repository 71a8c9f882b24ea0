"""Staff handle a submitted file; the resident follows it, answers and writes."""

import pytest

from documents_vault.actions import access
from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import AuditEntry
from services.procedures.actions import handling
from services.procedures.actions.handling import Attachment
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory, staff_user

from .factories import clerk, in_review, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


def test_a_clerk_takes_asks_and_the_resident_answers_with_a_document(resident, identity_card):
    agent = clerk()
    file = in_review(resident, identity_card, agent)
    file = handling.transition(
        actor=agent, file=file, key="ask", message="Please send a proof of address."
    )
    assert file.state == "waiting"
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=3))
    file = handling.transition(
        actor=resident.user,
        file=file,
        key="answer",
        message="Here it is.",
        attachments=[Attachment(document_id=proof.public_id)],
    )
    assert file.state == "in_review"
    answer = file.events.get(transition="answer")
    assert answer.documents == [proof.public_id]
    assert proof.shares.get(target_kind="procedure").target_id == file.public_id
    steps = [(e.from_state, e.to_state) for e in file.events.filter(kind="transition")]
    assert steps == [
        ("submitted", "in_review"),
        ("in_review", "waiting"),
        ("waiting", "in_review"),
    ]
    assert AuditEntry.objects.filter(action="procedure.state_changed").count() == 3


def test_a_transition_from_the_wrong_state_is_refused_with_its_code(resident, identity_card):
    agent = clerk()
    file = submitted(resident, identity_card)
    with pytest.raises(Conflict) as refused:
        handling.transition(actor=agent, file=file, key="complete")
    assert refused.value.code == "wrong_state"
    file.refresh_from_db()
    assert file.state == "submitted"


def test_asking_or_refusing_needs_a_message_to_the_resident(resident, identity_card):
    agent = clerk()
    file = in_review(resident, identity_card, agent)
    for key in ("ask", "refuse"):
        with pytest.raises(DomainError) as refused:
            handling.transition(actor=agent, file=file, key=key, message="  ")
        assert refused.value.field == "message"


def test_residents_trigger_only_their_transitions_and_staff_only_theirs(resident, identity_card):
    agent = clerk()
    file = submitted(resident, identity_card)
    with pytest.raises(Forbidden):
        handling.transition(actor=resident.user, file=file, key="accept")
    with pytest.raises(NotFound):
        handling.transition(actor=agent, file=file, key="withdraw")
    pool_agent = staff_user("pool_agent")
    with pytest.raises(Forbidden):
        handling.transition(actor=pool_agent, file=file, key="take")


def test_closing_a_file_ends_the_staff_reading_of_its_documents(resident, identity_card):
    agent = clerk()
    file = in_review(resident, identity_card, agent)
    share = identity_card.shares.get()
    assert access.read_shared_document(actor=agent, share_public_id=share.public_id).content
    handling.transition(actor=agent, file=file, key="refuse", message="Not a resident.")
    share.refresh_from_db()
    assert share.closed_at is not None
    file.refresh_from_db()
    assert not file.is_open
    with pytest.raises(DomainError):
        access.read_shared_document(actor=agent, share_public_id=share.public_id)


def test_a_closed_file_frees_the_resident_to_ask_again(resident, identity_card):
    from services.procedures.actions import drafts

    from .factories import filled_draft

    file = submitted(resident, identity_card)
    handling.transition(actor=resident.user, file=file, key="withdraw")
    again = drafts.submit(actor=resident.user, file=filled_draft(resident, identity_card))
    assert again.is_open


def test_internal_comments_and_assignment_stay_among_staff(resident, identity_card):
    agent = clerk()
    colleague = clerk()
    file = submitted(resident, identity_card)
    handling.comment(actor=agent, file=file, text="Already called them.")
    handling.assign(actor=agent, file=file, to=colleague)
    file.refresh_from_db()
    assert file.assigned_to == colleague
    assert all(e.internal for e in file.events.filter(kind__in=["comment", "assigned"]))
    with pytest.raises(Forbidden):
        handling.comment(actor=resident.user, file=file, text="Let me see")
    with pytest.raises(DomainError) as refused:
        handling.assign(actor=agent, file=file, to=staff_user("pool_agent"))
    assert refused.value.field == "assignee"


def test_messages_both_ways_the_resident_joins_a_new_file_that_goes_to_the_safe(
    resident, identity_card
):
    agent = clerk()
    file = submitted(resident, identity_card)
    handling.send_message(actor=agent, file=file, text="We received your request.")
    event = handling.send_message(
        actor=resident.user,
        file=file,
        text="Here is my new card.",
        attachments=[Attachment(file_name="carte.pdf", content=pdf_bytes(pages=2))],
    )
    from documents_vault.models import Document

    document = Document.objects.get(public_id=event.documents[0])
    assert document.household_id == resident.household_id


def test_bulk_changes_do_what_they_can_and_say_why_not_for_the_others():
    agent = clerk()
    residents = [ResidentFactory() for _ in range(3)]
    files = [submitted(r, stored_document(r, kind="identity_document")) for r in residents]
    handling.transition(actor=agent, file=files[0], key="take")
    outcome = handling.bulk_transition(actor=agent, files=files, key="take")
    assert outcome.done == [files[1].public_id, files[2].public_id]
    assert list(outcome.refused) == [files[0].public_id]


def test_opening_a_file_is_in_the_audit_trail(resident, identity_card):
    agent = clerk()
    file = submitted(resident, identity_card)
    handling.open_for_staff(actor=agent, file=file)
    entry = AuditEntry.objects.get(action="procedure.viewed")
    assert entry.person == resident
    assert entry.reason == "procedure"
