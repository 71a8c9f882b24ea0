"""Who reads a document: its household, staff of a file it was shared with while that file is
open, a clerk giving a reason. Anyone else gets "not found", and the attempt is logged."""

import pytest
from django.urls import reverse

from documents_vault import queries
from documents_vault.actions import access, sharing
from documents_vault.actions.picking import attach_document
from documents_vault.actions.sharing import FileRef
from documents_vault.models import DocumentEvent, Share
from identity.errors import DomainError, NotFound
from identity.models import AuditEntry, StaffRole
from identity.permissions import Capability
from tests.documents_vault.factories import jpeg_bytes, pdf_bytes, stored_document
from tests.factories import FacilityFactory, ResidentFactory, staff_user

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


def card_request_file(label="Demande de carte de Camille", **kwargs) -> FileRef:
    return FileRef(
        kind="card_request",
        id="c4rd-r3qu3st",
        label=label,
        capability=Capability.EDIT_RESIDENT_FILE,
        **kwargs,
    )


def refusals() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="vault.access_refused"))


def test_another_household_guessing_an_id_gets_a_404_and_is_logged(client):
    camille = ResidentFactory()
    document = stored_document(camille, kind="tax_notice")
    neighbour = ResidentFactory()
    client.force_login(neighbour.user)
    for name in ("detail", "download", "delete"):
        response = client.get(reverse(f"documents_vault:{name}", args=[document.public_id]))
        assert response.status_code == 404
    api = client.get(f"/api/v1/vault/documents/{document.public_id}/file")
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    logged = refusals()
    assert len(logged) == 4
    assert {entry.actor for entry in logged} == {neighbour.user}
    assert {entry.household for entry in logged} == {camille.household}
    assert not document.events.filter(action=DocumentEvent.Action.DOWNLOADED).exists()


def test_a_pool_agent_reads_nothing_not_even_with_a_share_id(client):
    camille = ResidentFactory()
    document = stored_document(camille)
    share = sharing.share_document(
        actor=camille.user, document=document, target=card_request_file()
    )
    agent = staff_user(Role.POOL_AGENT, facility=FacilityFactory())
    client.force_login(agent)
    assert (
        client.get(reverse("documents_vault:shared_file", args=[share.public_id])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("documents_vault:file_with_reason", args=[document.public_id]),
            {"reason": "counter"},
        ).status_code
        == 404
    )
    response = client.get(reverse("documents_vault:household", args=[camille.household.public_id]))
    assert response.status_code == 404
    assert len(refusals()) == 3
    assert not document.events.filter(action=DocumentEvent.Action.READ_BY_STAFF).exists()


def test_staff_of_the_file_read_the_shared_document_while_it_is_open(client):
    camille = ResidentFactory(first_name="Camille")
    content = pdf_bytes(pages=2)
    document = stored_document(camille, kind="identity_document", content=content)
    share = sharing.share_document(
        actor=camille.user, document=document, target=card_request_file()
    )
    clerk = staff_user(Role.CLERK)
    clerk.first_name = "Paul"
    clerk.save()
    client.force_login(clerk)
    response = client.get(reverse("documents_vault:shared_file", args=[share.public_id]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Disposition"].startswith("attachment")
    # The resident sees who, when, for which file; so does "Who looked at my file".
    event = document.events.get(action=DocumentEvent.Action.READ_BY_STAFF)
    assert (event.actor, event.actor_role, event.share) == (clerk, Role.CLERK, share)
    [row] = [row for row in queries.events_of(document) if row.event == event]
    assert row.who.endswith("— Paul")
    audit = AuditEntry.objects.get(action="staff.document_read")
    assert audit.household == camille.household
    assert audit.target == "Demande de carte de Camille"
    # The file is closed: no more.
    assert sharing.close_file_shares(target_kind="card_request", target_id="c4rd-r3qu3st") == 1
    assert (
        client.get(reverse("documents_vault:shared_file", args=[share.public_id])).status_code
        == 404
    )
    assert refusals()[0].target.endswith("share_closed")


def test_a_revoked_share_is_a_404_and_logged(client):
    camille = ResidentFactory()
    document = stored_document(camille)
    share = sharing.share_document(
        actor=camille.user, document=document, target=card_request_file()
    )
    client.force_login(camille.user)
    response = client.post(reverse("documents_vault:revoke_share", args=[share.public_id]))
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.close_reason == Share.CloseReason.REVOKED
    clerk = staff_user(Role.CLERK)
    with pytest.raises(NotFound):
        access.read_shared_document(actor=clerk, share_public_id=share.public_id)
    assert refusals()[0].actor == clerk


def test_a_share_scoped_to_a_facility_is_read_there_only():
    camille = ResidentFactory()
    document = stored_document(camille)
    school, other_school = FacilityFactory(kind="school"), FacilityFactory(kind="school")
    share = sharing.share_document(
        actor=camille.user,
        document=document,
        target=FileRef(
            kind="canteen_absence",
            id="abs-1",
            label="Absence justifiée de Léa",
            capability=Capability.SCAN_CARDS,
            facility=school,
        ),
    )
    there = staff_user(Role.CANTEEN_AGENT, facility=school)
    elsewhere = staff_user(Role.CANTEEN_AGENT, facility=other_school)
    assert access.read_shared_document(actor=there, share_public_id=share.public_id).content
    with pytest.raises(NotFound):
        access.read_shared_document(actor=elsewhere, share_public_id=share.public_id)


def test_a_clerk_gives_a_reason_to_open_documents_outside_a_file(client):
    camille = ResidentFactory()
    document = stored_document(camille, kind="family_record_book")
    clerk = staff_user(Role.CLERK)
    client.force_login(clerk)
    url = reverse("documents_vault:household", args=[camille.household.public_id])
    page = client.get(url).content.decode()
    assert "indiquez pourquoi" in page
    assert "Livret de famille" not in page
    page = client.post(url, {"reason": "counter"}).content.decode()
    assert "Livret de famille" in page
    listed = AuditEntry.objects.get(action="staff.documents_listed")
    assert listed.reason == "counter"
    assert listed.household == camille.household
    response = client.post(
        reverse("documents_vault:file_with_reason", args=[document.public_id]),
        {"reason": "counter"},
    )
    assert response.status_code == 200
    event = document.events.get(action=DocumentEvent.Action.READ_BY_STAFF)
    assert event.reason == "counter"
    assert event.share is None
    # Without a reason, nothing.
    with pytest.raises(DomainError) as refused:
        access.read_document_with_reason(actor=clerk, public_id=document.public_id, reason="")
    assert refused.value.field == "reason"


def test_staff_accesses_appear_in_who_looked_at_my_file(client):
    camille = ResidentFactory()
    document = stored_document(camille)
    clerk = staff_user(Role.CLERK)
    access.read_document_with_reason(actor=clerk, public_id=document.public_id, reason="phone")
    client.force_login(camille.user)
    page = client.get(reverse("identity:file_accesses")).content.decode()
    assert "Document consulté" in page
    assert "staff.document_read" not in page


def test_the_document_page_lists_every_access(client):
    camille = ResidentFactory(first_name="Camille")
    camille.user.first_name = "Camille"
    camille.user.save()
    document = stored_document(camille)
    share = sharing.share_document(
        actor=camille.user, document=document, target=card_request_file()
    )
    clerk = staff_user(Role.CLERK)
    access.read_shared_document(actor=clerk, share_public_id=share.public_id)
    client.force_login(camille.user)
    page = client.get(reverse("documents_vault:detail", args=[document.public_id])).content.decode()
    assert "Consulté par un agent" in page
    assert "Demande de carte de Camille" in page
    assert clerk.first_name in page
    assert "Ajouté" in page
    assert "Partagé" in page


def test_other_apps_ask_for_a_document_picked_from_the_safe_or_uploaded_into_it():
    camille = ResidentFactory()
    photo = stored_document(camille, kind="photo", content=jpeg_bytes(), name="moi.jpg")
    picked = attach_document(
        actor=camille.user,
        person=camille,
        kinds=["photo"],
        target=card_request_file(),
        document_id=photo.public_id,
    )
    assert picked.document == photo
    uploaded = attach_document(
        actor=camille.user,
        person=camille,
        kinds=["photo"],
        target=card_request_file(label="Autre demande"),
        file_name="nouvelle.jpg",
        content=jpeg_bytes(color=(0, 0, 0)),
    )
    assert uploaded.document != photo
    assert uploaded.document.kind == "photo"
    assert uploaded.document in queries.documents_visible_to(camille.user)  # into the safe
    # Another household's document cannot be picked.
    stranger = stored_document(
        ResidentFactory(), kind="photo", content=jpeg_bytes(size=(9, 9)), name="x.jpg"
    )
    with pytest.raises(DomainError) as refused:
        attach_document(
            actor=camille.user,
            person=camille,
            kinds=["photo"],
            target=card_request_file(),
            document_id=stranger.public_id,
        )
    assert refused.value.field == "document"


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    document = stored_document(ResidentFactory())
    response = client.get(reverse("documents_vault:download", args=[document.public_id]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
