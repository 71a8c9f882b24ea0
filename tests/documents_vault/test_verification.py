"""The clerks' queue: proofs residents sent are verified (and what they prove is trusted from
then on) or rejected with a reason the resident reads."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from documents_vault import queries
from documents_vault.models import DocumentEvent, DocumentVersion
from identity.models import AuditEntry, FamilyQuotient, Person, StaffRole
from tests.documents_vault.factories import pdf_bytes, stored_document
from tests.factories import PersonFactory, ResidentFactory, staff_user, with_totp

pytestmark = pytest.mark.django_db

Role = StaffRole.Role


@pytest.fixture
def clerk(client):
    user = staff_user(Role.CLERK)
    user.first_name = "Paul"
    user.save()
    client.force_login(user)
    return user


def waiting(document) -> DocumentVersion:
    return queries.version_under_verification(document)


def test_proofs_wait_in_the_queue_oldest_first(client, clerk):
    camille = ResidentFactory(first_name="Camille", last_name="Martin")
    first = stored_document(camille, kind="proof_of_address")
    second = stored_document(camille, kind="caf_certificate", content=pdf_bytes(pages=2))
    stored_document(camille, kind="vaccination_record", content=pdf_bytes(pages=3))  # not checked
    assert list(queries.verification_queue()) == [waiting(first), waiting(second)]
    page = client.get(reverse("documents_vault:queue")).content.decode()
    assert "Justificatif de domicile — Camille Martin" in page
    assert "Attestation CAF — Camille Martin" in page
    assert "Carnet de vaccination" not in page


def test_opening_a_proof_in_the_queue_is_recorded_for_the_resident(client, clerk):
    camille = ResidentFactory()
    document = stored_document(camille, kind="proof_of_address")
    page = client.get(reverse("documents_vault:review", args=[waiting(document).public_id]))
    share = queries.open_verification_share(document)
    assert reverse("documents_vault:shared_file", args=[share.public_id]) in page.content.decode()
    response = client.get(reverse("documents_vault:shared_file", args=[share.public_id]))
    assert response.status_code == 200
    event = document.events.get(action=DocumentEvent.Action.READ_BY_STAFF)
    assert event.share.target_label == "Vérification par la mairie"
    assert AuditEntry.objects.filter(action="staff.document_read", actor=clerk).exists()


def test_a_verified_proof_of_address_makes_the_household_resident_from_its_date(client, clerk):
    camille = ResidentFactory()
    document = stored_document(camille, kind="proof_of_address")
    proof_date = timezone.localdate() - timedelta(days=12)
    response = client.post(
        reverse("documents_vault:review", args=[waiting(document).public_id]),
        {"decision": "verify", "proof_date": proof_date.isoformat()},
    )
    assert response.status_code == 302
    address = camille.household.addresses.get()
    assert address.verified_from == proof_date
    assert address.verified_by == clerk
    assert address.evidence == f"vault:{document.public_id}"
    version = document.versions.get()
    assert version.verification == DocumentVersion.Verification.VERIFIED
    assert queries.open_verification_share(document) is None  # out of the queue
    assert list(queries.verification_queue()) == []
    # the audit trail names the proof in words (the trail's Détail), not by its code
    assert AuditEntry.objects.get(action="staff.document_verified").target == (
        "Justificatif de domicile"
    )


def test_a_verified_caf_certificate_records_the_verified_quotient(client, clerk):
    camille = ResidentFactory()
    document = stored_document(camille, kind="caf_certificate")
    year = timezone.localdate().year
    response = client.post(
        reverse("documents_vault:review", args=[waiting(document).public_id]),
        {
            "decision": "verify",
            "quotient_amount": "640",
            "quotient_from": f"{year}-01-01",
            "quotient_until": f"{year}-12-31",
        },
    )
    assert response.status_code == 302
    quotient = camille.household.quotients.get()
    assert (quotient.amount, quotient.source) == (640, FamilyQuotient.Source.VERIFIED)
    assert quotient.evidence == f"vault:{document.public_id}"


def test_a_verified_family_record_book_confirms_the_members_it_lists(client, clerk):
    camille = ResidentFactory()
    lea = PersonFactory(household=camille.household, role=Person.Role.CHILD)
    document = stored_document(camille, kind="family_record_book")
    response = client.post(
        reverse("documents_vault:review", args=[waiting(document).public_id]),
        {"decision": "verify", "member_ids": [lea.public_id]},
    )
    assert response.status_code == 302
    lea.refresh_from_db()
    assert lea.verified_by == clerk


def test_verifying_needs_what_the_proof_says(client, clerk):
    camille = ResidentFactory()
    document = stored_document(camille, kind="proof_of_address")
    url = reverse("documents_vault:review", args=[waiting(document).public_id])
    response = client.post(url, {"decision": "verify"})
    assert response.status_code == 400
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(url, {"decision": "verify", "proof_date": future})
    assert response.status_code == 400
    assert "dans le futur" in response.content.decode()
    assert waiting(document).verification == "pending"


def test_a_rejection_says_why_to_the_resident(client, clerk, django_capture_on_commit_callbacks):
    camille = ResidentFactory()
    document = stored_document(camille, kind="tax_notice")
    url = reverse("documents_vault:review", args=[waiting(document).public_id])
    assert client.post(url, {"decision": "reject", "reason": ""}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": "reject", "reason": "Avis de 2019, trop ancien"})
    assert response.status_code == 302
    version = document.versions.get()
    assert version.verification == "rejected"
    assert version.rejection_reason == "Avis de 2019, trop ancien"
    assert mail.outbox[0].to == [camille.user.email]
    assert "Avis de 2019, trop ancien" in mail.outbox[0].body
    client.force_login(camille.user)
    page = client.get(reverse("documents_vault:list")).content.decode()
    assert "Refusé par la mairie\u00a0: Avis de 2019, trop ancien" in page  # French typography


@pytest.mark.parametrize(
    "role", [Role.POOL_AGENT, Role.LIBRARIAN, Role.FINANCE_OFFICER, Role.ADMIN]
)
def test_only_clerks_reach_the_queue(client, role):
    client.force_login(staff_user(role))
    assert client.get(reverse("documents_vault:queue")).status_code == 403


def test_a_resident_does_not_reach_the_queue(client):
    client.force_login(ResidentFactory().user)
    assert client.get(reverse("documents_vault:queue")).status_code == 403


def test_a_clerk_does_not_verify_their_own_household(client):
    clerk_resident = ResidentFactory()
    StaffRole.objects.create(user=clerk_resident.user, role=Role.CLERK)
    with_totp(clerk_resident.user)
    document = stored_document(clerk_resident, kind="proof_of_address")
    client.force_login(clerk_resident.user)
    response = client.post(
        reverse("documents_vault:review", args=[waiting(document).public_id]),
        {"decision": "verify", "proof_date": date.today().isoformat()},
    )
    assert response.status_code == 403
    assert waiting(document).verification == "pending"


def test_the_staff_home_links_the_queue_for_clerks(client, clerk):
    page = client.get(reverse("portal:staff_home")).content.decode()
    assert reverse("documents_vault:queue") in page
