"""Reads about cards shared by pages, the API and snapshots."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from identity.models import AuditEntry, Person
from identity.permissions import Capability, has_capability
from services.catalog.models import AccessPoint

from .models import Card, Tap

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


# --- Staff desk ----------------------------------------------------------------------------

DESK_HISTORY_LENGTH = 10


def desk_access_points(user) -> list[AccessPoint]:
    """The access points where `user` may check cards: SCAN_CARDS at their facility."""
    points = AccessPoint.objects.select_related("facility").order_by("facility__name", "name")
    return [
        point
        for point in points
        if has_capability(user, Capability.SCAN_CARDS, facility=point.facility)
    ]


# A desk serves the holder of a card checked there (services' desk actions): the tap must be
# this recent, recorded at that access point by this staff member or by a reader there, and
# name a holder whose card was accepted as theirs (the catalogue then decided, granted or not).
DESK_SERVICE_WINDOW = timedelta(minutes=5)
DESK_SERVICE_REASONS = frozenset(
    {
        "granted",
        "valid",
        "identified",
        "exit",
        "no_entitlement",
        "closed",
        "capacity_reached",
        "already_inside",
    }
)


def tap_identifies_holder(tap: Tap, *, access_point: AccessPoint, user, now: datetime) -> bool:
    """Whether staff at `access_point` may act for the holder of `tap` (see above)."""
    return (
        tap.holder_id is not None
        and tap.access_point_id == access_point.pk
        and (tap.staff_id == user.pk if tap.reader_id is None else tap.staff_id is None)
        and not tap.offline
        and tap.reason in DESK_SERVICE_REASONS
        and now - DESK_SERVICE_WINDOW <= tap.received_at <= now
    )


def desk_service_tap(access_point: AccessPoint, user, tap_id: str) -> Tap | None:
    """The tap a desk form names (its id, as the desk shows it), if it identifies a holder
    staff may serve now; the holder and their household come with it."""
    if not str(tap_id).isdigit():
        return None
    tap = (
        Tap.objects.select_related("holder__household")
        .filter(pk=int(tap_id), access_point=access_point)
        .first()
    )
    now = timezone.now()
    if tap is None or not tap_identifies_holder(tap, access_point=access_point, user=user, now=now):
        return None
    return tap


def desk_taps(access_point: AccessPoint, *, limit: int = DESK_HISTORY_LENGTH) -> list[Tap]:
    """The newest taps at an access point (readers' and staff's), newest first."""
    return list(
        Tap.objects.filter(access_point=access_point)
        .select_related("card")
        .order_by("-received_at", "-pk")[:limit]
    )


# --- Card pages (Mes cartes, the Mon espace panel, the clerk's card desk) -------------------


def people_acted_for(person: Person) -> list[Person]:
    """The resident and the children they are a guardian of: whose cards they manage
    (identity.permissions.can_act_for decides the same way)."""
    wards = Person.objects.filter(guardians__guardian=person).order_by("birth_date", "pk")
    return [person, *wards]


@dataclass
class HolderCards:
    """One person's cards as Mes cartes shows them: the live card and phone pass (at most
    one of each, a database constraint), and the ended ones."""

    person: Person
    card: Card | None = None
    phone_pass: Card | None = None
    history: list[Card] = field(default_factory=list)

    @property
    def live(self) -> list[Card]:
        return [card for card in (self.card, self.phone_pass) if card is not None]


def cards_overview(person: Person) -> list[HolderCards]:
    """The cards of a resident and of the children in their care, in two queries."""
    people = people_acted_for(person)
    rows = {someone.pk: HolderCards(person=someone) for someone in people}
    for card in Card.objects.filter(holder_id__in=rows).order_by("-requested_at", "-pk"):
        row = rows[card.holder_id]
        card.holder = row.person
        if card.status not in Card.LIVE_STATUSES:
            row.history.append(card)
        elif card.kind == Card.Kind.NFC:
            row.card = card
        else:
            row.phone_pass = card
    _attach_rejection_reasons([card for row in rows.values() for card in row.history])
    return list(rows.values())


def _attach_rejection_reasons(cards: list[Card]) -> None:
    """A rejected request tells the resident why: the clerk's reason is in the audit entry."""
    rejected = {card.number: card for card in cards if card.status == Card.Status.REJECTED}
    if not rejected:
        return
    for number, reason in AuditEntry.objects.filter(
        action="card.rejected", target__in=rejected
    ).values_list("target", "reason"):
        rejected[number].rejection_reason = reason


def live_cards_for(person: Person) -> list[Card]:
    """The live cards and passes of a resident and of the children in their care (the cards
    panel of Mon espace)."""
    return [card for row in cards_overview(person) for card in row.live]


def card_queue(status: str):
    """Physical cards at one step of production, oldest request first (the clerk's queue)."""
    return (
        Card.objects.filter(kind=Card.Kind.NFC, status=status)
        .select_related("holder")
        .order_by("requested_at", "pk")
    )
