"""A staff desk checks people in: a phone pass scanned by the device camera or a card number
typed by hand (answered like a reader's tap), and a manual entry when the card is forgotten."""

import re
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, User
from identity.permissions import Capability, has_capability
from services.catalog.models import AccessPoint

from .. import credentials
from ..models import Card, Tap
from .numbers import is_valid_card_number
from .taps import TapOutcome, TapRequest, card_refusal, judge, record

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
        if not is_valid_card_number(digits):
            raise DomainError(
                _("This card number is not valid: check its 16 digits."),
                field="credential",
                code="invalid_card_number",
            )
    elif not text.startswith((credentials.PHONE_PASS_PREFIX + ".", "https://", "http://")):
        raise DomainError(
            _("This is neither a card number nor a pass code."),
            field="credential",
            code="invalid_card_number",
        )
    # A scanned code is a credential like a reader's: the same pipeline authenticates it,
    # claims its counter (so the same QR twice within its step is a replay) and decides. A
    # typed number goes through it too, but proves nothing (taps.authenticate).
    request = TapRequest.at_staff_desk(
        staff=actor,
        access_point=access_point,
        credential=digits or text,
        client_tap_id=uuid.uuid4().hex,
        now=now,
        typed_number=digits is not None,
    )
    with transaction.atomic():
        return record(judge(request))


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
        unusable = card_refusal(
            status=card.status, expires_on=card.expires_on, day=timezone.localdate(now)
        )
        if unusable is not None:
            flags.append(unusable)
    request = TapRequest.at_staff_desk(
        staff=actor,
        access_point=access_point,
        credential="",
        client_tap_id=uuid.uuid4().hex,
        now=now,
    )
    response = record(
        TapOutcome(
            request,
            granted=True,
            reason="manual_entry",
            credential=Tap.Credential.MANUAL,
            card=card,
            first_name=card.holder.first_name if card else None,
            flags=tuple(flags),
            staff_reason=reason,
        )
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
