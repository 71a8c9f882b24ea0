"""What every use case checks of what it is given: amounts in cents within their limits, the
currency, idempotency keys (and how a client's key is scoped to its account)."""

import hashlib
import secrets

from django.utils.translation import gettext as _

from identity.errors import DomainError
from identity.models import User
from payments.models import CURRENCY
from payments.money import format_cents

MAX_ORDER_CENTS = 5_000_00  # 5,000 €: above any basket of municipal services
MAX_TOPUP_CENTS = 500_00  # 500 € at once on a wallet
MAX_KEY = 100


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def check_amount(amount_cents, *, field: str = "amount_cents", maximum: int = MAX_ORDER_CENTS):
    """An integer number of cents, > 0 and ≤ `maximum`."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise DomainError(_("The amount must be a whole number of cents."), field=field)
    if amount_cents <= 0:
        raise DomainError(
            _("The amount must be greater than zero."), field=field, code="amount_not_positive"
        )
    if amount_cents > maximum:
        raise DomainError(
            _("The amount may not exceed %(max)s.") % {"max": format_cents(maximum)},
            field=field,
            code="amount_too_large",
        )
    return amount_cents


def check_currency(currency: str, *, field: str = "currency") -> None:
    if (currency or "").upper() != CURRENCY:
        raise DomainError(
            _("Only payments in euros (EUR) are accepted."), field=field, code="currency_mismatch"
        )


def check_key(key: str | None, *, field: str = "idempotency_key") -> None:
    # No control characters: PostgreSQL refuses a NUL in a string (a 500, not a refusal).
    if key is not None and (
        not isinstance(key, str)
        or not (0 < len(key) <= MAX_KEY)
        or any(ord(c) < 32 or ord(c) == 127 for c in key)
    ):
        raise DomainError(_("Invalid idempotency key."), field=field)


def account_key(
    key: str | None, *, account: User | None, use: str, required: bool = False
) -> str | None:
    """A key a client sent (a form, the API, a kiosk request), as it is stored: scoped to the
    account that sent it (None: a kiosk's own request) and to what it protects (`use`: "order",
    "refund", "desk"), so that the same key sent by another account is another request — it
    never replays that account's answer nor blocks its own requests. The client's key is
    hashed: whatever its length up to MAX_KEY, the stored key fits its column. No key: None,
    or a refusal naming the field when the use case needs one."""
    check_key(key)
    if not key:
        if required:
            raise DomainError(_("Invalid idempotency key."), field="idempotency_key")
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{use}:{account.pk if account is not None else '-'}:{digest}"
