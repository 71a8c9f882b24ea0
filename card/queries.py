"""Reads about cards shared by pages, the API and snapshots."""

from django.core import signing
from django.urls import reverse

from .models import Card

PHOTO_URL_MAX_AGE = 300  # seconds: long enough for a desk screen, too short to be passed on
_photo_signer = signing.TimestampSigner(salt="sesame.card.photo")


def signed_photo_url(card_public_id: str) -> str:
    """A short-lived address of a card's photo, for a staff desk screen: the signature is the
    permission, so the desk's browser needs no resident-file rights."""
    token = _photo_signer.sign(card_public_id)
    return reverse("card:photo", args=[card_public_id]) + f"?s={token}"


def photo_signature_is_valid(card_public_id: str, token: str) -> bool:
    try:
        return _photo_signer.unsign(token, max_age=PHOTO_URL_MAX_AGE) == card_public_id
    except signing.BadSignature:
        return False


def cards_of_holders(holder_ids: list[int]):
    return Card.objects.filter(holder_id__in=holder_ids).select_related("holder")
