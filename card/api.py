"""The readers' API: taps, offline snapshots and queued-tap uploads. Devices authenticate
with their bearer token."""

from datetime import datetime

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.security import HttpBearer

from identity.api_types import AwareInstant, ErrorOut

from . import snapshot as offline_snapshot
from .actions.offline import (
    MAX_OFFLINE_BATCH,
    QueuedTap,
    issue_offline_snapshot,
    replay_offline_taps,
)
from .actions.readers import authenticate_reader
from .actions.taps import process_tap

router = Router(tags=["cards"])


class ReaderAuth(HttpBearer):
    """`Authorization: Bearer rdr_<prefix>_<secret>`: a registered, unrevoked reader."""

    def authenticate(self, request, token: str):
        reader = authenticate_reader(token)
        if reader is not None:
            request.reader = reader
        return reader


reader_auth = ReaderAuth()


class TapIn(Schema):
    tap_id: str = Field(
        min_length=1, max_length=64, description="Client-generated, unique per reader"
    )
    credential: str = Field(
        min_length=1, max_length=1024, description="The card's SUN URL or a phone pass code"
    )
    reader_time: AwareInstant = Field(description="The reader's clock, with its offset")


class HolderOut(Schema):
    first_name: str
    photo: str | None = Field(None, description="Card id for the photo (staff desks only)")


class EntitlementOut(Schema):
    entitlement: str
    label: str
    consumed: int
    remaining: int | None
    valid_until: str | None


class TapOut(Schema):
    tap_id: str
    granted: bool
    reason: str = Field(
        description="Stable code: granted, valid, identified, exit, invalid_credential, "
        "expired_credential, unknown_card, replay, card_suspended, card_replaced, card_expired, "
        "card_revoked, card_not_active, no_entitlement, closed, capacity_reached, "
        "already_inside; at a school canteen: served, served_without_booking, already_served "
        "(docs/cards.md)"
    )
    at: datetime
    access_point: str
    holder: HolderOut | None
    entitlement: EntitlementOut | None
    flags: list[str]


@router.post("/taps", response={200: TapOut, 400: ErrorOut}, auth=reader_auth)
def tap(request, payload: TapIn):
    """Present a credential at this reader's access point. Granted and refused taps are both a
    200 with the decision; the same `tap_id` again returns the first answer."""
    return process_tap(
        reader=request.auth,
        credential=payload.credential,
        client_tap_id=payload.tap_id,
        reader_time=payload.reader_time,
    )


# --- Offline gates -------------------------------------------------------------------------


class SnapshotOut(Schema):
    payload: dict = Field(
        description="What the gate needs to decide alone: its access point, the SDM meta-read "
        "key, active cards (per-card key, last counter, first name, entitlements), refused "
        "cards, `version`, `generated_at`, `valid_until` (see docs/offline-readers.md)"
    )
    signature: str = Field(
        description="Base64 Ed25519 signature over json.dumps(payload, sort_keys=True, "
        'separators=(",", ":"), ensure_ascii=False) encoded in UTF-8'
    )
    key_id: str = Field(description="Identifies the signing key; compare with the pinned one")


class SnapshotKeyOut(Schema):
    algorithm: str
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64")
    key_id: str


class QueuedTapIn(Schema):
    tap_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Client-generated, unique per reader",
    )
    credential: str = Field(
        min_length=1, max_length=1024, description="The card's SUN URL or a phone pass code"
    )
    reader_time: AwareInstant = Field(description="When the tap happened, reader's clock")
    offline_granted: bool = Field(description="What the gate decided alone")


class TapBatchIn(Schema):
    taps: list[QueuedTapIn] = Field(min_length=1, max_length=MAX_OFFLINE_BATCH)


class QueuedTapOut(Schema):
    tap_id: str
    granted: bool = Field(description="The server's decision at the tap's time")
    reason: str = Field(
        description="As for /taps, plus clock_skew (reader time in the future) and "
        "refused_offline (the gate refused; nothing consumed)"
    )
    honoured: bool = Field(description="False when the gate let someone in the server refuses")


class TapBatchOut(Schema):
    results: list[QueuedTapOut]


@router.get("/readers/snapshot", response={200: SnapshotOut, 403: ErrorOut}, auth=reader_auth)
def reader_snapshot(request, response: HttpResponse):
    """The signed snapshot an offline gate decides with, for this reader's access point (gates
    and staff desks; a kiosk gets a 403). It holds card keys: never cached by a proxy."""
    response["Cache-Control"] = "no-store"
    return issue_offline_snapshot(reader=request.auth)


@router.get("/readers/snapshot-key", response=SnapshotKeyOut, auth=None)
def reader_snapshot_key(request):
    """The public key snapshots are signed with, for readers to pin (no authentication)."""
    return offline_snapshot.public_key_info()


@router.post("/taps/batch", response={200: TapBatchOut, 400: ErrorOut}, auth=reader_auth)
def tap_batch(request, payload: TapBatchIn):
    """Upload the taps an offline gate queued (at most 500). They are replayed in reader-time
    order; one result per tap comes back in the order sent. Sending a batch again changes
    nothing."""
    results = replay_offline_taps(
        reader=request.auth,
        taps=[
            QueuedTap(
                client_tap_id=tap.tap_id,
                credential=tap.credential,
                reader_time=tap.reader_time,
                offline_granted=tap.offline_granted,
            )
            for tap in payload.taps
        ],
    )
    return {"results": results}
