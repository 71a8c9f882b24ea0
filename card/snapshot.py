"""Offline gate snapshots: what a reader needs to decide alone while the network is down.

A snapshot is built for one reader (so for one access point), signed with the Ed25519 key
derived from the master key (card.keys.snapshot_signing_key), and holds:

- the territory's SDM meta-read key, to decrypt a card's UID and counter;
- every ACTIVE card, with its per-card SDM file-read key (NFC) or phone-pass secret, the last
  counter the server accepted, the holder's first name and the entitlements usable at this
  access point's facility — passes and entry books of today, bookings (swimming lessons) of
  every day the snapshot is valid — ranked as `decide` picks them (cards without one are
  listed too, so the gate can answer `no_entitlement` rather than `unknown_card`);
- the cards that must be refused (suspended; replaced, revoked or expired recently).

Never the master key, nor the signing key: readers hold only the public half, fetched from
`GET /api/v1/readers/snapshot-key` and pinned. See docs/offline-readers.md for how a reader
uses it and what a stolen reader exposes.

The signature covers the canonical JSON bytes of `payload`: keys sorted, no whitespace, UTF-8
(`canonical_json`). The payload holds only strings, integers, booleans, null, lists and
objects, so any JSON library re-encodes it to the same bytes."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db.models import Q
from django.utils import timezone

from services.catalog.models import Entitlement

from . import credentials, keys
from .models import Card, Reader

SNAPSHOT_FORMAT = 1
SIGNATURE_ALGORITHM = "Ed25519"
# A reader must refuse to decide with a snapshot past its `valid_until`.
SNAPSHOT_VALIDITY = timedelta(hours=24)
# Ended cards (replaced, revoked, expired) are listed for this long after they ended: far
# longer than a snapshot lives, so a reader never meets one it was not told about, while the
# list does not grow with every card the territory ever issued. Suspended cards are always
# listed (they may come back).
ENDED_CARDS_HORIZON = timedelta(days=90)
_ENDED = (Card.Status.REPLACED, Card.Status.REVOKED, Card.Status.EXPIRED)


class InvalidSnapshot(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def canonical_json(payload: dict) -> bytes:
    """The bytes the signature covers."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public_key_bytes() -> bytes:
    return keys.snapshot_signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_info() -> dict:
    """What a reader pins: the raw Ed25519 public key (base64) and the key id snapshots carry."""
    return {
        "algorithm": SIGNATURE_ALGORITHM,
        "public_key": base64.b64encode(public_key_bytes()).decode(),
        "key_id": keys.key_fingerprint(),
    }


def _version(now: datetime, content: dict) -> str:
    """`<UTC time to the microsecond>.<first 16 hex digits of SHA-256 of the content>`.

    Fixed width, so versions compare as strings: a later snapshot has a greater version (the
    servers' clocks are kept by NTP), and a reader refuses one older than what it holds — an
    old signed snapshot replayed to it, which still lists a card revoked since, is rejected.
    The hash part tells whether anything changed: two versions with the same hash part hold
    the same cards, keys, counters and entitlements."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}.{hashlib.sha256(canonical_json(content)).hexdigest()[:16]}"


def _entitlement_summaries(
    *, holders, facility_kind: str, facility_id: int, day, last_day
) -> dict[int, list[dict]]:
    """Per holder, the entitlements usable at this facility, in the order the server's `decide`
    picks them: a pass, then a booking, then the entry book that expires first (each kind by
    `valid_until`). Passes and entry books are those usable `day` (the snapshot's first day);
    bookings are those of any day of the snapshot's window (`day` to `last_day`), so a gate
    still decides tomorrow morning's lesson with tonight's snapshot. As in `decide`, an
    entitlement tied to one facility is listed only at that facility's readers."""
    booking, pass_ = Entitlement.Kind.BOOKING, Entitlement.Kind.PASS
    rows = (
        # `holders` is a subquery: one statement whatever the number of cards.
        Entitlement.objects.filter(
            holder_id__in=holders, revoked_at__isnull=True, facility_kind=facility_kind
        )
        .filter(Q(facility__isnull=True) | Q(facility_id=facility_id))
        .filter(
            Q(kind=booking, valid_from__lte=last_day, valid_until__gte=day)
            | (
                Q(valid_from__lte=day, valid_until__gte=day)
                & ~Q(kind=booking)
                & (Q(kind=pass_) | Q(entries_left__gt=0))
            )
        )
        .values_list(
            "pk", "holder_id", "kind", "label", "valid_from", "valid_until", "entries_left"
        )
    )
    rank = {pass_: 0, booking: 1}
    ordered = sorted(rows, key=lambda r: (rank.get(r[2], 2), r[5], r[0]))
    summaries: dict[int, list[dict]] = {}
    for _pk, holder_id, kind, label, valid_from, valid_until, entries_left in ordered:
        summaries.setdefault(holder_id, []).append(
            {
                "kind": kind,
                "label": label,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat(),
                "entries_left": entries_left,
            }
        )
    return summaries


def build_snapshot(*, reader: Reader, now: datetime | None = None) -> dict:
    """The signed snapshot for this reader's access point: `{"payload", "signature", "key_id"}`.

    Four queries whatever the number of cards (the access point if not already loaded, active
    cards with their holder's first name, their entitlements, the refused cards)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    access_point = reader.access_point
    facility = access_point.facility

    active = Card.objects.filter(status=Card.Status.ACTIVE)
    card_rows = list(
        active.order_by("number").values_list(
            "number", "kind", "uid", "last_counter", "expires_on", "holder_id", "holder__first_name"
        )
    )
    summaries = _entitlement_summaries(
        holders=active.values("holder_id"),
        facility_kind=facility.kind,
        facility_id=facility.pk,
        day=day,
        last_day=timezone.localdate(now + SNAPSHOT_VALIDITY),
    )
    refused_rows = (
        Card.objects.filter(
            Q(status=Card.Status.SUSPENDED)
            | (
                Q(status__in=_ENDED)
                & (Q(ended_at__isnull=True) | Q(ended_at__gte=now - ENDED_CARDS_HORIZON))
            )
        )
        .order_by("number")
        .values_list("number", "kind", "uid", "status")
    )
    revoked = [
        {"number": number, "kind": kind, "uid": uid, "status": status}
        for number, kind, uid, status in refused_rows
    ]

    cards = []
    for number, kind, uid, last_counter, expires_on, holder_id, first_name in card_rows:
        if expires_on is not None and expires_on < day:
            # Past its date but not yet through the nightly expiry: refused like an expired one.
            revoked.append(
                {"number": number, "kind": kind, "uid": uid, "status": Card.Status.EXPIRED.value}
            )
            continue
        if kind == Card.Kind.NFC and not uid:
            continue  # cannot happen for an active card (database constraint); never guess
        card = {
            "number": number,
            "kind": kind,
            "uid": uid,
            "last_counter": last_counter,
            "expires_on": expires_on.isoformat() if expires_on else None,
            "first_name": first_name,
            "entitlements": summaries.get(holder_id, []),
        }
        if kind == Card.Kind.NFC:
            card["sdm_file_read_key"] = keys.card_file_read_key(bytes.fromhex(uid)).hex()
        else:
            card["phone_pass_secret"] = keys.phone_pass_secret(number).hex()
        cards.append(card)
    # The queries are not one consistent read: a card suspended between them would show in
    # both lists. Refusal wins.
    refused_numbers = {entry["number"] for entry in revoked}
    cards = [card for card in cards if card["number"] not in refused_numbers]
    revoked.sort(key=lambda entry: entry["number"])

    content = {
        "format": SNAPSHOT_FORMAT,
        "reader": {"id": reader.public_id, "kind": reader.kind},
        "access_point": {
            "id": access_point.public_id,
            "name": access_point.name,
            "kind": access_point.kind,
            "facility": {"id": facility.public_id, "name": facility.name, "kind": facility.kind},
        },
        "sdm_meta_read_key": keys.meta_read_key().hex(),
        "phone_pass": {
            "step_seconds": credentials.PHONE_PASS_STEP_SECONDS,
            "tolerance_steps": credentials.PHONE_PASS_TOLERANCE_STEPS,
        },
        "cards": cards,
        "revoked": revoked,
    }
    payload = {
        **content,
        "version": _version(now, content),
        "generated_at": timezone.localtime(now).isoformat(),
        "valid_until": timezone.localtime(now + SNAPSHOT_VALIDITY).isoformat(),
    }
    signature = keys.snapshot_signing_key().sign(canonical_json(payload))
    return {
        "payload": payload,
        "signature": base64.b64encode(signature).decode(),
        "key_id": keys.key_fingerprint(),
    }


def verify_snapshot(snapshot: dict, *, public_key: bytes, now: datetime | None = None) -> dict:
    """What a reader does before trusting a snapshot (reference implementation, used by the
    tests): check the signature with the pinned key, then the validity. Returns the payload;
    raises InvalidSnapshot (`bad_signature`, `expired`, `malformed`)."""
    try:
        payload = snapshot["payload"]
        signature = base64.b64decode(snapshot["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical_json(payload))
    except InvalidSignature as error:
        raise InvalidSnapshot("bad_signature") from error
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidSnapshot("malformed") from error
    try:
        valid_until = datetime.fromisoformat(payload["valid_until"])
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidSnapshot("malformed") from error
    if (now or timezone.now()) >= valid_until:
        raise InvalidSnapshot("expired")
    return payload
