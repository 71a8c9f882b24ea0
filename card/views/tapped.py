"""The card's own web address (settings.SESAME_CARD_URL): what a phone opens when it taps a
card."""

from django.shortcuts import render
from django.utils import timezone

from identity.permissions import can_act_for
from identity.ratelimit import rate_limited

from .. import credentials
from ..models import Card


def _finder_name(card: Card) -> str:
    """First name and initial: enough for the holder to recognise their card, too little for
    a finder to look anyone up."""
    last = card.holder.last_name.strip()
    return f"{card.holder.first_name} {last[:1].upper()}." if last else card.holder.first_name


@rate_limited("card.tapped", per_address="60/m")
def tapped(request):
    """What a phone opens when it taps a card: settings.SESAME_CARD_URL with the SUN message.

    The message is verified cryptographically (credentials.read), but its counter is NOT
    claimed: this page opens nothing and grants nothing, so it is not a gate entry and must not
    take part in replay protection. Claiming it would also let any passer-by with a phone move
    the counter the gates rely on, and turn an anonymous GET into a write. A replayed URL only
    shows again what its first viewer saw (a first name and an initial). A phone read still
    raises the chip's counter, so the next gate tap sees a small jump: only jumps beyond
    card.actions.taps.COUNTER_JUMP_THRESHOLD are flagged to staff."""
    raw = request.META.get("QUERY_STRING", "")
    # The MAC covers the raw characters the chip wrote: the query string is read undecoded.
    try:
        presented = credentials.read(raw, at=timezone.now())
    except credentials.InvalidCredential:
        presented = None
    if presented is None or presented.kind != "sun":
        response = render(request, "card/tapped_invalid.html", status=400)
    else:
        card = (
            Card.objects.select_related("holder")
            .filter(kind=Card.Kind.NFC, uid=presented.uid)
            .first()
        )
        if card is None:
            response = render(request, "card/tapped_invalid.html", {"unknown": True}, status=404)
        else:
            acts_for = request.user.is_authenticated and can_act_for(request.user, card.holder)
            response = render(
                request,
                "card/tapped.html",
                {"card": card, "finder_name": _finder_name(card), "acts_for": acts_for},
            )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
