"""Every change to cards and readers, and the tap pipeline.

A tap costs at most four SQL statements when granted (asserted in tests/card/test_tap_budget):
claim the counter on the card row (one UPDATE … RETURNING, which also row-locks the card so two
readers presenting the same message are serialised), the catalogue's choice and consumption
(a locked SELECT, then an UPDATE for an entry book), and the INSERT of the tap. A facility that
counts people in adds two (docs/cards.md). Everything else (idempotent retries, replays,
unknown cards) is a refusal path and may cost more."""

import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from identity import tokens
from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, can_act_for, has_capability
from services.catalog.actions import AccessDecision, decide
from services.catalog.models import AccessPoint

from . import credentials, keys
from .models import Card, Reader, Tap

logger = logging.getLogger(__name__)

Status = Card.Status

READER_TOKEN_LABEL = "rdr"  # noqa: S105 - a label, not a secret
READER_CACHE_SECONDS = 30
CARD_NUMBER_PREFIX = "9250"
CARD_VALIDITY_YEARS = 6
# A physical card's counter rises by one per tap; a bigger jump means taps the server never
# saw — read by a skimmer, or an offline gate that has not uploaded yet. Staff are told.
COUNTER_JUMP_THRESHOLD = 20
# A reader's clock may run ahead a little; further ahead is a misconfigured or forged reader.
MAX_READER_CLOCK_AHEAD = timedelta(minutes=2)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
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


# --- Card numbers --------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_card_number(number: str) -> bool:
    return len(number) == 16 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def _new_card_number() -> str:
    """16 digits: territory prefix, 11 random digits (not guessable from a neighbour's card),
    a Luhn check digit so a typing slip at a desk is caught before any look-up."""
    while True:
        body = CARD_NUMBER_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
        number = body + luhn_check_digit(body)
        if not Card.objects.filter(number=number).exists():
            return number


# --- Readers -------------------------------------------------------------------------------


def _require(actor: User, capability: Capability) -> None:
    if not has_capability(actor, capability):
        raise Forbidden(_("Your role does not allow this."))


@transaction.atomic
def register_reader(
    *, actor: User, name: str, kind: str, access_point: AccessPoint
) -> tuple[Reader, str]:
    """Returns the reader and its token, shown once."""
    _require(actor, Capability.MANAGE_TERRITORY)
    if kind not in Reader.Kind.values:
        raise DomainError(_("Unknown kind of reader."), field="kind")
    if not name.strip():
        raise DomainError(_("Name the reader."), field="name")
    new = tokens.new_token(READER_TOKEN_LABEL)
    reader = Reader.objects.create(
        name=name.strip(),
        kind=kind,
        access_point=access_point,
        token_prefix=new.prefix,
        token_hash=new.key_hash,
    )
    record_audit_entry(actor=actor, action="reader.registered", target=reader.public_id)
    return reader, new.raw


@transaction.atomic
def rotate_reader_token(*, actor: User, reader: Reader) -> str:
    _require(actor, Capability.MANAGE_TERRITORY)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    old_prefix = reader.token_prefix
    new = tokens.new_token(READER_TOKEN_LABEL)
    reader.token_prefix, reader.token_hash = new.prefix, new.key_hash
    reader.token_rotated_at = timezone.now()
    reader.save(update_fields=["token_prefix", "token_hash", "token_rotated_at"])
    _forget_reader(old_prefix)
    record_audit_entry(actor=actor, action="reader.token_rotated", target=reader.public_id)
    return new.raw


@transaction.atomic
def revoke_reader(*, actor: User, reader: Reader) -> None:
    _require(actor, Capability.MANAGE_TERRITORY)
    Reader.objects.filter(pk=reader.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_reader(reader.token_prefix)
    record_audit_entry(actor=actor, action="reader.revoked", target=reader.public_id)


HEARTBEAT_SECONDS = 60
_heartbeats: dict[int, float] = {}  # reader pk → monotonic time of this process's last write


def _reader_cache_key(prefix: str) -> str:
    return f"sesame:reader:{prefix}"


def _forget_reader(prefix: str) -> None:
    """Drop the cached reader now, and again at commit: a tap racing the change could have
    cached the old row in between."""
    cache.delete(_reader_cache_key(prefix))
    transaction.on_commit(lambda: cache.delete(_reader_cache_key(prefix)))


def authenticate_reader(raw: str) -> Reader | None:
    """The reader behind a bearer token, or None. Cached for a few seconds (per process, or in
    Redis across processes) so a tap does not pay a query for it; rotation and revocation
    clear the cache entry at once."""
    parsed = tokens.parse(raw, READER_TOKEN_LABEL)
    if parsed is None:
        return None
    prefix, secret = parsed
    key = _reader_cache_key(prefix)
    reader = cache.get(key)
    if reader is None:
        reader = (
            Reader.objects.select_related("access_point__facility")
            .filter(token_prefix=prefix, revoked_at__isnull=True)
            .first()
        )
        if reader is None:
            return None
        cache.set(key, reader, READER_CACHE_SECONDS)
    if not tokens.matches(secret, reader.token_hash):
        return None
    now = time.monotonic()
    if now - _heartbeats.get(reader.pk, -HEARTBEAT_SECONDS) >= HEARTBEAT_SECONDS:
        # Heartbeat: at most one write a minute per reader and process, and no cache round
        # trip on the other requests.
        _heartbeats[reader.pk] = now
        Reader.objects.filter(pk=reader.pk).update(last_seen_at=timezone.now())
    return reader


# --- Card lifecycle ------------------------------------------------------------------------


def _require_holder_or_staff(actor: User, holder: Person) -> bool:
    """True when staff act (their channel is the counter); residents act for themselves and
    their children."""
    if can_act_for(actor, holder):
        return False
    if has_capability(actor, Capability.EDIT_RESIDENT_FILE):
        return True
    raise Forbidden(_("You cannot manage this person's cards."))


def _audit(actor: User | None, card: Card, action: str, *, by_staff: bool, reason: str = ""):
    record_audit_entry(
        actor=actor,
        action=f"card.{action}",
        person=card.holder,
        target=card.number,
        reason=reason,
        channel=AuditEntry.Channel.COUNTER if by_staff else AuditEntry.Channel.WEB,
    )


def check_photo(photo: UploadedFile) -> None:
    """An identity photo: a real JPEG or PNG image, at most 5 MB."""
    if photo.size > MAX_PHOTO_BYTES:
        raise DomainError(_("The photo is larger than 5 MB."), field="photo")
    try:
        with Image.open(photo) as image:
            image.verify()
            if image.format not in {"JPEG", "PNG"}:
                raise DomainError(_("The photo must be a JPEG or PNG image."), field="photo")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise DomainError(_("This file is not an image."), field="photo") from error
    finally:
        photo.seek(0)


def _locked_card(card: Card) -> Card:
    return Card.objects.select_for_update().select_related("holder").get(pk=card.pk)


def _live_card_exists(holder: Person, kind: str) -> bool:
    return Card.objects.filter(holder=holder, kind=kind, status__in=Card.LIVE_STATUSES).exists()


@transaction.atomic
def request_card(*, actor: User, holder: Person, photo: UploadedFile) -> Card:
    """A resident asks for a physical card, for themself or a child; a clerk validates it."""
    by_staff = _require_holder_or_staff(actor, holder)
    Person.objects.select_for_update().filter(pk=holder.pk).first()
    if _live_card_exists(holder, Card.Kind.NFC):
        raise Conflict(_("%(name)s already has a card.") % {"name": holder.first_name})
    check_photo(photo)
    card = Card(
        number=_new_card_number(),
        holder=holder,
        kind=Card.Kind.NFC,
        status=Status.REQUESTED,
        requested_by=actor,
    )
    card.photo.save(f"{card.public_id}.{_photo_extension(photo)}", photo, save=False)
    card.save()
    _audit(actor, card, "requested", by_staff=by_staff)
    return card


def _photo_extension(photo: UploadedFile) -> str:
    with Image.open(photo) as image:
        extension = "png" if image.format == "PNG" else "jpg"
    photo.seek(0)
    return extension


@transaction.atomic
def issue_phone_pass(*, actor: User, holder: Person) -> Card:
    """A phone pass works at once: nothing to print or encode."""
    by_staff = _require_holder_or_staff(actor, holder)
    Person.objects.select_for_update().filter(pk=holder.pk).first()
    if _live_card_exists(holder, Card.Kind.PHONE):
        raise Conflict(_("%(name)s already has a phone pass.") % {"name": holder.first_name})
    now = timezone.now()
    card = Card.objects.create(
        number=_new_card_number(),
        holder=holder,
        kind=Card.Kind.PHONE,
        status=Status.ACTIVE,
        requested_by=actor,
        activated_at=now,
    )
    _audit(actor, card, "phone_pass_issued", by_staff=by_staff)
    return card


def _transition(card: Card, allowed: set[str]) -> None:
    if card.status not in allowed:
        raise Conflict(
            _("This card is %(status)s: that step is not possible now.")
            % {"status": card.get_status_display().lower()}
        )


@transaction.atomic
def review_card_request(*, actor: User, card: Card, approve: bool, reason: str = "") -> Card:
    """A clerk checks the photo and the holder, then validates or rejects the request."""
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    card = _locked_card(card)
    _transition(card, {Status.REQUESTED})
    if not approve and not reason.strip():
        raise DomainError(_("Say why the request is rejected."), field="reason")
    card.status = Status.VALIDATED if approve else Status.REJECTED
    card.validated_at = timezone.now()
    if not approve:
        card.ended_at = card.validated_at
    card.save(update_fields=["status", "validated_at", "ended_at"])
    _audit(actor, card, "validated" if approve else "rejected", by_staff=True, reason=reason)
    return card


_UID = re.compile(r"^[0-9A-F]{14}$")


@transaction.atomic
def produce_card(*, actor: User, card: Card, uid: str) -> Card:
    """The encoding station has read the blank chip's UID and written the keys derived from it;
    the card is printed and waits to be handed over."""
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    uid = uid.strip().upper().replace(":", "")
    if not _UID.match(uid):
        raise DomainError(_("A chip UID is 7 bytes in hexadecimal (14 characters)."), field="uid")
    card = _locked_card(card)
    _transition(card, {Status.VALIDATED})
    if Card.objects.filter(uid=uid).exists():
        raise Conflict(_("This chip is already used by another card."), field="uid")
    card.uid = uid
    card.status = Status.PRODUCED
    card.produced_at = timezone.now()
    card.expires_on = _years_later(timezone.localdate(), CARD_VALIDITY_YEARS)
    card.save(update_fields=["uid", "status", "produced_at", "expires_on"])
    _audit(actor, card, "produced", by_staff=True)
    return card


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def activate_card(*, actor: User, card: Card) -> Card:
    """Handed over at the counter: from now on the card opens gates."""
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    card = _locked_card(card)
    _transition(card, {Status.PRODUCED})
    card.status = Status.ACTIVE
    card.activated_at = timezone.now()
    card.save(update_fields=["status", "activated_at"])
    _audit(actor, card, "activated", by_staff=True)
    return card


SUSPENSION_REASONS = {"lost", "stolen", "damaged", "staff"}


@transaction.atomic
def suspend_card(*, actor: User, card: Card, reason: str) -> Card:
    """Lost or stolen: one click by the holder (or a guardian), or by staff. Refused at every
    gate from the next tap on."""
    by_staff = _require_holder_or_staff(actor, card.holder)
    if reason not in SUSPENSION_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    card = _locked_card(card)
    _transition(card, {Status.ACTIVE, Status.PRODUCED})
    card.status = Status.SUSPENDED
    card.suspended_at = timezone.now()
    card.suspension_reason = reason
    card.save(update_fields=["status", "suspended_at", "suspension_reason"])
    _audit(actor, card, "suspended", by_staff=by_staff, reason=reason)
    return card


@transaction.atomic
def reactivate_card(*, actor: User, card: Card) -> Card:
    """A lost card found again. A stolen card stays suspended unless staff decide otherwise."""
    by_staff = _require_holder_or_staff(actor, card.holder)
    card = _locked_card(card)
    _transition(card, {Status.SUSPENDED})
    if card.suspension_reason in {"stolen", "staff"} and not by_staff:
        raise Forbidden(_("A stolen or blocked card can only be reactivated at the town hall."))
    card.status = Status.ACTIVE
    card.suspended_at = None
    card.suspension_reason = ""
    card.save(update_fields=["status", "suspended_at", "suspension_reason"])
    _audit(actor, card, "reactivated", by_staff=by_staff)
    return card


@transaction.atomic
def replace_card(*, actor: User, card: Card) -> Card:
    """The old card is refused everywhere at once; a new one, already validated, goes to
    production. Entitlements and balances belong to the holder, so the new card has them all."""
    by_staff = _require_holder_or_staff(actor, card.holder)
    card = _locked_card(card)
    _transition(card, {Status.ACTIVE, Status.SUSPENDED, Status.PRODUCED})
    card.status = Status.REPLACED
    card.ended_at = timezone.now()
    card.save(update_fields=["status", "ended_at"])
    new = Card(
        number=_new_card_number(),
        holder=card.holder,
        kind=card.kind,
        replaces=card,
        requested_by=actor,
        validated_at=timezone.now(),
        status=Status.VALIDATED if card.kind == Card.Kind.NFC else Status.ACTIVE,
    )
    if card.kind == Card.Kind.PHONE:
        new.activated_at = new.validated_at
    if card.photo:
        new.photo.name = card.photo.name  # same identity photo; a new one can be asked later
    new.save()
    _audit(actor, card, "replaced", by_staff=by_staff, reason=new.number)
    return new


@transaction.atomic
def revoke_card(*, actor: User, card: Card, reason: str) -> Card:
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    if not reason.strip():
        raise DomainError(_("Say why the card is revoked."), field="reason")
    card = _locked_card(card)
    _transition(card, set(Card.LIVE_STATUSES))
    card.status = Status.REVOKED
    card.ended_at = timezone.now()
    card.save(update_fields=["status", "ended_at"])
    _audit(actor, card, "revoked", by_staff=True, reason=reason)
    return card


def expire_cards(*, today: date | None = None) -> int:
    """Nightly: cards past their date become expired (the gate already refuses them)."""
    day = today or timezone.localdate()
    expired = 0
    for card in Card.objects.filter(status=Status.ACTIVE, expires_on__lt=day).select_related(
        "holder"
    ):
        with transaction.atomic():
            updated = Card.objects.filter(pk=card.pk, status=Status.ACTIVE).update(
                status=Status.EXPIRED, ended_at=timezone.now()
            )
            if updated:
                expired += 1
                _audit(None, card, "expired", by_staff=False)
    return expired


# --- The tap -------------------------------------------------------------------------------


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


def _log_tap(
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


def _audit_refusal(
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
            return _process_tap(
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


def _card_refusal(*, status: str, expires_on: date | None, day: date) -> str | None:
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


def _process_tap(
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
        response = _log_tap(
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
        _audit_refusal(
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
    unusable = _card_refusal(
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
    return _log_tap(
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


# --- Staff desk ----------------------------------------------------------------------------

MIN_MANUAL_REASON_LENGTH = 5
MAX_MANUAL_REASON_LENGTH = 200  # Tap.staff_reason and AuditEntry.reason
_TYPED_NUMBER_SEPARATORS = re.compile(r"[\s-]+")


def _require_scan_at(actor: User, access_point: AccessPoint) -> None:
    if not has_capability(actor, Capability.SCAN_CARDS, facility=access_point.facility):
        raise Forbidden(_("You cannot check cards at this access point."))


def _typed_digits(text: str) -> str | None:
    """A card number as staff type it (groups of digits, spaces or dashes between them), or
    None when the text is not made of digits."""
    compact = _TYPED_NUMBER_SEPARATORS.sub("", text)
    return compact if compact.isdigit() else None


def _desk_card(number: str) -> Card | None:
    return Card.objects.select_related("holder").filter(number=number).first()


def staff_check(
    *, actor: User, access_point: AccessPoint, credential: str, now: datetime | None = None
) -> dict:
    """A staff desk checks someone: a phone pass QR scanned by the device camera, or a card
    number typed by hand. Answers like a reader's tap (the same dict) and logs the tap with
    the staff member; a typing slip raises DomainError and records nothing."""
    _require_scan_at(actor, access_point)
    now = now or timezone.now()
    text = (credential or "").strip()
    if not text:
        raise DomainError(_("Scan a pass or type a card number."), field="credential")
    digits = _typed_digits(text)
    if digits is not None:
        return _staff_check_number(actor=actor, access_point=access_point, number=digits, at=now)
    if not text.startswith((credentials.PHONE_PASS_PREFIX + ".", "https://", "http://")):
        raise DomainError(
            _("This is neither a card number nor a pass code."),
            field="credential",
            code="invalid_card_number",
        )
    # A scanned code is a credential like a reader's: the same pipeline authenticates it,
    # claims its counter (so the same QR twice within its step is a replay) and decides.
    with transaction.atomic():
        return _process_tap(
            reader=None,
            credential=text,
            client_tap_id=uuid.uuid4().hex,
            reader_time=now,
            at=now,
            access_point=access_point,
            offline_granted=None,
            staff=actor,
        )


def _staff_check_number(*, actor: User, access_point: AccessPoint, number: str, at) -> dict:
    # A typed number is much weaker than a credential: it is printed on the card and proves
    # nothing cryptographically (no key, no counter, so no replay protection). The tap says so
    # (credential "number") and the desk shows the photo so that the agent checks the face.
    if not is_valid_card_number(number):
        raise DomainError(
            _("This card number is not valid: check its 16 digits."),
            field="credential",
            code="invalid_card_number",
        )
    client_tap_id = uuid.uuid4().hex
    with transaction.atomic():
        card = _desk_card(number)
        refusal = (
            "unknown_card"
            if card is None
            else _card_refusal(
                status=card.status, expires_on=card.expires_on, day=timezone.localdate(at)
            )
        )
        decision = None
        if refusal is None:
            decision = decide(holder_id=card.holder_id, access_point=access_point, at=at)
        response = _log_tap(
            reader=None,
            client_tap_id=client_tap_id,
            access_point=access_point,
            at=at,
            reader_time=at,
            credential=Tap.Credential.NUMBER,
            granted=decision.granted if decision else False,
            reason=decision.reason if decision else refusal,
            card=card,
            first_name=card.holder.first_name if card else None,
            decision=decision,
            staff=actor,
        )
        if refusal is not None:
            _audit_refusal(
                refusal,
                holder_id=card.holder_id if card else None,
                reader=None,
                access_point=access_point,
                staff=actor,
            )
    return response


@transaction.atomic
def record_manual_entry(
    *,
    actor: User,
    access_point: AccessPoint,
    reason: str,
    card_number: str = "",
    now: datetime | None = None,
) -> dict:
    """The card is forgotten and the agent lets the person in: an entry with a reason, logged
    and audited, that consumes nothing. With a card number, the tap names the card and holder
    (a card that is not active is flagged, the agent decides)."""
    _require_scan_at(actor, access_point)
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_MANUAL_REASON_LENGTH:
        raise DomainError(
            _("Say why you let this person in (at least 5 characters)."), field="reason"
        )
    if len(reason) > MAX_MANUAL_REASON_LENGTH:
        raise DomainError(_("Keep the reason under 200 characters."), field="reason")
    card = None
    typed = (card_number or "").strip()
    if typed:
        digits = _typed_digits(typed)
        if digits is None or not is_valid_card_number(digits):
            raise DomainError(
                _("This card number is not valid: check its 16 digits, or leave it empty."),
                field="card_number",
                code="invalid_card_number",
            )
        card = _desk_card(digits)
        if card is None:
            raise DomainError(
                _("No card has this number: check it, or leave it empty."),
                field="card_number",
                code="unknown_card",
            )
    now = now or timezone.now()
    flags = []
    if card is not None:
        unusable = _card_refusal(
            status=card.status, expires_on=card.expires_on, day=timezone.localdate(now)
        )
        if unusable is not None:
            flags.append(unusable)
    response = _log_tap(
        reader=None,
        client_tap_id=uuid.uuid4().hex,
        access_point=access_point,
        at=now,
        reader_time=now,
        credential=Tap.Credential.MANUAL,
        granted=True,
        reason="manual_entry",
        card=card,
        first_name=card.holder.first_name if card else None,
        flags=flags,
        staff=actor,
        staff_reason=reason,
    )
    record_audit_entry(
        actor=actor,
        action="tap.manual_entry",
        person=card.holder if card else None,
        target=f"access_point:{access_point.public_id}",
        reason=reason,
        channel=AuditEntry.Channel.COUNTER,
    )
    return response


# --- Card production (pages) ---

# The NDEF URL written on a chip: the card's web address, then placeholders the chip overwrites
# at every read with its encrypted PICC data (UID and counter: 16 bytes, 32 hex digits) and the
# SDMMAC (8 bytes, 16 hex digits). ntag424.sun.parse_sun_url reads them back.
PICC_DATA_PLACEHOLDER = "0" * 32
SDM_MAC_PLACEHOLDER = "0" * 16
PERSONALISATION_FORMAT = "sesame-card-personalisation/1"


def ndef_url_template() -> str:
    base = settings.SESAME_CARD_URL
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}e={PICC_DATA_PLACEHOLDER}&c={SDM_MAC_PLACEHOLDER}"


@transaction.atomic
def export_personalisation(*, actor: User, card: Card) -> dict:
    """What the encoding station writes on a produced card's chip: the NDEF URL template and
    the two SDM keys (hex). Key material leaves the server here, so: clerks only, produced
    cards only (a card handed over is never re-keyed from the desk: a new chip is a
    replacement), and every export is audited."""
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    card = _locked_card(card)
    if card.kind != Card.Kind.NFC:
        raise Conflict(_("A phone pass has no chip to encode."))
    _transition(card, {Status.PRODUCED})
    template = ndef_url_template()
    data = {
        "format": PERSONALISATION_FORMAT,
        "card_number": card.number,
        "uid": card.uid,
        "key_version": card.key_version,
        "ndef_url_template": template,
        # Character offsets in the URL; the station adds its NDEF record header's length.
        "picc_data_offset_in_url": template.rindex("e=" + PICC_DATA_PLACEHOLDER) + 2,
        "sdm_mac_offset_in_url": template.rindex("c=" + SDM_MAC_PLACEHOLDER) + 2,
        "sdm_file_read_key": keys.card_file_read_key(bytes.fromhex(card.uid)).hex().upper(),
        "sdm_meta_read_key": keys.meta_read_key().hex().upper(),
        "master_key_fingerprint": keys.key_fingerprint(),
        "exported_at": timezone.now().isoformat(),
    }
    _audit(actor, card, "personalisation_exported", by_staff=True)
    return data


def look_up_card(*, actor: User, number: str) -> Card:
    """A clerk finds a card by the number printed on it. A typing slip is caught by the check
    digit before any query; the look-up shows whose card it is, so it is audited."""
    _require(actor, Capability.EDIT_RESIDENT_FILE)
    if not is_valid_card_number(number):
        raise DomainError(
            _("This card number is not valid: check its 16 digits."),
            field="number",
            code="invalid_card_number",
        )
    card = Card.objects.select_related("holder").filter(number=number).first()
    if card is None:
        raise DomainError(_("No card has this number."), field="number", code="unknown_card")
    record_audit_entry(
        actor=actor,
        action="staff.card_looked_up",
        person=card.holder,
        target=card.number,
        channel=AuditEntry.Channel.COUNTER,
    )
    return card


# --- Offline gates -------------------------------------------------------------------------
# A gate downloads a signed snapshot (card.snapshot), decides alone while the network is down,
# queues its taps and uploads them later in one batch, replayed here in reader-time order.

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
    from .snapshot import build_snapshot

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
        if not TAP_ID.match(tap.client_tap_id or ""):
            raise DomainError(
                _("A tap id is 1 to 64 letters, digits, '-' or '_'."),
                field="tap_id",
                code="invalid_tap_id",
            )
        if timezone.is_naive(tap.reader_time):
            raise DomainError(
                _("The reader time needs a time zone."),
                field="reader_time",
                code="invalid_reader_time",
            )
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
