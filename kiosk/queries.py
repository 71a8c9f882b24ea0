"""Reads of the kiosk app: what a kiosk screen shows now, which screen a device cookie
names, and the staff's view of every reader's health."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from card.models import Reader, Tap
from card.queries import DESK_SERVICE_REASONS
from services.catalog.queries import current_entitlements

from .models import DeviceStatus, KioskSession, KioskSettings, PrintJob, ReaderEvent, ScreenPairing

# A kiosk screen forgets the resident 30 s after their tap, or when the card is removed (but
# not in the first few seconds: a card tapped and pulled away at once must still be read).
SCREEN_IDLE_AFTER = timedelta(seconds=30)
SCREEN_MIN_DISPLAY = timedelta(seconds=5)
# While the card terminal collects a payment the screen waits for its outcome or a cancel, but
# not forever: past this, the kiosk cancels the terminal and goes home.
PAYMENT_WAIT = timedelta(minutes=3)
# A declined or abandoned payment: its message stays this long, then the home screen.
FAILED_DISPLAY = timedelta(seconds=6)
# What a kiosk offers to put on a wallet (cents): big buttons, no keyboard.
TOPUP_AMOUNTS = (10_00, 20_00, 50_00)
# The tap reasons of a card accepted as its holder's: the kiosk serves them (shows what they
# hold, their wallet, sells to them), whatever the catalogue decided about entry.
SERVED_REASONS = DESK_SERVICE_REASONS
# No heartbeat for this long: the device is shown as stale.
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class ScreenState:
    """What a kiosk screen shows. `key` changes whenever the screen must change."""

    state: str  # idle | tap | foreign_card | session
    key: str
    first_name: str = ""
    granted: bool = False
    reason: str = ""
    entitlements: tuple = ()
    tap_id: int | None = None
    holder_id: int | None = None
    session: KioskSession | None = None


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


def screen_state(
    reader: Reader, *, now: datetime | None = None, paired_at: datetime | None = None
) -> ScreenState:
    """The latest tap or event of this kiosk's reader, as its screen shows it: the holder's
    first name only, and what they hold (passes, entries left) — never more. A screen paired
    at `paired_at` shows nothing that happened before (a tap made a moment before the pairing,
    a session it started): idle until the next tap."""
    now = now or timezone.now()
    session = open_session(reader)
    if session is not None and (paired_at is None or session.tap.received_at >= paired_at):
        return _session_state(session)
    since = now - SCREEN_IDLE_AFTER
    if paired_at is not None and paired_at > since:
        since = paired_at
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
    if tap is None or KioskSession.objects.filter(tap_id=tap.pk).exists():
        return ScreenState("idle", "idle")  # no tap, or its session is over
    holder = tap.response.get("holder") or {}
    entitlements = ()
    served = tap.holder_id is not None and tap.reason in SERVED_REASONS
    if served:
        entitlements = tuple(
            current_entitlements(holder_ids=[tap.holder_id], on=timezone.localdate(now))
            .order_by("kind", "valid_until", "pk")
            .values("kind", "label", "valid_until", "entries_left", "facility_kind")
        )
    return ScreenState(
        "tap",
        f"tap-{tap.pk}",
        first_name=holder.get("first_name", ""),
        granted=tap.granted or served,
        reason=tap.reason,
        entitlements=entitlements,
        tap_id=tap.pk,
        holder_id=tap.holder_id if served else None,
    )


# --- A resident's session at a kiosk ----------------------------------------------------------
def open_session(reader: Reader) -> KioskSession | None:
    return (
        KioskSession.objects.select_related("payment", "product", "tap", "reader")
        .filter(reader=reader, ended_at__isnull=True)
        .order_by("-started_at", "-pk")
        .first()
    )


def _session_state(session: KioskSession) -> ScreenState:
    payment = session.payment
    status = payment.status if payment is not None else ""
    holder = session.tap.response.get("holder") or {}
    return ScreenState(
        "session",
        f"s-{session.pk}-{session.step}-{status}-{session.receipt_emailed_at is not None}",
        first_name=holder.get("first_name", ""),
        granted=True,
        reason=session.tap.reason,
        tap_id=session.tap_id,
        holder_id=session.holder_id,
        session=session,
    )


def session_due(session: KioskSession, *, now: datetime | None = None) -> str:
    """What must happen to an open session now, or "": the payment's outcome has come
    (`paid`, `failed`), the terminal took too long (`payment_timeout`), the failure message
    has been read (`done`), nothing was touched for 30 s (`idle`), the card was removed
    (`card_removed`) or another card tapped (`new_tap`). While the terminal collects, only
    its outcome, a cancel or the generous PAYMENT_WAIT end the session."""
    now = now or timezone.now()
    Step = KioskSession.Step
    if session.step == Step.PAYING:
        status = session.payment.status if session.payment_id else ""
        if status == "succeeded":
            return "paid"
        if status in ("failed", "cancelled"):
            return "failed"
        if now - session.last_activity_at > PAYMENT_WAIT:
            return "payment_timeout"
        return ""
    if session.step == Step.FAILED:
        return "done" if now - session.last_activity_at > FAILED_DISPLAY else ""
    if now - session.last_activity_at > SCREEN_IDLE_AFTER:
        return "idle"
    after = max(session.last_activity_at, session.tap.received_at + SCREEN_MIN_DISPLAY)
    if ReaderEvent.objects.filter(
        reader_id=session.reader_id, kind=ReaderEvent.Kind.CARD_REMOVED, received_at__gt=after
    ).exists():
        return "card_removed"
    if (
        Tap.objects.filter(
            access_point_id=session.reader.access_point_id,
            reader_id=session.reader_id,
            received_at__gt=session.tap.received_at,
        )
        .exclude(pk=session.tap_id)
        .exists()
    ):
        return "new_tap"
    return ""


def terminal_of(reader: Reader) -> str:
    """The card terminal configured beside this kiosk ("" when none)."""
    settings_row = KioskSettings.objects.filter(reader=reader).first()
    return settings_row.payment_terminal_id.strip() if settings_row else ""


def product_offers(reader: Reader, person, *, on=None) -> list:
    """The products sold at this kiosk's kind of facility, priced for `person` on the day by
    the tariff engine (with its explanation); free ones and those without a price left out."""
    from services.catalog.queries import offers_for

    kind = reader.access_point.facility.kind
    return [
        offer
        for offer in offers_for(person, on=on)
        if offer.product.facility_kind == kind and offer.price_cents
    ]


def printer_ready(reader: Reader) -> bool:
    """The kiosk's agent reported a printer that is not out of paper or in error."""
    status = DeviceStatus.objects.filter(reader=reader).values_list("printer_status", flat=True)
    value = status.first()
    return bool(value) and value not in (
        DeviceStatus.Printer.PAPER_OUT,
        DeviceStatus.Printer.ERROR,
    )


def pending_print_jobs(reader: Reader, *, limit: int = 5) -> list[PrintJob]:
    return list(
        PrintJob.objects.filter(reader=reader, status=PrintJob.Status.PENDING).select_related(
            "document", "document__regie"
        )[:limit]
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
