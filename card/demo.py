"""The demo's readers and cards (idempotent; after identity and catalogue demos).

Demo readers have tokens derived from their fixed prefix, so `make tap` can act as any of
them; real readers get random tokens (card.actions.readers.register_reader)."""

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from identity import tokens
from identity.demo import RESIDENT_EMAIL
from identity.models import Person
from services.catalog.demo import KIOSK_HALL, first_pool_entrance, kiosk_hall_point
from services.catalog.models import AccessPoint

from .actions.numbers import new_card_number
from .actions.readers import READER_TOKEN_LABEL
from .models import Card, Reader

DEMO_CARD_UID = "04A1B2C3D4E5F6"
DEMO_READER_PREFIX = "demo"  # noqa: S105 - demo readers' token prefixes start with it


def demo_reader_secret(prefix: str) -> str:
    return hashlib.sha256(f"sesame-demo-reader:{prefix}".encode()).hexdigest()


def demo_reader_token(reader: Reader) -> str:
    if not reader.token_prefix.startswith(DEMO_READER_PREFIX):
        raise ValueError("Only demo readers have a derivable token.")
    return f"{READER_TOKEN_LABEL}_{reader.token_prefix}_{demo_reader_secret(reader.token_prefix)}"


def demo_card(number: str | None = None) -> Card:
    """The NFC card `make tap` and `make kiosk-demo` tap: the one numbered, or the demo
    resident's latest."""
    cards = Card.objects.filter(kind=Card.Kind.NFC, uid__isnull=False)
    card = (
        cards.filter(number=number).first()
        if number
        else cards.filter(holder__user__email=RESIDENT_EMAIL).order_by("-pk").first()
    )
    if card is None:
        raise LookupError(f"No NFC card {number or 'for the demo resident'} (make demo?).")
    return card


def demo_reader_at(access_point_id: str | None = None) -> Reader:
    """A demo reader at that access point (default: the first pool entrance)."""
    point_id = access_point_id or first_pool_entrance().public_id
    reader = Reader.objects.filter(
        access_point__public_id=point_id,
        token_prefix__startswith=DEMO_READER_PREFIX,
        revoked_at__isnull=True,
    ).first()
    if reader is None:
        raise LookupError(f"No demo reader at access point {point_id}.")
    return reader


@dataclass(frozen=True)
class DemoReader:
    name: str
    access_point: str
    token: str


@transaction.atomic
def load() -> list[DemoReader]:
    if not Reader.objects.exists():
        kinds = {
            AccessPoint.Kind.ENTRANCE: Reader.Kind.GATE,
            AccessPoint.Kind.EXIT: Reader.Kind.GATE,
            AccessPoint.Kind.DESK: Reader.Kind.DESK,
        }
        points = AccessPoint.objects.select_related("facility").exclude(name=KIOSK_HALL)
        for index, point in enumerate(points.order_by("pk")):
            prefix = f"{DEMO_READER_PREFIX}{index + 1:08d}"
            Reader.objects.create(
                name=f"{point.facility.name} — {point.name}",
                kind=kinds[point.kind],
                access_point=point,
                token_prefix=prefix,
                token_hash=tokens.hash_secret(demo_reader_secret(prefix)),
            )
        camille = Person.objects.get(user__email=RESIDENT_EMAIL)
        now = timezone.now()
        Card.objects.create(
            number=new_card_number(),
            holder=camille,
            kind=Card.Kind.NFC,
            status=Card.Status.ACTIVE,
            uid=DEMO_CARD_UID,
            requested_by=camille.user,
            validated_at=now,
            produced_at=now,
            activated_at=now,
            expires_on=timezone.localdate().replace(year=timezone.localdate().year + 6),
        )
        alex = camille.household.members.get(first_name="Alex")
        Card.objects.create(
            number=new_card_number(),
            holder=alex,
            kind=Card.Kind.PHONE,
            status=Card.Status.ACTIVE,
            requested_by=camille.user,
            activated_at=now,
        )
    _load_kiosk()
    return [
        DemoReader(reader.name, reader.access_point.public_id, demo_reader_token(reader))
        for reader in Reader.objects.select_related("access_point").filter(
            token_prefix__startswith=DEMO_READER_PREFIX
        )
    ]


DEMO_KIOSK_PREFIX = f"{DEMO_READER_PREFIX}kiosk01"  # noqa: S105 - a prefix, not a secret


def _load_kiosk() -> None:
    """A self-service kiosk in the hall of the first pool, at an access point of its own (not
    the reception desk's: the desk's screen and the kiosk's never show each other's taps):
    residents tap there to see their passes and recharge their wallet. A demo loaded when the
    kiosk shared the desk's access point gets it moved."""
    hall = kiosk_hall_point()
    if hall is None:
        return
    kiosk = Reader.objects.filter(token_prefix=DEMO_KIOSK_PREFIX).first()
    if kiosk is not None:
        if kiosk.access_point_id != hall.pk:
            Reader.objects.filter(pk=kiosk.pk).update(access_point=hall)
        return
    Reader.objects.create(
        name=f"{hall.facility.name} — {KIOSK_HALL}",
        kind=Reader.Kind.KIOSK,
        access_point=hall,
        token_prefix=DEMO_KIOSK_PREFIX,
        token_hash=tokens.hash_secret(demo_reader_secret(DEMO_KIOSK_PREFIX)),
    )


def demo_kiosk() -> Reader:
    reader = Reader.objects.filter(token_prefix=DEMO_KIOSK_PREFIX, revoked_at__isnull=True).first()
    if reader is None:
        raise LookupError("No demo kiosk (make demo?).")
    return reader
