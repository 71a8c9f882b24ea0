"""The provider interface, and how money comes in.

The flow of a payment
---------------------

1. Something builds an `Order` (`payments.actions.orders.create_order`: lines, each naming the
   fulfilment handler its service registered, a régie, a price in cents).
2. `payments.actions.checkout.start_payment(order=..., provider=..., idempotency_key=...,
   return_url=...)` creates (or, for the same key or an open attempt, finds again) a `Payment` with
   a unique `idempotency_key`, commits it, then calls `provider.start(payment=..., return_url=...)`.
   The provider talks to its service (passing `payment.idempotency_key` as the idempotency key of
   any money-moving call) and answers a `ProviderStart`: the `provider_reference` of the payment on
   its side (Stripe: the PaymentIntent id) and what the page or kiosk does next (redirect to a URL,
   mount the Payment Element with a client secret, or wait for a terminal). `start_payment` stores
   the reference; the Payment is then `pending`.
3. The provider confirms asynchronously (a verified webhook, or the demo page). Its code calls
   ONE of the actions of `payments.actions.provider_events` (or, for refunds,
   `payments.actions.refunds`), keyword-only:

   - `record_payment_succeeded(provider=, provider_reference=, amount_cents=, currency=,
     event_id=None) -> Payment`: idempotent (Payment row locked; `ProviderEvent(provider,
     event_id)` written in the same transaction); an amount or currency that differs from the
     payment's raises `DomainError` and writes nothing; an unknown reference raises `NotFound`
     (a webhook logs it and answers 200). Posts the ledger, issues the invoice(s) and receipt(s),
     then (after commit) queues fulfilment and the receipt email.
   - `record_payment_failed(provider=, provider_reference=, reason=, event_id=None)`
   - `record_provider_refund(provider=, provider_reference=, refund_reference=, amount_cents=,
     event_id=None)`: a refund made from the provider's dashboard (`provider_reference` is the
     payment's). A refund Sésame asked for (via `Provider.refund`) is already recorded: the
     same `refund_reference` coming back in a webhook is a no-op.
   - `record_refund_failed(provider=, refund_reference=, reason=, event_id=None)`: a refund we
     asked for that the provider later reports failed (the money goes back into the ledger).
   - `record_dispute(provider=, provider_reference=, amount_cents=, event_id=None)` and
     `record_dispute_closed(provider=, provider_reference=, amount_cents=, won=,
     event_id=None)`: a won dispute brings the money back (once); a lost one stays lost.
   - `record_provider_payout(provider=, payout_reference=, amount_cents=, arrival_date=,
     fee_cents=0, payment_references=(), currency="EUR", event_id=None)`: a payout to the bank,
     matched against the ledger in the daily reconciliation.
   - `already_processed(provider, event_id) -> bool`: a cheap early exit for webhooks.

   All raise `identity.errors.DomainError` subclasses (`NotFound`, `Conflict`) on refusal.
4. After the payment commits, a task fulfils each line through the handler its service
   registered (`payments.fulfilment`), exactly once; the sweeper (`manage.py payments_sweep`)
   finishes what a crash left undone. A handler that can never deliver raises
   `payments.fulfilment.CannotFulfil`: the line is marked undeliverable and refunded once.
5. A refund asked by a régisseur (`payments.actions.refunds.refund_payment`) to the card calls
   `provider.refund(refund=...)` with `refund.idempotency_key` and records the returned
   provider reference.

Registering a provider
----------------------

`payments.providers.get_provider(code)` builds providers lazily from `PROVIDER_PATHS`;
`"stripe"` is `payments.providers.stripe.StripeProvider` (a class constructed with no
argument, reading its settings). `online_provider()` is Stripe when `settings.STRIPE_SECRET_KEY`
is set, otherwise the demo provider. `register_provider(code, factory)` overrides (tests).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from payments.models import Payment, Refund


@dataclass(frozen=True)
class ProviderStart:
    """What a page or a kiosk needs to go on after `Provider.start`.

    - `redirect`: send the browser to `redirect_url` (Stripe Checkout, the demo page);
    - `client_secret`: mount the Payment Element with `client_secret` (and `publishable_key`);
    - `terminal`: the kiosk waits while the reader collects (`terminal_action` holds details);
    - `none`: nothing to do (already settled).
    """

    provider_reference: str
    kind: Literal["redirect", "client_secret", "terminal", "none"] = "redirect"
    redirect_url: str | None = None
    client_secret: str | None = None
    publishable_key: str | None = None
    terminal_action: dict[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider could not be reached or refused the call. Nothing is recorded as paid or
    refunded; the caller shows a message and may retry with the same idempotency key."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Provider(ABC):
    """Base class of payment providers. Subclasses set `code`, `label`, `is_demo` and implement
    `start` and `refund` (and `collect_on_terminal`, `cancel_terminal` and `terminal_status`
    when they drive a kiosk's card reader)."""

    code: ClassVar[str] = ""
    label: ClassVar[str] = ""
    is_demo: ClassVar[bool] = False

    @abstractmethod
    def start(self, *, payment: Payment, return_url: str) -> ProviderStart:
        """Begin collecting `payment.amount_cents` (EUR) for `payment`; idempotent for the same
        payment (use `payment.idempotency_key`). Called outside any database transaction;
        never records the payment as paid itself (confirmation comes through
        `record_payment_succeeded`)."""

    @abstractmethod
    def refund(self, *, refund: Refund) -> str:
        """Ask the provider to give `refund.amount_cents` back on `refund.payment`'s card; returns
        the provider's refund reference. Idempotent (use `refund.idempotency_key`); raises
        `ProviderError` when refused."""

    def collect_on_terminal(self, *, payment: Payment, terminal_id: str) -> ProviderStart:
        """Have a card reader (kiosk) collect `payment`. Optional."""
        raise ProviderError(f"{self.code} cannot collect on a terminal", retryable=False)

    def cancel_terminal(self, *, terminal_id: str) -> None:
        """Stop what the card reader `terminal_id` is doing (the resident pressed "cancel" or
        walked away); the payment itself is not recorded as anything. Optional."""
        raise ProviderError(f"{self.code} has no terminal to cancel", retryable=False)

    def terminal_status(self, *, terminal_id: str) -> dict[str, Any]:
        """The card reader's state for a kiosk screen: `{"reader", "online", "action"}` (no
        card data). Optional."""
        raise ProviderError(f"{self.code} has no terminal", retryable=False)
