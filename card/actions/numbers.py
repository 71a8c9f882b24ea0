"""Card numbers: 16 digits with a Luhn check digit, made at random, checked before any look-up,
and the clerk's look-up of a card by the number printed on it."""

import secrets

from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError
from identity.models import AuditEntry, User
from identity.permissions import Capability

from ..models import Card
from .guards import require_capability

CARD_NUMBER_PREFIX = "9250"


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


def new_card_number() -> str:
    """16 digits: territory prefix, 11 random digits (not guessable from a neighbour's card),
    a Luhn check digit so a typing slip at a desk is caught before any look-up."""
    while True:
        body = CARD_NUMBER_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
        number = body + luhn_check_digit(body)
        if not Card.objects.filter(number=number).exists():
            return number


def look_up_card(*, actor: User, number: str) -> Card:
    """A clerk finds a card by the number printed on it. A typing slip is caught by the check
    digit before any query; the look-up shows whose card it is, so it is audited."""
    require_capability(actor, Capability.EDIT_RESIDENT_FILE)
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
