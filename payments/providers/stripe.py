"""Stripe: card payments online (the Payment Element), at a kiosk's card reader (Stripe
Terminal, server-driven), refunds, and what the webhook needs to look objects up again.

Everything goes through the real SDK (`stripe.StripeClient`), pointed at Stripe, or at a local
fake when `STRIPE_API_BASE` says so (the test suite's localstripe). Every call that can move
money carries an idempotency key derived from a row Sésame wrote first:

- a PaymentIntent is created with the `Payment`'s `idempotency_key` (`…:terminal` for one
  collected at a reader, whose parameters differ), so a retried `start` finds the same intent;
- a refund carries the `Refund`'s `idempotency_key`;
- a reader's `process_payment_intent` and `cancel_action` carry a key of their own for the
  SDK's network retries: presenting a card can only ever capture the one PaymentIntent once.

Why the Payment Element (and not Checkout Sessions) is the primary online flow: the resident
stays on the town's page, in its language and layout, and one object — the PaymentIntent —
is the payment online and at a kiosk's reader alike, so the webhook handles both the same way.
Cards only (`payment_method_types=["card"]`, which includes Apple Pay and Google Pay): the
delayed methods `automatic_payment_methods` would offer (SEPA debit, transfers) confirm days
later, while a pool ticket or a canteen top-up must be usable at once.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

from .base import Provider, ProviderError, ProviderStart

if TYPE_CHECKING:
    from payments.models import Payment, Refund

logger = logging.getLogger(__name__)

CODE = "stripe"
DEFAULT_API_BASE = "https://api.stripe.com"
# An answer within this many seconds, or the call fails (a page or a kiosk is waiting).
TIMEOUT = (5, 25)
NETWORK_RETRIES = 2


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    """A client for the configured account; raises `ProviderError` when Stripe is not set up."""
    if not configured():
        raise ProviderError("Stripe is not configured (STRIPE_SECRET_KEY)", retryable=False)
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE or DEFAULT_API_BASE},
        http_client=stripe.RequestsClient(timeout=TIMEOUT),
        max_network_retries=NETWORK_RETRIES,
    )


def field(obj: Any, name: str, default: Any = None) -> Any:
    """`obj[name]` if the API sent it (a `StripeObject` is not a dict: no `.get`)."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return obj[name] if name in obj else default  # noqa: SIM401 (not a dict)


def object_id(value: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    return field(value, "id")


def _refused(error: stripe.StripeError, what: str) -> ProviderError:
    """A Stripe error as a `ProviderError`, logged with ids only (never card or person data)."""
    retryable = isinstance(
        error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError
    )
    code = getattr(error, "code", None) or type(error).__name__
    logger.warning(
        "stripe %s refused: %s (http %s, request %s)",
        what,
        code,
        getattr(error, "http_status", None),
        getattr(error, "request_id", None),
    )
    return ProviderError(f"Stripe refused {what} ({code})", retryable=retryable)


class StripeProvider(Provider):
    code = CODE
    label = "Stripe"
    is_demo = False

    def __init__(self, stripe_client: stripe.StripeClient | None = None):
        self._client = stripe_client

    @property
    def stripe(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = client()
        return self._client

    # --- online ----------------------------------------------------------------------------

    def _intent_for(self, payment: Payment, *, method: str, reader: str = "") -> Any:
        """The payment's PaymentIntent: the one it already has, or a new one for `method`
        ("card" online, "card_present" at a kiosk's reader) under the payment's idempotency
        key, so a retried start never makes a second one. Checked against the payment."""
        if payment.provider_reference:
            intent = self.stripe.v1.payment_intents.retrieve(payment.provider_reference)
        else:
            at_reader = method == "card_present"
            intent = self.stripe.v1.payment_intents.create(
                {
                    "amount": payment.amount_cents,
                    "currency": payment.currency.lower(),
                    "payment_method_types": [method],
                    "metadata": {**_metadata(payment), **({"reader": reader} if reader else {})},
                },
                {"idempotency_key": payment.idempotency_key + (":terminal" if at_reader else "")},
            )
        _check_intent_matches(intent, payment)
        return intent

    def start(self, *, payment: Payment, return_url: str) -> ProviderStart:
        """A PaymentIntent for the payment (the same one again for a retried start), and what
        the checkout page needs to mount the Payment Element. `return_url` is where the
        Payment Element sends the browser after 3-D Secure: the page passes it to the
        `payments/stripe_payment_element.html` include."""
        try:
            intent = self._intent_for(payment, method="card")
        except stripe.StripeError as error:
            raise _refused(error, "payment intent") from error
        if intent.status == "succeeded":
            # Paid already (its webhook may still be on its way): nothing left to mount.
            return ProviderStart(provider_reference=intent.id, kind="none")
        if intent.status == "canceled":
            raise ProviderError("This Stripe payment was canceled", retryable=False)
        return ProviderStart(
            provider_reference=intent.id,
            kind="client_secret",
            client_secret=intent.client_secret,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        )

    def refund(self, *, refund: Refund) -> str:
        """A refund to the card through the API; the same `Refund` asked twice is one refund."""
        payment = refund.payment
        if not payment.provider_reference:
            raise ProviderError("This payment has no Stripe reference", retryable=False)
        try:
            created = self.stripe.v1.refunds.create(
                {
                    "payment_intent": payment.provider_reference,
                    "amount": refund.amount_cents,
                    "metadata": {"refund": refund.public_id, "payment": payment.public_id},
                },
                {"idempotency_key": refund.idempotency_key},
            )
        except stripe.StripeError as error:
            raise _refused(error, "refund") from error
        if created.status in ("failed", "canceled"):
            raise ProviderError(f"Stripe refund {created.id} {created.status}", retryable=False)
        return created.id

    # --- at a kiosk's card reader (Stripe Terminal, server-driven) --------------------------

    def collect_on_terminal(self, *, payment: Payment, terminal_id: str) -> ProviderStart:
        """Have the reader `terminal_id` (a Stripe `tmr_…` id) collect the payment: a
        `card_present` PaymentIntent (the same one again for a retried call), handed to the
        reader. The outcome comes back through the webhook (`terminal.reader.action_*`,
        `payment_intent.*`); the kiosk polls the payment meanwhile."""
        try:
            intent = self._intent_for(payment, method="card_present", reader=terminal_id)
            reader = self.stripe.v1.terminal.readers.process_payment_intent(
                terminal_id,
                {"payment_intent": intent.id},
                {"idempotency_key": f"{payment.idempotency_key}:reader:{uuid.uuid4().hex}"},
            )
        except stripe.StripeError as error:
            raise _refused(error, "terminal payment") from error
        return ProviderStart(
            provider_reference=intent.id,
            kind="terminal",
            terminal_action={
                "reader": reader.id,
                "status": _reader_action_status(reader),
                "payment_intent": intent.id,
            },
        )

    def cancel_terminal(self, *, terminal_id: str) -> None:
        """Stop what the reader is doing (the resident walked away or pressed "cancel"). The
        PaymentIntent stays open: a new `collect_on_terminal` for the same payment reuses it."""
        try:
            self.stripe.v1.terminal.readers.cancel_action(
                terminal_id, options={"idempotency_key": f"cancel:{uuid.uuid4().hex}"}
            )
        except stripe.StripeError as error:
            raise _refused(error, "reader cancel") from error

    def terminal_status(self, *, terminal_id: str) -> dict[str, Any]:
        """The reader's state and its current action, for a kiosk screen (no card data)."""
        try:
            reader = self.stripe.v1.terminal.readers.retrieve(terminal_id)
        except stripe.StripeError as error:
            raise _refused(error, "reader status") from error
        return {
            "reader": reader.id,
            "online": field(reader, "status") == "online",
            "action": _reader_action_status(reader),
        }


def _metadata(payment: Payment) -> dict[str, str]:
    return {"order": payment.order.public_id, "payment": payment.public_id}


def _check_intent_matches(intent, payment: Payment) -> None:
    if intent.amount != payment.amount_cents or intent.currency.upper() != payment.currency:
        logger.error(
            "stripe intent %s does not match payment %s (amount or currency)",
            intent.id,
            payment.public_id,
        )
        raise ProviderError("The Stripe payment does not match this payment", retryable=False)


def _reader_action_status(reader) -> str | None:
    return field(field(reader, "action"), "status")
