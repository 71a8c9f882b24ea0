"""The card request's photo and the resident's documents: the photo is picked from them or
added to them (never the same document twice), shared with the request while a clerk checks
it, copied into the card once validated, and no longer readable by staff after the decision."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from card.actions import lifecycle
from card.models import Card
from documents_vault.actions.sharing import revoke_share
from documents_vault.models import Document, Share
from identity.errors import DomainError
from identity.models import AuditEntry
from tests.card.factories import child_of, clerk, logged_in, new_photo, photo_upload
from tests.documents_vault.factories import jpeg_bytes, pdf_bytes, stored_document
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _request(client, holder, data):
    return client.post(reverse("card:request", args=[holder.public_id]), data)


def _shared_file(share_id: str) -> str:
    return reverse("documents_vault:shared_file", args=[share_id])


def test_the_request_page_offers_the_holders_photos_from_their_documents(camille):
    lea = child_of(camille, first_name="Léa")
    own = stored_document(camille, kind="photo", content=jpeg_bytes(), name="moi.jpg")
    leas = stored_document(
        lea, kind="photo", content=jpeg_bytes(color=(0, 0, 0)), name="lea.jpg", actor=camille.user
    )
    stored_document(camille, kind="tax_notice")

    page = logged_in(camille.user).get(reverse("card:request", args=[lea.public_id]))
    choices = dict(page.context["form"].fields["document"].choices)
    assert set(choices) == {leas.public_id, "new"}  # Léa's photo, not Camille's nor a notice
    assert own.public_id not in page.content.decode()
    assert 'enctype="multipart/form-data"' in page.content.decode()


def test_picking_a_photo_from_the_documents_shares_it_and_adds_no_second_document(camille):
    photo = stored_document(camille, kind="photo", content=jpeg_bytes(), name="moi.jpg")
    response = _request(logged_in(camille.user), camille, {"document": photo.public_id})
    assert response.status_code == 302

    card = Card.objects.get(holder=camille)
    assert Document.objects.filter(person=camille).count() == 1
    share = Share.objects.get(public_id=card.photo_share_id)
    assert (share.document, share.target_kind, share.target_id) == (
        photo,
        "card_request",
        card.public_id,
    )
    assert share.target_label == "Card request for Camille"
    assert share.closed_at is None


def test_a_new_photo_goes_into_the_documents_once_and_is_shared_with_the_request(camille):
    _request(logged_in(camille.user), camille, new_photo(photo_upload("moi.png", fmt="PNG")))

    card = Card.objects.get(holder=camille)
    document = Document.objects.get(person=camille)
    assert document.kind == "photo"
    assert Share.objects.get(document=document).public_id == card.photo_share_id
    # Next time, the same photo is offered instead of being asked for again.
    page = logged_in(camille.user).get(reverse("card:request", args=[camille.public_id]))
    assert document.public_id in dict(page.context["form"].fields["document"].choices)


def test_the_clerk_reads_the_photo_while_the_request_is_open_then_no_more(camille):
    _request(logged_in(camille.user), camille, new_photo(photo_upload(size=(600, 800))))
    card = Card.objects.get(holder=camille)
    desk = logged_in(clerk())

    page = desk.get(reverse("card:clerk_card", args=[card.public_id])).content.decode()
    assert _shared_file(card.photo_share_id) in page
    read = desk.get(_shared_file(card.photo_share_id))
    assert read.status_code == 200
    assert read["Cache-Control"] == "private, no-store"
    entry = AuditEntry.objects.get(action="staff.document_read")
    assert (entry.person, entry.target) == (camille, "Card request for Camille")

    desk.post(reverse("card:clerk_review", args=[card.public_id]), {"decision": "approve"})
    card.refresh_from_db()
    assert card.status == Card.Status.VALIDATED
    with card.photo.open("rb") as handle, Image.open(handle) as kept:
        assert (kept.format, kept.size) == ("JPEG", (600, 800))
    share = Share.objects.get(public_id=card.photo_share_id)
    assert share.close_reason == Share.CloseReason.FILE_CLOSED
    # The card's own copy from now on; the resident's document is out of the clerk's reach.
    assert desk.get(_shared_file(share.public_id)).status_code == 404
    assert AuditEntry.objects.filter(action="vault.access_refused").exists()
    page = desk.get(reverse("card:clerk_card", args=[card.public_id])).content.decode()
    assert reverse("card:photo", args=[card.public_id]) in page
    assert Document.objects.get(person=camille).is_deleted is False  # still the resident's


def test_a_rejection_closes_the_share_and_keeps_no_photo_on_the_card(camille):
    _request(logged_in(camille.user), camille, new_photo())
    card = Card.objects.get(holder=camille)
    desk = logged_in(clerk())
    assert desk.get(_shared_file(card.photo_share_id)).status_code == 200

    desk.post(
        reverse("card:clerk_review", args=[card.public_id]),
        {"decision": "reject", "reason": "Photo floue"},
    )
    card.refresh_from_db()
    assert card.status == Card.Status.REJECTED
    assert not card.photo
    assert desk.get(_shared_file(card.photo_share_id)).status_code == 404


def test_another_households_document_is_refused_and_nothing_is_written(camille):
    stranger = stored_document(
        ResidentFactory(), kind="photo", content=jpeg_bytes(size=(9, 9)), name="x.jpg"
    )
    response = _request(logged_in(camille.user), camille, {"document": stranger.public_id})
    assert response.status_code == 200
    assert response.context["form"].errors["document"]

    # The action refuses it too, whatever the form offered.
    with pytest.raises(DomainError) as refused:
        lifecycle.request_card(actor=camille.user, holder=camille, document_id=stranger.public_id)
    assert refused.value.field == "document"
    assert not Card.objects.exists()
    assert not Share.objects.exists()
    assert not AuditEntry.objects.filter(action="card.requested").exists()


def test_a_scan_kept_as_a_pdf_is_no_identity_photo(camille):
    scan = stored_document(camille, kind="photo", content=pdf_bytes(), name="photo.pdf")
    response = _request(logged_in(camille.user), camille, {"document": scan.public_id})
    assert response.status_code == 200
    assert response.context["form"].errors["document"] == ["The photo must be a JPEG or PNG image."]
    assert not Card.objects.exists()
    assert not Share.objects.exists()


def test_a_photo_withdrawn_by_the_resident_cannot_be_validated_only_rejected(camille):
    _request(logged_in(camille.user), camille, new_photo())
    card = Card.objects.get(holder=camille)
    revoke_share(actor=camille.user, share_public_id=card.photo_share_id)
    desk = logged_in(clerk())
    assert desk.get(_shared_file(card.photo_share_id)).status_code == 404

    response = desk.post(
        reverse("card:clerk_review", args=[card.public_id]), {"decision": "approve"}
    )
    assert response.status_code == 200
    assert "no longer shared" in " ".join(response.context["review_form"].errors["decision"])
    card.refresh_from_db()
    assert (card.status, bool(card.photo)) == (Card.Status.REQUESTED, False)

    desk.post(
        reverse("card:clerk_review", args=[card.public_id]),
        {"decision": "reject", "reason": "Photo retirée"},
    )
    card.refresh_from_db()
    assert card.status == Card.Status.REJECTED


def test_the_safes_size_limit_applies_while_the_photo_is_received(camille, settings):
    """The file is dropped as it arrives, before the page reads it (it is not even looked at:
    a file the page read would be refused as no image)."""
    settings.SESAME_VAULT_MAX_UPLOAD_BYTES = 2000
    too_large = SimpleUploadedFile("photo.jpg", b"x" * 5000, content_type="image/jpeg")
    response = _request(logged_in(camille.user), camille, new_photo(too_large))
    assert response.status_code == 413
    (error,) = response.context["form"].errors["file"]
    assert error.startswith("The file is larger than")
    assert not Card.objects.exists()
    assert not Document.objects.exists()
