"""Every write of the kiosk app: agents' heartbeats and events, kiosk screen pairing."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from card.models import Reader
from identity.actions import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, User
from identity.permissions import Capability, has_capability

from .models import DeviceStatus, ReaderEvent, ScreenPairing

PAIRING_VALIDITY = timedelta(minutes=15)
MAX_ERROR_LENGTH = 300


def record_heartbeat(
    *,
    reader: Reader,
    agent_version: str,
    mode: str,
    reader_connected: bool,
    printer_status: str = "",
    last_error: str = "",
    queue_length: int = 0,
    snapshot_version: str = "",
    now: datetime | None = None,
) -> DeviceStatus:
    """An agent says how it is: one row per reader, overwritten (no history: the agent's own
    logs, collected by journald, keep that)."""
    if printer_status not in DeviceStatus.Printer.values:
        printer_status = DeviceStatus.Printer.UNKNOWN
    defaults = {
        "reported_at": now or timezone.now(),
        "agent_version": agent_version[:32],
        "mode": mode[:10],
        "reader_connected": reader_connected,
        "printer_status": printer_status,
        "last_error": last_error[:MAX_ERROR_LENGTH],
        "queue_length": max(0, queue_length),
        "snapshot_version": snapshot_version[:64],
    }
    try:
        with transaction.atomic():
            status, _created = DeviceStatus.objects.update_or_create(
                reader=reader, defaults=defaults
            )
    except IntegrityError:  # the first two heartbeats of a reader at once: the other won
        DeviceStatus.objects.filter(reader=reader).update(**defaults)
        status = DeviceStatus.objects.get(reader=reader)
    return status


def record_reader_event(
    *, reader: Reader, kind: str, reader_time: datetime, now: datetime | None = None
) -> ReaderEvent:
    """A card left the reader, or a card that is not a Sésame card was presented."""
    if kind not in ReaderEvent.Kind.values:
        raise DomainError(_("Unknown kind of event."), field="event", code="invalid_event")
    return ReaderEvent.objects.create(
        reader=reader, kind=kind, reader_time=reader_time, received_at=now or timezone.now()
    )


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@transaction.atomic
def create_screen_pairing(
    *, actor: User, reader: Reader, now: datetime | None = None
) -> tuple[ScreenPairing, str]:
    """A one-time code to pair a kiosk screen with this kiosk reader (shown once, as a link;
    valid 15 minutes). Previous pairings of the reader stay valid until revoked."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Your role does not allow this."))
    if reader.kind != Reader.Kind.KIOSK or reader.revoked_at is not None:
        raise DomainError(_("Only an active kiosk reader has a screen."), code="not_a_kiosk")
    now = now or timezone.now()
    code = secrets.token_urlsafe(24)
    pairing = ScreenPairing.objects.create(
        reader=reader,
        code_hash=_code_hash(code),
        created_by=actor,
        created_at=now,
        expires_at=now + PAIRING_VALIDITY,
    )
    record_audit_entry(
        actor=actor,
        action="kiosk.pairing_created",
        target=f"reader:{reader.public_id}",
        channel=AuditEntry.Channel.WEB,
    )
    return pairing, code


@transaction.atomic
def pair_screen(*, code: str, now: datetime | None = None) -> ScreenPairing:
    """The kiosk's browser opens the one-time link: the code is spent, the pairing starts."""
    now = now or timezone.now()
    pairing = (
        ScreenPairing.objects.select_for_update()
        .select_related("reader")
        .filter(code_hash=_code_hash(code or ""))
        .first()
    )
    if (
        pairing is None
        or pairing.paired_at is not None
        or pairing.revoked_at is not None
        or pairing.expires_at <= now
        or pairing.reader.revoked_at is not None
    ):
        raise DomainError(
            _("This pairing link is not valid any more: ask for a new one."),
            code="invalid_pairing",
        )
    pairing.paired_at = now
    pairing.save(update_fields=["paired_at"])
    record_audit_entry(
        actor=None,
        action="kiosk.screen_paired",
        target=f"reader:{pairing.reader.public_id}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    return pairing


@transaction.atomic
def revoke_screen_pairings(*, actor: User, reader: Reader, now: datetime | None = None) -> int:
    """Every screen paired with this reader is shut out at its next request."""
    if not has_capability(actor, Capability.MANAGE_TERRITORY):
        raise Forbidden(_("Your role does not allow this."))
    revoked = ScreenPairing.objects.filter(reader=reader, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )
    record_audit_entry(
        actor=actor,
        action="kiosk.pairings_revoked",
        target=f"reader:{reader.public_id}",
        channel=AuditEntry.Channel.WEB,
    )
    return revoked
