"""The pages: a resident finds a procedure, fills it step by step, checks the summary,
submits, follows the timeline and answers; a clerk works the queue; a clerk at the counter."""

import pytest
from django.urls import reverse
from pypdf import PdfReader

from identity.models import AuditEntry
from services.procedures.actions import handling
from services.procedures.models import ProcedureFile
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import ResidentFactory, staff_user

from .factories import SAMPLE, in_review, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


def test_the_catalogue_finds_procedures_by_words_and_life_event(client):
    page = client.get(reverse("procedures:catalogue"), {"q": "exAmple"})
    assert "Sample request" in page.content.decode()
    page = client.get(reverse("procedures:catalogue"), {"q": "nothing-like-it"})
    assert "Sample request" not in page.content.decode()
    page = client.get(reverse("procedures:catalogue"), {"evenement": "elections"})
    assert "Sample request" not in page.content.decode()
    page = client.get(reverse("procedures:catalogue"), {"evenement": "moving"})
    assert "Sample request" in page.content.decode()


def test_a_resident_fills_the_steps_checks_the_summary_and_submits(client, resident, identity_card):
    client.force_login(resident.user)
    started = client.post(reverse("procedures:start", args=[SAMPLE]))
    file = ProcedureFile.objects.get(applicant=resident)
    assert started.url == reverse("procedures:step", args=[file.public_id, "who"])
    page = client.get(started.url)
    assert resident.last_name in page.content.decode()  # prefilled
    refused = client.post(
        started.url, {"last_name": resident.last_name, "birth_date": "2999-01-01", "member": ""}
    )
    assert refused.status_code == 422
    text = refused.content.decode()
    assert "Cette date est dans le futur." in text
    assert "cette réponse est obligatoire" in text
    saved = client.post(
        started.url,
        {"last_name": resident.last_name, "birth_date": "1985-05-17", "member": resident.public_id},
    )
    assert saved.url == reverse("procedures:step", args=[file.public_id, "what"])
    saved = client.post(
        saved.url,
        {"delivery": "email", "copies": "2", "contacts__0__phone": "06 12 34 56 78"},
    )
    saved = client.post(saved.url, {"identity": identity_card.public_id})
    assert saved.url == reverse("procedures:summary", args=[file.public_id])
    summary = client.get(saved.url).content.decode()
    assert "06 12 34 56 78" in summary
    assert "By email" in summary
    submitted_page = client.post(saved.url)
    assert submitted_page.url == reverse("procedures:file", args=[file.public_id])
    file.refresh_from_db()
    assert file.state == "submitted"


def test_a_new_file_uploaded_on_a_step_goes_into_the_safe(client, resident):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(resident.user)
    client.post(reverse("procedures:start", args=[SAMPLE]))
    file = ProcedureFile.objects.get(applicant=resident)
    url = reverse("procedures:step", args=[file.public_id, "documents"])
    client.post(
        url,
        {"identity": "new", "identity__file": SimpleUploadedFile("id.pdf", pdf_bytes(pages=4))},
    )
    file.refresh_from_db()
    from documents_vault.models import Document

    assert Document.objects.get(public_id=file.data["identity"]).household == resident.household


def test_the_second_submission_shows_the_first_request(client, resident, identity_card):
    from .factories import filled_draft

    first = submitted(resident, identity_card)
    second = filled_draft(resident, identity_card)
    client.force_login(resident.user)
    response = client.post(reverse("procedures:summary", args=[second.public_id]))
    assert response.url == reverse("procedures:file", args=[first.public_id])


def test_the_resident_answers_a_request_for_information_with_a_document(
    client, resident, identity_card
):
    agent = staff_user("clerk")
    file = in_review(resident, identity_card, agent)
    handling.transition(actor=agent, file=file, key="ask", message="Your proof of address?")
    handling.comment(actor=agent, file=file, text="Secret note")
    client.force_login(resident.user)
    page = client.get(reverse("procedures:file", args=[file.public_id])).content.decode()
    assert "Your proof of address" in page
    assert "Secret note" not in page
    proof = stored_document(resident, kind="proof_of_address", content=pdf_bytes(pages=2))
    client.post(
        reverse("procedures:resident_transition", args=[file.public_id, "answer"]),
        {"text": "Here.", "attachment-document": proof.public_id},
    )
    file.refresh_from_db()
    assert file.state == "in_review"
    assert file.events.get(transition="answer").documents == [proof.public_id]


def test_nobody_else_sees_the_file(client, resident, identity_card):
    file = submitted(resident, identity_card)
    client.force_login(ResidentFactory().user)
    assert client.get(reverse("procedures:file", args=[file.public_id])).status_code == 404
    client.force_login(staff_user("pool_agent"))
    assert client.get(reverse("procedures:staff_file", args=[file.public_id])).status_code == 404


def test_the_queue_filters_and_opening_a_file_is_audited(client, identity_card, resident):
    agent = staff_user("clerk")
    late = submitted(resident, identity_card)
    ProcedureFile.objects.filter(pk=late.pk).update(due_on="2020-01-01")
    other = ResidentFactory()
    fresh = submitted(other, stored_document(other, kind="identity_document"))
    handling.assign(actor=agent, file=fresh, to=agent)
    client.force_login(agent)
    page = client.get(reverse("procedures:queue")).content.decode()
    assert page.index(resident.full_name) < page.index(other.full_name)  # late first
    mine = client.get(reverse("procedures:queue"), {"mine": "1"}).content.decode()
    assert other.full_name in mine
    assert resident.full_name not in mine
    client.get(reverse("procedures:staff_file", args=[late.public_id]))
    assert AuditEntry.objects.filter(action="procedure.viewed", person=resident).exists()


def test_a_clerk_asks_with_a_message_and_applies_a_change_to_many(client, resident, identity_card):
    agent = staff_user("clerk")
    file = submitted(resident, identity_card)
    other = ResidentFactory()
    second = submitted(other, stored_document(other, kind="identity_document"))
    client.force_login(agent)
    client.post(
        reverse("procedures:bulk"),
        {"files": [file.public_id, second.public_id], "transition": "take"},
    )
    assert set(ProcedureFile.objects.values_list("state", flat=True)) == {"in_review"}
    client.post(
        reverse("procedures:staff_transition", args=[file.public_id, "ask"]),
        {"text": "Which year?"},
    )
    file.refresh_from_db()
    assert file.state == "waiting"


def test_the_export_is_a_french_csv_without_residents_names(client, resident, identity_card):
    agent = staff_user("clerk")
    submitted(resident, identity_card)
    client.force_login(agent)
    response = client.get(reverse("procedures:export"))
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Référence;Démarche")
    assert "Sample request" in text
    assert resident.last_name not in text
    assert AuditEntry.objects.filter(action="procedure.exported").exists()


def test_at_the_counter_a_clerk_submits_with_consent_and_prints_the_receipt(client, resident):
    agent = staff_user("clerk")
    client.force_login(agent)
    found = client.post(
        reverse("procedures:counter"), {"step": "search", "q": resident.last_name}
    ).content.decode()
    assert resident.full_name in found
    started = client.post(
        reverse("procedures:counter"),
        {
            "person": resident.public_id,
            "type": SAMPLE,
            "consent_given_by": resident.full_name,
            "purpose": "Submitting my request",
        },
    )
    file = ProcedureFile.objects.get(applicant=resident)
    assert file.channel == "counter"
    url = started.url
    url = client.post(
        url,
        {"last_name": resident.last_name, "birth_date": "1985-05-17", "member": resident.public_id},
    ).url
    url = client.post(url, {"delivery": "email", "copies": "1"}).url
    url = client.post(url, {"identity": "seen_at_counter"}).url
    done = client.post(url)
    assert done.url == reverse("procedures:staff_file", args=[file.public_id])
    receipt = client.get(reverse("procedures:receipt", args=[file.public_id]))
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
    assert resident.full_name in text
    assert "Consentement donné par" in text
    client.force_login(resident.user)
    mine = client.get(reverse("procedures:mine")).content.decode()
    assert "Sample request" in mine


def test_my_requests_send_a_staff_account_where_every_resident_page_does(client):
    """A staff account has no household: like Mon espace's other pages (appointments,
    household), "my requests" sends it to the onboarding rather than an empty 200."""
    client.force_login(staff_user("clerk"))
    page = client.get(reverse("procedures:mine"))
    assert page.status_code == 302
    assert page.url == reverse("identity:onboarding")
