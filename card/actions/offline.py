"""Offline gates: a gate downloads a signed snapshot (card.snapshot), decides alone while the
network is down, queues its taps and uploads them later in one batch, replayed here in
reader-time order."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry

from ..models import Reader, Tap
from ..snapshot import build_snapshot
from .taps import check_tap_id_and_time, process_tap

MAX_OFFLINE_BATCH = 500


@dataclass(frozen=True)
class QueuedTap:
    """A tap an offline gate decided alone, as it uploads it."""

    client_tap_id: str
    credential: str
    reader_time: datetime
    offline_granted: bool


def issue_offline_snapshot(*, reader: Reader, now: datetime | None = None) -> dict:
    """The signed snapshot for this reader. Which version each reader received is audited: after
    a theft, staff know what the device held. It holds card keys, so only devices that decide
    entries get one: gates and staff desks, not self-service kiosks in public halls."""
    if reader.kind not in {Reader.Kind.GATE, Reader.Kind.DESK}:
        raise Forbidden(_("Only gates and staff desks decide offline."))

    snapshot = build_snapshot(reader=reader, now=now)
    record_audit_entry(
        actor=None,
        action="reader.snapshot_issued",
        target=f"reader:{reader.public_id}",
        reason=snapshot["payload"]["version"],
        channel=AuditEntry.Channel.API,
    )
    return snapshot


def replay_offline_taps(
    *, reader: Reader, taps: list[QueuedTap], now: datetime | None = None
) -> list[dict]:
    """Replay a gate's queued taps in the order they happened (reader time; upload order breaks
    ties) and answer one result per tap, in the order received: tap_id, granted, reason,
    honoured.

    Each tap is its own transaction and is idempotent per tap id, so a batch sent twice, or
    twice at once, changes nothing the second time. A tap the gate granted goes through
    process_tap, judged at its reader time: when the server refuses it (the entry book was
    emptied meanwhile at another gate, the card was suspended…) it is flagged `not_honoured`
    for staff. A tap the gate refused consumes nothing, since the person did not get in. A
    reader time further ahead than MAX_READER_CLOCK_AHEAD is refused alone (`clock_skew`)."""
    if len(taps) > MAX_OFFLINE_BATCH:
        raise DomainError(
            _("At most %(count)d taps per batch.") % {"count": MAX_OFFLINE_BATCH},
            field="taps",
            code="batch_too_large",
        )
    for tap in taps:
        check_tap_id_and_time(client_tap_id=tap.client_tap_id, reader_time=tap.reader_time)
    now = now or timezone.now()
    # A batch sent again (the reader missed the answer) costs one query: the first answers.
    known = dict(
        Tap.objects.filter(
            reader=reader, client_tap_id__in={tap.client_tap_id for tap in taps}
        ).values_list("client_tap_id", "response")
    )
    results: list[dict | None] = [None] * len(taps)
    skewed = 0
    for index in sorted(range(len(taps)), key=lambda i: taps[i].reader_time):
        tap = taps[index]
        response = known.get(tap.client_tap_id)
        if response is None:
            response = process_tap(
                reader=reader,
                credential=tap.credential,
                client_tap_id=tap.client_tap_id,
                reader_time=tap.reader_time,
                offline_granted=tap.offline_granted,
                now=now,
            )
            skewed += response["reason"] == "clock_skew"
        results[index] = {
            "tap_id": tap.client_tap_id,
            "granted": response["granted"],
            "reason": response["reason"],
            "honoured": "not_honoured" not in response.get("flags", []),
        }
    if skewed:
        # One entry per upload, not per tap: a reader living in the future, staff should look.
        record_audit_entry(
            actor=None,
            action="tap.refused.clock_skew",
            target=f"reader:{reader.public_id}",
            reason=f"{skewed} offline tap(s)",
            channel=AuditEntry.Channel.SYSTEM,
        )
    return results
