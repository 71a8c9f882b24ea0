"""The tap pipeline: a credential presented at a gate, a kiosk or a staff desk, and its answer.

A tap is a TapRequest (online, offline replay, or staff desk) that goes through named steps, in
this order (`judge`):

    authenticate → claim the counter → card status → decide

Each step answers either the next state or a TapOutcome that ends the tap (a refusal);
`decide_entry` always answers an outcome. Whatever it is, the outcome is then recorded the
same way (`record`): one Tap row, the answer it holds (the one a retried tap id gets back),
and an audit entry for refusals worth a look.

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
from enum import StrEnum

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError
from identity.models import AuditEntry, Person, User
from services.catalog.actions import AccessDecision, decide
from services.catalog.models import AccessPoint

from .. import credentials
from ..credentials import PresentedCredential
from ..models import Card, Reader, Tap

logger = logging.getLogger(__name__)

Status = Card.Status

# A physical card's counter rises by one per tap; a bigger jump means taps the server never
# saw — read by a skimmer, or an offline gate that has not uploaded yet. Staff are told.
COUNTER_JUMP_THRESHOLD = 20
# A reader's clock may drift a little either way; further ahead or behind is a misconfigured or
# forged reader (one behind could present taps recorded earlier as new ones). An online tap is
# sent when it happens, so its reader time is checked both ways; an offline tap is dated in the
# past by nature, so only a time in the future is refused.
MAX_READER_CLOCK_AHEAD = timedelta(minutes=2)
MAX_READER_CLOCK_BEHIND = timedelta(minutes=2)
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


# --- What goes through the pipeline ----------------------------------------------------------


class TapKind(StrEnum):
    ONLINE = "online"  # a reader's tap, judged now
    OFFLINE = "offline"  # a tap an offline gate queued and decided alone, judged when it happened
    STAFF_DESK = "staff_desk"  # a pass scanned, or a card number typed, by a staff member


@dataclass(frozen=True, slots=True)
class TapRequest:
    """A credential presented at an access point, with where, when and by whom. Build one with
    `online`, `offline` or `at_staff_desk`."""

    kind: TapKind
    credential: str
    client_tap_id: str
    access_point: AccessPoint
    reader_time: datetime  # the reader's clock (at a staff desk, the server's)
    at: datetime  # the time it is judged at: now, or when an offline tap happened
    reader: Reader | None = None  # None at a staff desk
    staff: User | None = None  # the staff member at a desk
    offline_granted: bool | None = None  # OFFLINE: what the gate decided alone
    clock_skew: bool = False  # OFFLINE: dated in the future, so nothing in it is trusted
    typed_number: bool = False  # STAFF_DESK: `credential` is a card number typed by hand

    @classmethod
    def online(
        cls,
        *,
        reader: Reader,
        credential: str,
        client_tap_id: str,
        reader_time: datetime,
        now: datetime,
    ) -> "TapRequest":
        # Online, the server's clock decides.
        return cls(
            TapKind.ONLINE,
            credential,
            client_tap_id,
            reader.access_point,
            reader_time,
            at=now,
            reader=reader,
        )

    @classmethod
    def offline(
        cls,
        *,
        reader: Reader,
        credential: str,
        client_tap_id: str,
        reader_time: datetime,
        offline_granted: bool,
        now: datetime,
    ) -> "TapRequest":
        # An offline tap is judged at the time it happened, unless that time is in the future.
        skewed = reader_time - now > MAX_READER_CLOCK_AHEAD
        return cls(
            TapKind.OFFLINE,
            credential,
            client_tap_id,
            reader.access_point,
            reader_time,
            at=now if skewed else reader_time,
            reader=reader,
            offline_granted=offline_granted,
            clock_skew=skewed,
        )

    @classmethod
    def at_staff_desk(
        cls,
        *,
        staff: User,
        access_point: AccessPoint,
        credential: str,
        client_tap_id: str,
        now: datetime,
        typed_number: bool = False,
    ) -> "TapRequest":
        return cls(
            TapKind.STAFF_DESK,
            credential,
            client_tap_id,
            access_point,
            now,
            at=now,
            staff=staff,
            typed_number=typed_number,
        )

    @property
    def credential_time(self) -> datetime:
        """The time a phone pass code is checked against: when it was shown. For an offline
        tap that is the reader's time, even when the tap itself cannot be judged then."""
        return self.reader_time if self.kind == TapKind.OFFLINE else self.at

    @property
    def shows_photo(self) -> bool:
        """Staff desks get the card id for the photo; gates and kiosks never do."""
        return self.reader is None or self.reader.kind == Reader.Kind.DESK


@dataclass(frozen=True, slots=True)
class ClaimedCard:
    """The card row as the counter claim returned it (one statement, see _claim_card_counter)."""

    pk: int
    public_id: str
    number: str
    status: str
    holder_id: int
    expires_on: date | None
    previous_counter: int  # -1 when the counter was not claimed (a late offline tap, a number)
    first_name: str

    @classmethod
    def of(cls, card: Card, *, previous_counter: int = -1) -> "ClaimedCard":
        """A card read as a row (its holder selected with it), by default without a claim."""
        return cls(
            card.pk,
            card.public_id,
            card.number,
            card.status,
            card.holder_id,
            card.expires_on,
            previous_counter,
            card.holder.first_name,
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """After the claim: the credential presented and the card it is now counted against."""

    presented: PresentedCredential
    card: ClaimedCard

    @property
    def counter_jump(self) -> bool:
        return (
            self.presented.kind == "sun"
            and self.card.previous_counter >= 0
            and self.presented.counter - self.card.previous_counter > COUNTER_JUMP_THRESHOLD
        )


@dataclass(frozen=True, slots=True)
class TapOutcome:
    """How a tap ended, and everything recorded about it: the Tap row, the answer, the audit."""

    request: TapRequest
    granted: bool
    reason: str
    credential: str  # a Tap.Credential
    card: ClaimedCard | Card | None = None
    first_name: str | None = None  # the holder named in the answer (not for a replay)
    counter: int | None = None
    counter_jump: bool = False
    decision: AccessDecision | None = None
    flags: tuple[str, ...] = ()  # beyond counter_jump and not_honoured, derived here
    staff_reason: str = ""  # a manual entry: why the agent let the person in

    @classmethod
    def refusal(cls, request: TapRequest, reason: str, **details) -> "TapOutcome":
        """A step refuses the tap: nothing decided, nothing consumed."""
        return cls(request, granted=False, reason=reason, **details)

    @property
    def refused_before_deciding(self) -> bool:
        """Refused by a step before the catalogue's decision: nothing was consumed."""
        return not self.granted and self.decision is None

    @property
    def not_honoured(self) -> bool:
        """An offline gate let someone in whom the server refuses: staff should look."""
        return bool(self.request.offline_granted) and not self.granted

    def answer(self) -> dict:
        """What the reader or desk is told (card.api.TapOut). The holder is named by first
        name only."""
        request = self.request
        holder = None
        if self.first_name is not None:
            holder = {"first_name": self.first_name}
            if request.shows_photo:
                holder["photo"] = self.card.public_id if self.card is not None else None
        flags = list(self.flags)
        if self.counter_jump and "counter_jump" not in flags:
            flags.append("counter_jump")
        if self.not_honoured:
            flags.append("not_honoured")
        decision = self.decision
        return {
            "tap_id": request.client_tap_id,
            "granted": self.granted,
            "reason": self.reason,
            "at": request.at.isoformat(),
            "access_point": request.access_point.public_id,
            "holder": holder,
            "entitlement": decision.as_dict() if decision and decision.entitlement_id else None,
            "flags": flags,
        }


# --- Entry points ------------------------------------------------------------------------------


def check_tap_id_and_time(*, client_tap_id: str, reader_time: datetime) -> None:
    """What every reader's tap must carry: a tap id of its own alphabet, a time with its zone."""
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


def _check_online_clock(*, reader: Reader, reader_time: datetime, now: datetime) -> None:
    """A reader living in the future could pre-date taps, one living in the past could pass off
    old ones: either way the tap is refused, nothing is consumed, and staff are told."""
    if reader_time - now > MAX_READER_CLOCK_AHEAD:
        message = _("The reader's clock is ahead of the server's.")
    elif now - reader_time > MAX_READER_CLOCK_BEHIND:
        message = _("The reader's clock is behind the server's.")
    else:
        return
    record_audit_entry(
        actor=None,
        action="tap.refused.clock_skew",
        target=f"reader:{reader.public_id}",
        channel=AuditEntry.Channel.SYSTEM,
    )
    raise DomainError(message, field="reader_time", code="clock_skew")


def process_tap(
    *,
    reader: Reader,
    credential: str,
    client_tap_id: str,
    reader_time: datetime,
    offline_granted: bool | None = None,
    now: datetime | None = None,
) -> dict:
    """A reader's tap: judged through the pipeline, recorded, answered.

    The same tap id from the same reader returns the first answer and consumes nothing more,
    also when the two copies arrive at the same instant.

    `offline_granted` is what a gate decided alone while the network was down (a queued tap
    uploaded later): the tap is judged at its reader time; when the gate let someone in that
    the server refuses, the tap is flagged `not_honoured` for staff; when the gate refused,
    nothing is consumed. A queued tap dated in the future is refused (`clock_skew`) without
    trusting anything in it."""
    now = now or timezone.now()
    sent = {"reader": reader, "credential": credential, "client_tap_id": client_tap_id}
    if offline_granted is None:
        check_tap_id_and_time(client_tap_id=client_tap_id, reader_time=reader_time)
        _check_online_clock(reader=reader, reader_time=reader_time, now=now)
        request = TapRequest.online(**sent, reader_time=reader_time, now=now)
    else:
        request = TapRequest.offline(
            **sent, reader_time=reader_time, offline_granted=offline_granted, now=now
        )
    try:
        with transaction.atomic():
            return record(judge(request))
    except IntegrityError:
        # The same tap id raced in from a retry: the first one won; give its answer.
        answer = _existing_answer(request)
        if answer is None:
            raise
        return answer


# --- The steps, in order -----------------------------------------------------------------------


def judge(request: TapRequest) -> TapOutcome:
    """Run the steps in order, inside the caller's transaction; the first refusal ends it."""
    presented = authenticate(request)
    if isinstance(presented, TapOutcome):
        return presented
    claimed = claim_counter(request, presented)
    if isinstance(claimed, TapOutcome):
        return claimed
    usable = check_card_status(request, claimed)
    if isinstance(usable, TapOutcome):
        return usable
    return decide_entry(request, usable)


def authenticate(request: TapRequest) -> PresentedCredential | TapOutcome:
    """1. Which card, cryptographically: a forged or malformed credential is refused before
    any query. A number typed at a staff desk proves nothing (printed on the card: no key, no
    counter, so no replay protection); the tap says so (credential "number") and the desk
    shows the photo so that the agent checks the face."""
    if request.typed_number:
        return PresentedCredential(
            kind=Tap.Credential.NUMBER, counter=None, number=request.credential
        )
    try:
        return credentials.read(request.credential, at=request.credential_time)
    except credentials.InvalidCredential as error:
        return TapOutcome.refusal(
            request,
            "clock_skew" if request.clock_skew else error.reason,
            credential=_credential_kind(request.credential),
        )


def claim_counter(request: TapRequest, presented: PresentedCredential) -> Claimed | TapOutcome:
    """2. Take the credential's counter on its card (one UPDATE that row-locks the card until
    the tap commits): an unknown card, or a counter already taken (a replay), ends here."""
    lookup = {"uid": presented.uid} if presented.uid else {"number": presented.number}
    if presented.kind == Tap.Credential.NUMBER:
        card = Card.objects.select_related("holder").filter(**lookup).first()
        if card is None:
            return TapOutcome.refusal(request, "unknown_card", credential=presented.kind)
        return Claimed(presented, ClaimedCard.of(card))
    if request.clock_skew:
        # Name the card for staff, but claim nothing: its time cannot be trusted.
        card = Card.objects.select_related("holder").filter(**lookup).first()
        return TapOutcome.refusal(
            request,
            "clock_skew",
            credential=presented.kind,
            card=card,
            first_name=card.holder.first_name if card else None,
            counter=presented.counter,
        )
    claimed = _claim_card_counter(
        kind=presented.kind, key=presented.uid or presented.number, counter=presented.counter
    )
    if claimed is not None:
        return Claimed(presented, claimed)
    if request.kind == TapKind.OFFLINE:
        card = _late_offline_claim(lookup=lookup, counter=presented.counter)
        if isinstance(card, ClaimedCard):
            return Claimed(presented, card)
    else:
        card = Card.objects.filter(**lookup).first()
    return TapOutcome.refusal(
        request,
        "unknown_card" if card is None else "replay",
        credential=presented.kind,
        card=card,
        counter=presented.counter,
    )


def check_card_status(request: TapRequest, claimed: Claimed) -> Claimed | TapOutcome:
    """3. A card suspended, replaced, revoked, not active yet or past its date is refused. So
    is a tap an offline gate refused: the person did not get in, nothing is consumed."""
    card = claimed.card
    unusable = card_refusal(
        status=card.status, expires_on=card.expires_on, day=timezone.localdate(request.at)
    )
    if unusable is None and request.offline_granted is False:
        unusable = "refused_offline"
    if unusable is None:
        return claimed
    return TapOutcome.refusal(
        request,
        unusable,
        credential=claimed.presented.kind,
        card=card,
        first_name=card.first_name,
        counter=claimed.presented.counter,
        counter_jump=claimed.counter_jump,
    )


def decide_entry(request: TapRequest, claimed: Claimed) -> TapOutcome:
    """4. The catalogue decides for the holder at this access point, and consumes what applies
    (an entry of a book, a wallet payment) under its own row lock."""
    card = claimed.card
    decision = decide(holder_id=card.holder_id, access_point=request.access_point, at=request.at)
    return TapOutcome(
        request,
        granted=decision.granted,
        reason=decision.reason,
        credential=claimed.presented.kind,
        card=card,
        first_name=card.first_name,
        counter=claimed.presented.counter,
        counter_jump=claimed.counter_jump,
        decision=decision,
    )


def record(outcome: TapOutcome) -> dict:
    """5. Write the tap and return the answer it holds. A step's refusal of a tap id already
    answered (a retry whose counter the first copy took) gets the first answer back instead,
    and is audited when worth a look (SECURITY_REFUSALS)."""
    request = outcome.request
    if outcome.refused_before_deciding:
        previous = _existing_answer(request)
        if previous is not None:
            return previous
    response = outcome.answer()
    card = outcome.card
    Tap.objects.create(
        reader=request.reader,
        client_tap_id=request.client_tap_id,
        access_point=request.access_point,
        card_id=card.pk if card is not None else None,
        holder_id=card.holder_id if card is not None else None,
        credential=outcome.credential,
        counter=outcome.counter,
        reader_time=request.reader_time,
        received_at=request.at,
        granted=outcome.granted,
        reason=outcome.reason,
        counter_jump=outcome.counter_jump,
        offline=request.kind == TapKind.OFFLINE,
        not_honoured=outcome.not_honoured,
        staff=request.staff,
        staff_reason=outcome.staff_reason,
        response=response,
    )
    if outcome.refused_before_deciding:
        _audit_refusal(outcome)
    return response


# --- What the steps share ----------------------------------------------------------------------


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


_CLAIM_BY = {"sun": "uid", "phone": "number"}


def _claim_card_counter(*, kind: str, key: str, counter: int) -> ClaimedCard | None:
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


def _late_offline_claim(*, lookup: dict, counter: int) -> ClaimedCard | Card | None:
    """An offline gate uploads a tap whose counter is below the card's last one because the
    card was used online in the meantime. Authentic (its MAC verified) and never seen before
    (no tap of the card has this counter): it is the card's own tap, not a replay, so it is
    judged. The card row is locked so the same counter cannot be judged twice at once."""
    card = Card.objects.select_for_update().select_related("holder").filter(**lookup).first()
    if card is None or Tap.objects.filter(card=card, counter=counter).exists():
        return card
    return ClaimedCard.of(card)


def _existing_answer(request: TapRequest) -> dict | None:
    """The answer already given to this tap id by this reader (a desk's taps have fresh ids)."""
    if request.reader is None:
        return None
    return (
        Tap.objects.filter(reader=request.reader, client_tap_id=request.client_tap_id)
        .values_list("response", flat=True)
        .first()
    )


def _audit_refusal(outcome: TapOutcome) -> None:
    """Refusals worth a look (SECURITY_REFUSALS) go to the audit trail and the log."""
    if outcome.reason not in SECURITY_REFUSALS:
        return
    request = outcome.request
    holder_id = outcome.card.holder_id if outcome.card is not None else None
    reader, staff = request.reader, request.staff
    record_audit_entry(
        actor=staff,
        action=f"tap.refused.{outcome.reason}",
        person=Person.objects.filter(pk=holder_id).first() if holder_id else None,
        target=f"reader:{reader.public_id}"
        if reader
        else f"access_point:{request.access_point.public_id}",
        channel=AuditEntry.Channel.COUNTER if staff else AuditEntry.Channel.SYSTEM,
    )
    logger.warning(
        "tap refused reason=%s reader=%s holder=%s",
        outcome.reason,
        getattr(reader, "pk", None),
        holder_id,
    )
