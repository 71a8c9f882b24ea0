"""Card pages: residents' cards, the clerk's card desk, staff scanning. Thin views over
card.actions and card.queries."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from identity.permissions import can_act_for

from . import queries
from .models import Card


def photo(request, public_id: str):
    """A card's identity photo: for its holder (or their guardian), or through a signed URL
    handed to a staff desk screen for the duration of a check."""
    card = get_object_or_404(Card.objects.select_related("holder"), public_id=public_id)
    if not card.photo:
        raise Http404
    signed = queries.photo_signature_is_valid(public_id, request.GET.get("s", ""))
    if not signed and not (
        request.user.is_authenticated and can_act_for(request.user, card.holder)
    ):
        raise PermissionDenied
    response = FileResponse(card.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response
