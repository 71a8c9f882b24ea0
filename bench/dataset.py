"""The benchmark's data in its own PostgreSQL database (idempotent; needs Django set up).

One territory, commune, pool, entrance and gate reader; `cards` residents (one household
each) with an ACTIVE NFC card of a known UID and a pool pass valid today, so every tap is
granted through the full pipeline (the pass is chosen, nothing is consumed). A few extra
"probe" cards serve the in-process SQL count and are never used by the load generator.

Rows are bulk-created in batches; a second run only tops up what is missing, resets the
counters of every bench card to 0 and deletes the previous runs' taps, so runs start equal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from card.actions.numbers import luhn_check_digit
from card.actions.readers import READER_TOKEN_LABEL
from card.models import Card, Reader, Tap
from identity import tokens
from identity.models import Commune, Facility, Household, Person, Territory
from services.catalog.models import AccessPoint, Entitlement

UID_PREFIX = "BE"  # bench UIDs: BE + 12 hex digits (7 bytes, like a real chip)
NUMBER_PREFIX = "9259"  # bench card numbers: 9259 + 11 digits + Luhn
PROBE_CARDS = 32
BATCH = 2000
READER_NAME = "Banc d'essai — entrée"
LAST_NAME = "Banc-Essai"


def uid_for(index: int) -> str:
    return f"{UID_PREFIX}{index:012X}"


def number_for(index: int) -> str:
    body = f"{NUMBER_PREFIX}{index:011d}"
    return body + luhn_check_digit(body)


@dataclass(frozen=True)
class BenchData:
    reader_token: str
    reader_id: int
    access_point_id: int
    load_uids: list[str]  # the load generator's cards
    probe_uids: list[str]  # the in-process SQL count's cards


def _place() -> AccessPoint:
    territory, _ = Territory.objects.get_or_create(name="Territoire du banc d'essai")
    commune, _ = Commune.objects.get_or_create(
        insee_code="99999",
        defaults={"territory": territory, "name": "Banc-sur-Essai", "postcode": "99999"},
    )
    facility, _ = Facility.objects.get_or_create(
        commune=commune, name="Piscine du banc d'essai", defaults={"kind": Facility.Kind.POOL}
    )
    point, _ = AccessPoint.objects.get_or_create(
        facility=facility, name="Entrée", defaults={"kind": AccessPoint.Kind.ENTRANCE}
    )
    return point


def _reader(point: AccessPoint) -> tuple[Reader, str]:
    """A gate reader with a fresh random token each run (the token is never printed)."""
    new = tokens.new_token(READER_TOKEN_LABEL)
    reader = Reader.objects.filter(name=READER_NAME).first()
    if reader is None:
        reader = Reader.objects.create(
            name=READER_NAME,
            kind=Reader.Kind.GATE,
            access_point=point,
            token_prefix=new.prefix,
            token_hash=new.key_hash,
        )
    else:
        Reader.objects.filter(pk=reader.pk).update(
            token_prefix=new.prefix, token_hash=new.key_hash, revoked_at=None, access_point=point
        )
    return reader, new.raw


def _missing_indexes(total: int) -> list[int]:
    existing = set(Card.objects.filter(uid__startswith=UID_PREFIX).values_list("uid", flat=True))
    return [i for i in range(total) if uid_for(i) not in existing]


def _create_holders(indexes: list[int], today: date) -> None:
    now = timezone.now()
    valid_from = today.replace(month=1, day=1)
    valid_until = date(today.year + 1, 12, 31)
    expires_on = date(today.year + 6, 1, 1)
    for start in range(0, len(indexes), BATCH):
        chunk = indexes[start : start + BATCH]
        households = Household.objects.bulk_create([Household() for _ in chunk])
        people = Person.objects.bulk_create(
            [
                Person(
                    household=household,
                    role=Person.Role.ADULT,
                    first_name=f"Banc{index:05d}",
                    last_name=LAST_NAME,
                    birth_date=date(1980, 1, 1),
                )
                for household, index in zip(households, chunk, strict=True)
            ]
        )
        Card.objects.bulk_create(
            [
                Card(
                    number=number_for(index),
                    holder=person,
                    kind=Card.Kind.NFC,
                    status=Card.Status.ACTIVE,
                    uid=uid_for(index),
                    last_counter=0,
                    validated_at=now,
                    produced_at=now,
                    activated_at=now,
                    expires_on=expires_on,
                )
                for person, index in zip(people, chunk, strict=True)
            ]
        )
        Entitlement.objects.bulk_create(
            [
                Entitlement(
                    holder=person,
                    kind=Entitlement.Kind.PASS,
                    facility_kind=Facility.Kind.POOL,
                    label="Pass annuel piscines (banc d'essai)",
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
                for person in people
            ]
        )


def prepare(*, cards: int) -> BenchData:
    """Create or top up the bench data and reset it for a new run."""
    total = cards + PROBE_CARDS
    today = timezone.localdate()
    with transaction.atomic():
        point = _place()
        reader, token = _reader(point)
        missing = _missing_indexes(total)
        _create_holders(missing, today)
        bench_cards = Card.objects.filter(uid__startswith=UID_PREFIX)
        bench_cards.update(
            last_counter=0, previous_counter=-1, status=Card.Status.ACTIVE, suspended_at=None
        )
        # Passes stay valid whatever the day the benchmark runs.
        Entitlement.objects.filter(holder__last_name=LAST_NAME).update(
            valid_from=today.replace(month=1, day=1),
            valid_until=date(today.year + 1, 12, 31),
            revoked_at=None,
        )
        # Previous runs' taps: a queryset delete (Tap rows are append-only one by one).
        Tap.objects.filter(access_point=point).delete()
    with connection.cursor() as cursor:  # outside the transaction: VACUUM cannot run in one
        for model in (Card, Tap, Entitlement, Person):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return BenchData(
        reader_token=token,
        reader_id=reader.pk,
        access_point_id=point.pk,
        load_uids=[uid_for(i) for i in range(cards)],
        probe_uids=[uid_for(i) for i in range(cards, total)],
    )
