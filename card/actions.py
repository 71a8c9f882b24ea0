"""Every change to cards and readers, and the tap pipeline.

A tap costs at most four SQL statements when granted (asserted in tests/card/test_tap_budget):
claim the counter on the card row (one UPDATE … RETURNING, which also row-locks the card so two
readers presenting the same message are serialised), the catalogue's choice and consumption
(a locked SELECT, then an UPDATE for an entry book), and the INSERT of the tap. Everything else
(idempotent retries, replays, unknown cards) is a refusal path and may cost more."""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from identity import tokens
from identity.actions import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AuditEntry, Person, User
from identity.permissions import Capability, can_act_for, has_capability
from services.catalog.actions import AccessDecision, decide
from services.catalog.models import AccessPoint

from . import credentials
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
    transaction.on_commit(lambda: cache.delete(_reader_cache_key(old_prefix)))
    record_audit_entry(actor=actor, action="reader.token_rotated", target=reader.public_id)
    return new.raw


@transaction.atomic
def revoke_reader(*, actor: User, reader: Reader) -> None:
    _require(actor, Capability.MANAGE_TERRITORY)
    Reader.objects.filter(pk=reader.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    prefix = reader.token_prefix
    transaction.on_commit(lambda: cache.delete(_reader_cache_key(prefix)))
    record_audit_entry(actor=actor, action="reader.revoked", target=reader.public_id)


def _reader_cache_key(prefix: str) -> str:
    return f"sesame:reader:{prefix}"


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
    if cache.add(f"sesame:reader-seen:{reader.pk}", 1, 60):
        # Heartbeat: at most one write a minute per reader.
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


def _response(
    *,
    client_tap_id: str,
    reader: Reader | None,
    access_point: AccessPoint,
    at: datetime,
    granted: bool,
    reason: str,
    first_name: str | None = None,
    card_public_id: str | None = None,
    decision: AccessDecision | None = None,
    flags: list[str] | None = None,
) -> dict:
    holder = None
    if first_name is not None:
        holder = {"first_name": first_name}
        if reader is None or reader.kind == Reader.Kind.DESK:
            # Staff desks check the face against the photo; gates and kiosks never see it.
            holder["photo"] = card_public_id
    return {
        "tap_id": client_tap_id,
        "granted": granted,
        "reason": reason,
        "at": at.isoformat(),
        "access_point": access_point.public_id,
        "holder": holder,
        "entitlement": decision.as_dict() if decision and decision.entitlement_id else None,
        "flags": flags or [],
    }


def _record(
    *,
    reader,
    client_tap_id,
    access_point,
    at,
    reader_time,
    response,
    credential,
    card_pk=None,
    holder_id=None,
    counter=None,
    offline=False,
    not_honoured=False,
    staff=None,
    staff_reason="",
    counter_jump=False,
) -> Tap:
    return Tap.objects.create(
        reader=reader,
        client_tap_id=client_tap_id,
        access_point=access_point,
        card_id=card_pk,
        holder_id=holder_id,
        credential=credential,
        counter=counter,
        reader_time=reader_time,
        received_at=at,
        granted=response["granted"],
        reason=response["reason"],
        counter_jump=counter_jump,
        offline=offline,
        not_honoured=not_honoured,
        staff=staff,
        staff_reason=staff_reason,
        response=response,
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
    uploaded later): the tap is judged at its reader time, and when the gate let someone in
    that the server refuses, the tap is flagged `not_honoured` for staff."""
    offline = offline_granted is not None
    now = now or timezone.now()
    if not offline:
        check_tap_input(
            reader=reader, client_tap_id=client_tap_id, reader_time=reader_time, now=now
        )
    # Online, the server's clock decides; an offline tap is judged at the time it happened.
    at = reader_time if offline else now
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
            )
    except IntegrityError:
        # The same tap id raced in from a retry: the first one won; give its answer.
        answer = _existing_answer(reader, client_tap_id)
        if answer is None:
            raise
        return answer


def _process_tap(
    *, reader, credential, client_tap_id, reader_time, at, access_point, offline_granted
) -> dict:
    common = {
        "reader": reader,
        "client_tap_id": client_tap_id,
        "access_point": access_point,
        "at": at,
        "reader_time": reader_time,
        "offline": offline_granted is not None,
    }

    def refuse(
        reason: str,
        *,
        kind: str,
        card: ClaimedCard | Card | None = None,
        counter: int | None = None,
        first_name: str | None = None,
        flags: list[str] | None = None,
    ) -> dict:
        previous = _existing_answer(reader, client_tap_id)
        if previous is not None:
            return previous
        holder_id = getattr(card, "holder_id", None)
        response = _response(
            client_tap_id=client_tap_id,
            reader=reader,
            access_point=access_point,
            at=at,
            granted=False,
            reason=reason,
            first_name=first_name,
            card_public_id=getattr(card, "public_id", None),
            flags=flags,
        )
        if offline_granted:
            response["flags"].append("not_honoured")
        _record(
            response=response,
            credential=kind,
            card_pk=getattr(card, "pk", None),
            holder_id=holder_id,
            counter=counter,
            not_honoured=bool(offline_granted),
            **common,
        )
        if reason in SECURITY_REFUSALS:
            record_audit_entry(
                actor=None,
                action=f"tap.refused.{reason}",
                person=Person.objects.filter(pk=holder_id).first() if holder_id else None,
                target=f"reader:{reader.public_id}" if reader else "",
                channel=AuditEntry.Channel.SYSTEM,
            )
            logger.warning(
                "tap refused reason=%s reader=%s card=%s",
                reason,
                getattr(reader, "pk", None),
                getattr(card, "pk", None),
            )
        return response

    try:
        presented = credentials.read(credential, at=at)
    except credentials.InvalidCredential as error:
        kind = Tap.Credential.PHONE if credential.startswith("S1.") else Tap.Credential.SUN
        return refuse(error.reason, kind=kind)

    claimed = _claim_counter(
        kind=presented.kind, key=presented.uid or presented.number, counter=presented.counter
    )
    if claimed is None:
        lookup = {"uid": presented.uid} if presented.uid else {"number": presented.number}
        card = Card.objects.filter(**lookup).first()
        reason = "unknown_card" if card is None else "replay"
        return refuse(reason, kind=presented.kind, card=card, counter=presented.counter)

    flags = []
    counter_jump = (
        presented.kind == "sun"
        and claimed.previous_counter >= 0
        and presented.counter - claimed.previous_counter > COUNTER_JUMP_THRESHOLD
    )
    if counter_jump:
        flags.append("counter_jump")
    if claimed.status != Status.ACTIVE:
        return refuse(
            STATUS_REFUSAL.get(claimed.status, "card_not_active"),
            kind=presented.kind,
            card=claimed,
            counter=presented.counter,
            first_name=claimed.first_name,
            flags=flags,
        )
    if claimed.expires_on is not None and claimed.expires_on < timezone.localdate(at):
        return refuse(
            "card_expired",
            kind=presented.kind,
            card=claimed,
            counter=presented.counter,
            first_name=claimed.first_name,
            flags=flags,
        )

    decision = decide(holder_id=claimed.holder_id, access_point=access_point, at=at)
    not_honoured = bool(offline_granted) and not decision.granted
    if not_honoured:
        flags.append("not_honoured")
    response = _response(
        client_tap_id=client_tap_id,
        reader=reader,
        access_point=access_point,
        at=at,
        granted=decision.granted,
        reason=decision.reason,
        first_name=claimed.first_name,
        card_public_id=claimed.public_id,
        decision=decision,
        flags=flags,
    )
    _record(
        response=response,
        credential=presented.kind,
        card_pk=claimed.pk,
        holder_id=claimed.holder_id,
        counter=presented.counter,
        counter_jump=counter_jump,
        not_honoured=not_honoured,
        **common,
    )
    return response
