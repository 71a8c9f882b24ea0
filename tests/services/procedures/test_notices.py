"""The resident is told of each change that concerns them, through identity.notifications,
inside the change's transaction: what staff decide (with their message), staff's messages, the
counter's receipt, the reminder of a forgotten draft; never what they did themself, nor the
staff's internal lines."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from identity.errors import DomainError
from identity.notifications.models import Notification
from services.moving import procedures as moving
from services.procedures.actions import counter, drafts, handling
from services.procedures.actions.sweep import sweep_drafts
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory, staff_user

from .factories import SAMPLE, in_review, submitted

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


def told(resident) -> list[Notification]:
    return list(Notification.objects.filter(recipient=resident.user).order_by("pk"))


def test_each_staff_transition_tells_the_resident_with_the_clerks_message(resident, identity_card):
    agent = staff_user("clerk")
    file = in_review(resident, identity_card, agent)
    handling.transition(actor=agent, file=file, key="ask", message="Quelle année ?")
    handling.transition(actor=resident.user, file=file, key="answer", message="1985")
    handling.transition(actor=agent, file=file, key="refuse", message="Acte introuvable.")
    notes = told(resident)
    assert [n.topic for n in notes] == ["procedures.state_changed"] * 4
    subjects = [n.subject for n in notes]
    assert subjects[0].startswith("Demande reçue")
    assert "En cours d’instruction" in subjects[1]
    assert "En attente de votre réponse" in subjects[2]
    assert "Quelle année ?" in notes[2].body
    assert "Refusée" in subjects[3]
    assert "Acte introuvable." in notes[3].body
    assert all(n.link == f"/mon-espace/demarches/{file.public_id}/" for n in notes)


def test_what_the_resident_does_and_staffs_internal_lines_tell_them_nothing(
    resident, identity_card
):
    agent = staff_user("clerk")
    file = submitted(resident, identity_card)
    before = len(told(resident))
    handling.comment(actor=agent, file=file, text="Note interne")
    handling.assign(actor=agent, file=file, to=agent)
    handling.send_message(actor=resident.user, file=file, text="Une question")
    handling.transition(actor=resident.user, file=file, key="withdraw")
    assert len(told(resident)) == before


def test_a_staff_message_is_sent_to_the_resident(resident, identity_card):
    file = submitted(resident, identity_card)
    handling.send_message(actor=staff_user("clerk"), file=file, text="Nous avons bien reçu.")
    note = told(resident)[-1]
    assert note.topic == "procedures.message"
    assert "Nous avons bien reçu." in note.body


def test_an_accepted_request_mails_its_outcome_once_committed(
    resident, django_capture_on_commit_callbacks
):
    from services.civil_status import procedures as civil_status
    from tests.services.bouquet.factories import accept, submit

    with django_capture_on_commit_callbacks(execute=True):
        file = accept(
            submit(
                civil_status.KEY,
                resident,
                {
                    "act": "death",
                    "copy": "full_copy",
                    "last_name": "Martin",
                    "first_names": "Jean",
                    "event_date": "2001-03-02",
                    "father_names": "Paul Martin",
                    "relationship": "other",
                    "identity": stored_document(resident, kind="identity_document").public_id,
                    "delivery": "email",
                    "email": resident.user.email,
                },
            )
        )
    accepted = [m for m in mail.outbox if "Acceptée" in m.subject]
    assert len(accepted) == 1
    [(name, content, mimetype)] = accepted[0].attachments
    assert name == f"demarche-{file.public_id}.pdf"
    assert content.startswith(b"%PDF")


def test_a_refused_acceptance_tells_no_one(resident):
    commune = resident.household.addresses.get().commune
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=2))
    from tests.services.bouquet.factories import submit

    file = submit(
        moving.KEY,
        resident,
        {
            "new_address": {
                "line1": "8 rue Nationale",
                "postcode": "46000",
                "commune": commune.insee_code,
            },
            "moved_in": "2000-01-01",
            "proof_of_address": proof.public_id,
        },
    )
    agent = staff_user("clerk")
    handling.transition(actor=agent, file=file, key="take")
    count = len(told(resident))
    with pytest.raises(DomainError):
        handling.transition(actor=agent, file=file, key="accept")
    assert len(told(resident)) == count


def test_the_counters_receipt_is_mailed_to_the_resident(resident):
    agent = staff_user("clerk")
    file = counter.start_at_counter(
        actor=agent,
        applicant=resident,
        type_key=SAMPLE,
        consent_given_by=resident.full_name,
        purpose="Déposer ma demande",
    )
    for step, values in (
        ("who", {"last_name": "X", "birth_date": "1985-05-17", "member": resident.public_id}),
        ("what", {"delivery": "email", "copies": 1}),
        ("documents", {"identity": "seen_at_counter"}),
    ):
        drafts.save_step(actor=agent, file=file, step=step, values=values, channel="counter")
    drafts.submit(actor=agent, file=file, channel="counter")
    note = told(resident)[-1]
    [attachment] = note.attachments.all()
    assert attachment.filename == f"recepisse-{file.public_id}.pdf"
    assert bytes(attachment.content).startswith(b"%PDF")


def test_the_owner_of_a_forgotten_draft_is_reminded(resident):
    start = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    with time_machine.travel(start, tick=False):
        drafts.start_draft(actor=resident.user, type_key=SAMPLE)
    with time_machine.travel(start + timedelta(days=53), tick=False):
        sweep_drafts()
    [note] = told(resident)
    assert note.topic == "procedures.draft_reminder"
    assert "supprimé" in note.body
