"""A card's identity photo, for its holder, a staff desk screen (signed URL) or a clerk."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404

from identity.actions.audit import record_audit_entry
from identity.models import AuditEntry
from identity.permissions import Capability, can_act_for, has_capability

from .. import queries
from ..models import Card


def photo(request, public_id: str):
    """A card's identity photo: for its holder (or their guardian), through a signed URL
    handed to a staff desk screen for the duration of a check, or for a clerk (audited)."""
    card = get_object_or_404(Card.objects.select_related("holder"), public_id=public_id)
    if not card.photo:
        raise Http404
    signed = queries.photo_signature_is_valid(public_id, request.GET.get("s", ""))
    if not signed and not (
        request.user.is_authenticated and can_act_for(request.user, card.holder)
    ):
        if not has_capability(request.user, Capability.EDIT_RESIDENT_FILE):
            raise PermissionDenied
        # A clerk checks a card request's photo, or a face at the counter: a staff read of
        # personal data, which the resident sees in "Who looked at my file".
        record_audit_entry(
            actor=request.user,
            action="staff.card_photo_viewed",
            person=card.holder,
            target=card.number,
            channel=AuditEntry.Channel.COUNTER,
        )
    response = FileResponse(card.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response
