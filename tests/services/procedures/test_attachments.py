"""A clerk's messages carry documents the same way a resident's do: a new file goes into the
resident's safe (the safe's checks) shared with the file, or a document the file already
shares is joined; the resident sees it on the timeline and downloads it (audited). Another
household's document, a document the file does not share, a file the safe refuses: refused,
and nothing of the message is written."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from documents_vault.actions.sharing import FileRef
from documents_vault.actions.uploads import add_document_for_file
from documents_vault.models import Document, DocumentEvent, Share
from identity.errors import DomainError, Forbidden, NotFound
from identity.models import AuditEntry
from identity.permissions import Capability
from services.procedures.actions import handling
from services.procedures.actions.handling import Attachment
from services.procedures.models import ProcedureEvent
from tests.documents_vault.factories import EXECUTABLE, pdf_bytes, stored_document
from tests.factories import ResidentFactory, staff_user

from .factories import clerk, in_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return ResidentFactory()


@pytest.fixture
def identity_card(resident):
    return stored_document(resident, kind="identity_document")


@pytest.fixture
def agent():
    return clerk()


@pytest.fixture
def file(resident, identity_card, agent):
    return in_review(resident, identity_card, agent)


def _asks_with(agent, file, attachment):
    return handling.transition(
        actor=agent,
        file=file,
        key="ask",
        message="Please fill in and sign the form attached.",
        attachments=[attachment],
    )


def test_a_clerks_new_file_goes_into_the_residents_safe_shared_with_the_file(resident, agent, file):
    file = _asks_with(
        agent, file, Attachment(file_name="formulaire.pdf", content=pdf_bytes(pages=5))
    )
    event = file.events.get(transition="ask")
    document = Document.objects.get(public_id=event.documents[0])
    assert (document.household_id, document.person_id) == (resident.household_id, resident.pk)
    assert document.kind == "other"
    assert document.created_by == agent
    assert Share.objects.filter(
        document=document, target_kind="procedure", target_id=file.public_id, closed_at=None
    ).exists()
    assert AuditEntry.objects.filter(
        action="staff.document_added", actor=agent, person=resident
    ).exists()


def test_the_resident_downloads_it_from_the_timeline_and_the_download_is_audited(
    resident, agent, file
):
    content = pdf_bytes(pages=2)
    file = _asks_with(agent, file, Attachment(file_name="formulaire.pdf", content=content))
    document_id = file.events.get(transition="ask").documents[0]
    decrypted = handling.download_attachment(
        actor=resident.user, file=file, document_id=document_id
    )
    assert decrypted.content == content
    assert DocumentEvent.objects.filter(
        document__public_id=document_id, action=DocumentEvent.Action.DOWNLOADED
    ).exists()
    assert AuditEntry.objects.filter(
        action="procedure.document_downloaded", actor=resident.user
    ).exists()


def test_a_document_not_on_the_timeline_is_not_downloaded_through_the_file(resident, file):
    not_joined = stored_document(resident, kind="tax_notice", content=pdf_bytes(pages=4))
    with pytest.raises(NotFound):
        handling.download_attachment(
            actor=resident.user, file=file, document_id=not_joined.public_id
        )
    neighbour = ResidentFactory()
    with pytest.raises(NotFound):
        handling.download_attachment(
            actor=neighbour.user, file=file, document_id=not_joined.public_id
        )


def test_a_clerk_joins_a_document_the_file_already_shares(agent, file, identity_card):
    event = handling.send_message(
        actor=agent,
        file=file,
        text="Your identity card is blurred on page 2.",
        attachments=[Attachment(document_id=identity_card.public_id)],
    )
    assert event.documents == [identity_card.public_id]


def _nothing_written(file, before: int, documents: int):
    file.refresh_from_db()
    assert file.state == "in_review"
    assert ProcedureEvent.objects.filter(file=file).count() == before
    assert Document.objects.count() == documents


@pytest.mark.parametrize("whose", ["other_household", "not_shared"])
def test_a_document_of_another_household_or_not_shared_is_refused_and_nothing_written(
    resident, agent, file, whose
):
    if whose == "other_household":
        document = stored_document(ResidentFactory(), kind="identity_document")
    else:
        document = stored_document(resident, kind="tax_notice", content=pdf_bytes(pages=4))
    before, documents = file.events.count(), Document.objects.count()
    with pytest.raises(DomainError) as refused:
        _asks_with(agent, file, Attachment(document_id=document.public_id))
    assert refused.value.field == "document"
    _nothing_written(file, before, documents)


def test_a_file_the_safe_refuses_refuses_the_whole_message(agent, file):
    before, documents = file.events.count(), Document.objects.count()
    with pytest.raises(DomainError) as refused:
        _asks_with(agent, file, Attachment(file_name="formulaire.pdf", content=EXECUTABLE))
    assert refused.value.field == "file"
    _nothing_written(file, before, documents)


def test_staff_send_only_documents_of_their_own_kind_and_only_for_files_they_handle(resident):
    target = FileRef(
        kind="procedure", id="x", label="A request", capability=Capability.HANDLE_PROCEDURES
    )
    with pytest.raises(DomainError) as refused:
        add_document_for_file(
            actor=clerk(),
            person=resident,
            target=target,
            file_name="proof.pdf",
            content=pdf_bytes(),
            kind="proof_of_address",
        )
    assert refused.value.field == "kind"
    with pytest.raises(Forbidden):
        add_document_for_file(
            actor=staff_user("pool_agent"),
            person=resident,
            target=target,
            file_name="letter.pdf",
            content=pdf_bytes(),
        )
    assert not Document.objects.filter(person=resident, kind__in=["other", "proof_of_address"])


# --- the pages --------------------------------------------------------------------------------


def test_pages_a_clerk_asks_with_a_letter_and_the_resident_downloads_it(
    client, resident, agent, file
):
    client.force_login(agent)
    done = client.post(
        reverse("procedures:staff_transition", args=[file.public_id, "ask"]),
        {
            "text": "Please sign the form.",
            "attachment-document": "new",
            "attachment-file": io.BytesIO(pdf_bytes(pages=3)),
        },
        format="multipart",
    )
    assert done.status_code == 302
    file.refresh_from_db()
    assert file.state == "waiting"
    document_id = file.events.get(transition="ask").documents[0]
    client.force_login(resident.user)
    page = client.get(reverse("procedures:file", args=[file.public_id])).content.decode()
    link = reverse("procedures:attachment", args=[file.public_id, document_id])
    assert link in page
    downloaded = client.get(link)
    assert downloaded.status_code == 200
    assert len(PdfReader(io.BytesIO(b"".join(downloaded.streaming_content))).pages) == 3
    client.force_login(ResidentFactory().user)
    assert client.get(link).status_code == 404


def test_pages_another_households_document_is_refused_with_a_message(client, agent, file):
    stranger = stored_document(ResidentFactory(), kind="identity_document")
    before = file.events.count()
    client.force_login(agent)
    page = client.post(
        reverse("procedures:staff_message", args=[file.public_id]),
        {"text": "See this.", "attachment-document": stranger.public_id},
        follow=True,
    )
    assert "choix valide" in page.content.decode()  # the choices are the shared documents
    assert file.events.count() == before


def test_pages_the_staff_file_offers_the_documents_it_shares(client, agent, file, identity_card):
    client.force_login(agent)
    page = client.get(reverse("procedures:staff_file", args=[file.public_id])).content.decode()
    assert identity_card.public_id in page
    assert 'enctype="multipart/form-data"' in page


# --- the API ----------------------------------------------------------------------------------


def test_api_a_clerk_joins_a_shared_document_and_another_households_is_a_422(
    client, agent, file, identity_card
):
    client.force_login(agent)
    url = f"/api/v1/procedures/{file.public_id}/transitions/ask"
    stranger = stored_document(ResidentFactory(), kind="identity_document")
    refused = client.post(
        url,
        {"message": "Is this yours?", "documents": [stranger.public_id]},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["document"]
    file.refresh_from_db()
    assert file.state == "in_review"
    asked = client.post(
        url,
        {"message": "Page 2 is blurred.", "documents": [identity_card.public_id]},
        content_type="application/json",
    )
    assert asked.status_code == 200
    assert asked.json()["timeline"][-1]["documents"] == [identity_card.public_id]


def test_pages_a_file_past_the_safes_limit_is_refused_while_received(client, settings, agent, file):
    settings.SESAME_VAULT_MAX_UPLOAD_BYTES = 1000
    before, documents = file.events.count(), Document.objects.count()
    client.force_login(agent)
    page = client.post(
        reverse("procedures:staff_message", args=[file.public_id]),
        {
            "text": "The form.",
            "attachment-document": "new",
            "attachment-file": io.BytesIO(pdf_bytes(pages=40)),
        },
        follow=True,
    )
    assert "Le fichier dépasse" in page.content.decode()
    _nothing_written(file, before, documents)
