"""Reads of the kiosk app: what a kiosk screen shows now, which screen a device cookie
names, and the staff's view of every reader's health."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from card.models import Reader, Tap
from services.catalog.queries import current_entitlements

from .models import DeviceStatus, ReaderEvent, ScreenPairing

# A kiosk screen forgets the resident 30 s after their tap, or when the card is removed (but
# not in the first few seconds: a card tapped and pulled away at once must still be read).
SCREEN_IDLE_AFTER = timedelta(seconds=30)
SCREEN_MIN_DISPLAY = timedelta(seconds=5)
# No heartbeat for this long: the device is shown as stale.
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class ScreenState:
    """What a kiosk screen shows. `key` changes whenever the screen must change."""

    state: str  # idle | tap | foreign_card
    key: str
    first_name: str = ""
    granted: bool = False
    reason: str = ""
    entitlements: tuple = ()


def paired_screen(pairing_id: str, reader_public_id: str) -> ScreenPairing | None:
    """The live pairing a screen cookie names, for this kiosk reader, or None."""
    return (
        ScreenPairing.objects.select_related("reader")
        .filter(
            public_id=pairing_id,
            reader__public_id=reader_public_id,
            reader__kind=Reader.Kind.KIOSK,
            reader__revoked_at__isnull=True,
            paired_at__isnull=False,
            revoked_at__isnull=True,
        )
        .first()
    )


def screen_state(reader: Reader, *, now: datetime | None = None) -> ScreenState:
    """The latest tap or event of this kiosk's reader, as its screen shows it: the holder's
    first name only, and what they hold (passes, entries left) — never more."""
    now = now or timezone.now()
    since = now - SCREEN_IDLE_AFTER
    tap = (
        # The access point first: the (access_point, -received_at) index serves this poll.
        Tap.objects.filter(
            access_point_id=reader.access_point_id, reader=reader, received_at__gte=since
        )
        .only("pk", "received_at", "granted", "reason", "holder_id", "response")
        .first()
    )
    event = ReaderEvent.objects.filter(reader=reader, received_at__gte=since).first()
    if event is not None and (tap is None or event.received_at > tap.received_at):
        if event.kind == ReaderEvent.Kind.FOREIGN_CARD:
            return ScreenState("foreign_card", f"event-{event.pk}")
        if tap is None or event.received_at - tap.received_at >= SCREEN_MIN_DISPLAY:
            return ScreenState("idle", "idle")
    if tap is None:
        return ScreenState("idle", "idle")
    holder = tap.response.get("holder") or {}
    entitlements = ()
    if tap.holder_id is not None and tap.reason in {"valid", "granted", "identified"}:
        entitlements = tuple(
            current_entitlements(holder_ids=[tap.holder_id], on=timezone.localdate(now))
            .order_by("kind", "valid_until", "pk")
            .values("kind", "label", "valid_until", "entries_left", "facility_kind")
        )
    return ScreenState(
        "tap",
        f"tap-{tap.pk}",
        first_name=holder.get("first_name", ""),
        granted=tap.granted,
        reason=tap.reason,
        entitlements=entitlements,
    )


@dataclass(frozen=True)
class DeviceRow:
    reader: Reader
    status: DeviceStatus | None
    stale: bool
    last_tap_at: datetime | None


def device_rows(*, now: datetime | None = None) -> list[DeviceRow]:
    """Every active reader with its last heartbeat (if its agent sends any) and whether it
    is stale (no heartbeat for 2 minutes). No personal data."""
    now = now or timezone.now()
    readers = (
        Reader.objects.filter(revoked_at__isnull=True)
        .select_related("access_point__facility", "device_status")
        .order_by("access_point__facility__name", "name")
    )
    rows = []
    for reader in readers:
        status = getattr(reader, "device_status", None)
        reported = status.reported_at if status else None
        rows.append(
            DeviceRow(
                reader=reader,
                status=status,
                stale=reported is None or now - reported > STALE_AFTER,
                last_tap_at=reader.last_seen_at,
            )
        )
    return rows


def kiosk_readers() -> list[Reader]:
    return list(
        Reader.objects.filter(Q(kind=Reader.Kind.KIOSK), revoked_at__isnull=True).select_related(
            "access_point__facility"
        )
    )
