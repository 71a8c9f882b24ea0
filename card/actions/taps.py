"""The tap pipeline: a credential presented at a reader is authenticated, its counter claimed,
the card's status checked, the catalogue asked, and the tap logged with the answer it gets.

A tap costs at most four SQL statements when granted (asserted in tests/card/test_tap_budget):
claim the counter on the card row (one UPDATE … RETURNING, which also row-locks the card so two
readers presenting the same message are serialised), the catalogue's choice and consumption
(a locked SELECT, then an UPDATE for an entry book), and the INSERT of the tap. A facility that
counts people in adds two (docs/cards.md). Everything else (idempotent retries, replays,
unknown cards) is a refusal path and may cost more."""

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError
from identity.models import AuditEntry, Person, User
from services.catalog.actions import AccessDecision, decide
from services.catalog.models import AccessPoint

from .. import credentials
from ..models import Card, Reader, Tap

logger = logging.getLogger(__name__)

Status = Card.Status

# A physical card's counter rises by one per tap; a bigger jump means taps the server never
# saw — read by a skimmer, or an offline gate that has not uploaded yet. Staff are told.
COUNTER_JUMP_THRESHOLD = 20
# A reader's clock may run ahead a little; further ahead is a misconfigured or forged reader.
MAX_READER_CLOCK_AHEAD = timedelta(minutes=2)
TAP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Refusals worth an audit entry: someone may be trying to fool a gate.
SECURITY_REFUSALS = {
    "invalid_credential",
    "replay",
    "card_suspended",
    "card_revoked",
    "card_replaced",
}

STATUS_REFUSAL = {
    Status.SUSPENDED: "card_suspended",
    Status.REPLACED: "card_replaced",
    Status.EXPIRED: "card_expired",
    Status.REVOKED: "card_revoked",
}


@dataclass(frozen=True)
class ClaimedCard:
    """The card row as the counter claim returned it (one statement, see _claim_counter)."""

    pk: int
    public_id: str
    number: str
    status: str
    holder_id: int
    expires_on: date | None
    previous_counter: int
    first_name: str


_CLAIM_BY = {"sun": "uid", "phone": "number"}


def _claim_counter(*, kind: str, key: str, counter: int) -> ClaimedCard | None:
    """Accept `counter` for the card if it is greater than the last one accepted, in one
    UPDATE … RETURNING (PostgreSQL, and SQLite ≥ 3.35). The row lock it takes is held until
    the tap commits, so a second reader presenting the same message waits, then finds the
    counter already taken: a replay. Raw SQL because the ORM's update() returns no row."""
    column = _CLAIM_BY[kind]
    card_table = Card._meta.db_table
    person_table = Person._meta.db_table
    sql = (
        f"UPDATE {card_table} SET previous_counter = last_counter, last_counter = %s "  # noqa: S608
        f"WHERE {column} = %s AND kind = %s AND last_counter < %s "
        f"RETURNING id, public_id, number, status, holder_id, expires_on, previous_counter, "
        f"(SELECT first_name FROM {person_table} WHERE {person_table}.id = holder_id)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [counter, key, kind if kind == "phone" else "nfc", counter])
        row = cursor.fetchone()
    if row is None:
        return None
    expires_on = row[5]
    if isinstance(expires_on, str):  # SQLite returns dates as text through a raw cursor
        expires_on = date.fromisoformat(expires_on)
    return ClaimedCard(row[0], row[1], row[2], row[3], row[4], expires_on, row[6], row[7])


def log_tap(
    *,
    reader: Reader | None,
    client_tap_id: str,
    access_point: AccessPoint,
    at: datetime,
    reader_time: datetime,
    credential: str,
    granted: bool,
    reason: str,
    card: "ClaimedCard | Card | None" = None,
    first_name: str | None = None,
    decision: AccessDecision | None = None,
    counter: int | None = None,
    flags: list[str] | None = None,
    counter_jump: bool = False,
    offline: bool = False,
    not_honoured: bool = False,
    staff: User | None = None,
    staff_reason: str = "",
) -> dict:
    """Write the tap to the log and return the answer it records — the one a retried tap id
    gets back. The holder is named by first name only; staff desks also get the card id for
    the photo (gates and kiosks never do)."""
    holder = None
    if first_name is not None:
        holder = {"first_name": first_name}
        if reader is None or reader.kind == Reader.Kind.DESK:
            holder["photo"] = card.public_id if card is not None else None
    flags = list(flags or [])
    if counter_jump and "counter_jump" not in flags:
        flags.append("counter_jump")
    if not_honoured:
        flags.append("not_honoured")
    response = {
        "tap_id": client_tap_id,
        "granted": granted,
        "reason": reason,
        "at": at.isoformat(),
        "access_point": access_point.public_id,
        "holder": holder,
        "entitlement": decision.as_dict() if decision and decision.entitlement_id else None,
        "flags": flags,
    }
    Tap.objects.create(
        reader=reader,
        client_tap_id=client_tap_id,
        access_point=access_point,
        card_id=card.pk if card is not None else None,
        holder_id=card.holder_id if card is not None else None,
        credential=credential,
        counter=counter,
        reader_time=reader_time,
        received_at=at,
        granted=granted,
        reason=reason,
        counter_jump=counter_jump,
        offline=offline,
        not_honoured=not_honoured,
        staff=staff,
        staff_reason=staff_reason,
        response=response,
    )
    return response


def audit_refusal(
    reason: str,
    *,
    holder_id: int | None,
    reader: Reader | None,
    access_point: AccessPoint,
    staff: User | None = None,
) -> None:
    """Refusals worth a look (SECURITY_REFUSALS) go to the audit trail and the log."""
    if reason not in SECURITY_REFUSALS:
        return
    record_audit_entry(
        actor=staff,
        action=f"tap.refused.{reason}",
        person=Person.objects.filter(pk=holder_id).first() if holder_id else None,
        target=f"reader:{reader.public_id}" if reader else f"access_point:{access_point.public_id}",
        channel=AuditEntry.Channel.COUNTER if staff else AuditEntry.Channel.SYSTEM,
    )
    logger.warning(
        "tap refused reason=%s reader=%s holder=%s", reason, getattr(reader, "pk", None), holder_id
    )


def _existing_answer(reader: Reader | None, client_tap_id: str) -> dict | None:
    if reader is None:
        return None
    return (
        Tap.objects.filter(reader=reader, client_tap_id=client_tap_id)
        .values_list("response", flat=True)
        .first()
    )


def check_tap_input(
    *, reader: Reader, client_tap_id: str, reader_time: datetime, now: datetime
) -> None:
    if not TAP_ID.match(client_tap_id or ""):
        raise DomainError(
            _("A tap id is 1 to 64 letters, digits, '-' or '_'."),
            field="tap_id",
            code="invalid_tap_id",
        )
    if timezone.is_naive(reader_time):
        raise DomainError(
            _("The reader time needs a time zone."), field="reader_time", code="invalid_reader_time"
        )
    if reader_time - now > MAX_READER_CLOCK_AHEAD:
        # A reader living in the future could pre-date taps; staff should look at it.
        record_audit_entry(
            actor=None,
            action="tap.refused.clock_skew",
            target=f"reader:{reader.public_id}",
            channel=AuditEntry.Channel.SYSTEM,
        )
        raise DomainError(
            _("The reader's clock is ahead of the server's."),
            field="reader_time",
            code="clock_skew",
        )


def process_tap(
    *,
    reader: Reader,
    credential: str,
    client_tap_id: str,
    reader_time: datetime,
    offline_granted: bool | None = None,
    now: datetime | None = None,
) -> dict:
    """Authenticate the credential, claim its counter, ask the catalogue, log the tap, answer.

    The same tap id from the same reader returns the first answer and consumes nothing more,
    also when the two copies arrive at the same instant.

    `offline_granted` is what a gate decided alone while the network was down (a queued tap
    uploaded later): the tap is judged at its reader time; when the gate let someone in that
    the server refuses, the tap is flagged `not_honoured` for staff; when the gate refused,
    nothing is consumed. A queued tap dated in the future is refused (`clock_skew`) without
    trusting anything in it."""
    offline = offline_granted is not None
    now = now or timezone.now()
    refusal = None
    if not offline:
        check_tap_input(
            reader=reader, client_tap_id=client_tap_id, reader_time=reader_time, now=now
        )
    elif reader_time - now > MAX_READER_CLOCK_AHEAD:
        refusal = "clock_skew"
    # Online, the server's clock decides; an offline tap is judged at the time it happened.
    at = reader_time if offline and refusal is None else now
    access_point = reader.access_point
    try:
        with transaction.atomic():
            return run_tap(
                reader=reader,
                credential=credential,
                client_tap_id=client_tap_id,
                reader_time=reader_time,
                at=at,
                access_point=access_point,
                offline_granted=offline_granted,
                refusal=refusal,
            )
    except IntegrityError:
        # The same tap id raced in from a retry: the first one won; give its answer.
        answer = _existing_answer(reader, client_tap_id)
        if answer is None:
            raise
        return answer


def card_refusal(*, status: str, expires_on: date | None, day: date) -> str | None:
    """Why a card cannot be used on a day, or None when it can."""
    if status != Status.ACTIVE:
        return STATUS_REFUSAL.get(status, "card_not_active")
    if expires_on is not None and expires_on < day:
        return "card_expired"
    return None


def _credential_kind(credential: str) -> str:
    if credential.startswith(credentials.PHONE_PASS_PREFIX + "."):
        return Tap.Credential.PHONE
    return Tap.Credential.SUN


def _late_offline_claim(*, lookup: dict, counter: int) -> ClaimedCard | Card | None:
    """An offline gate uploads a tap whose counter is below the card's last one because the
    card was used online in the meantime. Authentic (its MAC verified) and never seen before
    (no tap of the card has this counter): it is the card's own tap, not a replay, so it is
    judged. The card row is locked so the same counter cannot be judged twice at once."""
    card = Card.objects.select_for_update().select_related("holder").filter(**lookup).first()
    if card is None or Tap.objects.filter(card=card, counter=counter).exists():
        return card
    return ClaimedCard(
        card.pk,
        card.public_id,
        card.number,
        card.status,
        card.holder_id,
        card.expires_on,
        -1,
        card.holder.first_name,
    )


def run_tap(
    *,
    reader,
    credential,
    client_tap_id,
    reader_time,
    at,
    access_point,
    offline_granted,
    staff=None,
    refusal=None,
) -> dict:
    # `staff` is set (and `reader` is None) when a staff desk scans a phone pass: see staff_check.
    # `refusal` refuses without reading the credential (a queued tap dated in the future).
    common = {
        "reader": reader,
        "client_tap_id": client_tap_id,
        "access_point": access_point,
        "at": at,
        "reader_time": reader_time,
        "offline": offline_granted is not None,
        "staff": staff,
    }

    def refuse(
        reason: str,
        *,
        kind: str,
        card: ClaimedCard | Card | None = None,
        counter: int | None = None,
        first_name: str | None = None,
        counter_jump: bool = False,
    ) -> dict:
        previous = _existing_answer(reader, client_tap_id)
        if previous is not None:
            return previous
        response = log_tap(
            credential=kind,
            granted=False,
            reason=reason,
            card=card,
            first_name=first_name,
            counter=counter,
            counter_jump=counter_jump,
            not_honoured=bool(offline_granted),
            **common,
        )
        audit_refusal(
            reason,
            holder_id=getattr(card, "holder_id", None),
            reader=reader,
            access_point=access_point,
            staff=staff,
        )
        return response

    try:
        presented = credentials.read(credential, at=reader_time if refusal else at)
    except credentials.InvalidCredential as error:
        return refuse(refusal or error.reason, kind=_credential_kind(credential))
    if refusal is not None:
        # Name the card for staff, but claim nothing: its time cannot be trusted.
        lookup = {"uid": presented.uid} if presented.uid else {"number": presented.number}
        card = Card.objects.select_related("holder").filter(**lookup).first()
        return refuse(
            refusal,
            kind=presented.kind,
            card=card,
            counter=presented.counter,
            first_name=card.holder.first_name if card else None,
        )

    claimed = _claim_counter(
        kind=presented.kind, key=presented.uid or presented.number, counter=presented.counter
    )
    if claimed is None:
        lookup = {"uid": presented.uid} if presented.uid else {"number": presented.number}
        if offline_granted is not None:
            card = _late_offline_claim(lookup=lookup, counter=presented.counter)
        else:
            card = Card.objects.filter(**lookup).first()
        if isinstance(card, ClaimedCard):
            claimed = card
        else:
            reason = "unknown_card" if card is None else "replay"
            return refuse(reason, kind=presented.kind, card=card, counter=presented.counter)

    counter_jump = (
        presented.kind == "sun"
        and claimed.previous_counter >= 0
        and presented.counter - claimed.previous_counter > COUNTER_JUMP_THRESHOLD
    )
    unusable = card_refusal(
        status=claimed.status, expires_on=claimed.expires_on, day=timezone.localdate(at)
    )
    if offline_granted is False and unusable is None:
        # The gate turned the person away: they did not get in, nothing is consumed.
        unusable = "refused_offline"
    if unusable is not None:
        return refuse(
            unusable,
            kind=presented.kind,
            card=claimed,
            counter=presented.counter,
            first_name=claimed.first_name,
            counter_jump=counter_jump,
        )

    decision = decide(holder_id=claimed.holder_id, access_point=access_point, at=at)
    return log_tap(
        credential=presented.kind,
        granted=decision.granted,
        reason=decision.reason,
        card=claimed,
        first_name=claimed.first_name,
        decision=decision,
        counter=presented.counter,
        counter_jump=counter_jump,
        not_honoured=bool(offline_granted) and not decision.granted,
        **common,
    )
