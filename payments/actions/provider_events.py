"""What providers report about payments (succeeded, failed, abandoned), disputes and payouts.

Each provider event id is recorded once (`ProviderEvent`) in the transaction of its effect; the
Payment row is locked while an event about it is applied."""

import logging
from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from identity.errors import DomainError, NotFound
from payments import ledger
from payments.errors import AmountMismatch, RefundTooLarge
from payments.models import (
    CURRENCY,
    LedgerAccount,
    LedgerTransaction,
    Payment,
    ProviderEvent,
    ProviderPayout,
)

from .inputs import MAX_KEY, check_amount, check_currency
from .settlement import after_payment, settle

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind


def already_processed(provider: str, event_id: str | None) -> bool:
    """True when this provider event was already acted upon (a retried webhook)."""
    return (
        bool(event_id)
        and ProviderEvent.objects.filter(provider=provider, event_id=event_id).exists()
    )


def claim_event(provider: str, event_id: str | None, kind: str, payment=None) -> bool:
    """Record the event inside the current transaction; False when it was already there (the
    caller returns without effect). A concurrent delivery of the same event waits on the unique
    index and then fails, rolling its savepoint back."""
    if not event_id:
        return True
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=provider, event_id=event_id, kind=kind, payment=payment
            )
    except IntegrityError:
        return False
    return True


def locked_payment(provider: str, provider_reference: str) -> Payment:
    payment = (
        Payment.objects.select_for_update()
        .filter(provider=provider, provider_reference=provider_reference)
        .first()
    )
    if payment is None:
        logger.warning("provider=%s reports an unknown payment", provider)
        raise NotFound(_("Unknown payment."), code="unknown_payment")
    return payment


def record_payment_succeeded(
    *,
    provider: str,
    provider_reference: str,
    amount_cents: int,
    currency: str,
    event_id: str | None = None,
) -> Payment:
    """The provider collected the money. Idempotent: a replayed event, or a second event for an
    already succeeded payment, credits nothing more. Amount or currency not those of the
    payment: `AmountMismatch`, nothing written. Unknown reference: `NotFound`.

    In one transaction: the Payment (locked) is succeeded, the order paid, the ledger posted
    (provider clearing → each line's revenue or wallet), the invoices and receipts numbered;
    after commit, fulfilment and the receipt email are queued (and the sweeper catches them
    up if the process dies in between)."""
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        if (currency or "").upper() != payment.currency:
            raise AmountMismatch(_("The currency does not match the payment."), field="currency")
        if amount_cents != payment.amount_cents:
            raise AmountMismatch(_("The amount does not match the payment."), field="amount_cents")
        if not claim_event(provider, event_id, "payment_succeeded", payment):
            return payment
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        settle(payment, source=ledger.provider_account(Kind.CLEARING, provider))
    after_payment(payment)
    return payment


def record_payment_failed(
    *, provider: str, provider_reference: str, reason: str, event_id: str | None = None
) -> Payment:
    """The provider declined or the resident gave up. A failure arriving after a success (out
    of order) changes nothing."""
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        if not claim_event(provider, event_id, "payment_failed", payment):
            return payment
        if payment.status in (Payment.Status.CREATED, Payment.Status.PENDING):
            payment.status = Payment.Status.FAILED
            payment.failure_reason = (reason or "")[:300]
            payment.save(update_fields=["status", "failure_reason"])
    return payment


def record_payment_cancelled(
    *, provider: str, provider_reference: str, event_id: str | None = None
) -> Payment:
    """The resident abandoned the payment page."""
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        if not claim_event(provider, event_id, "payment_cancelled", payment):
            return payment
        if payment.status in (Payment.Status.CREATED, Payment.Status.PENDING):
            payment.status = Payment.Status.CANCELLED
            payment.save(update_fields=["status"])
    return payment


def record_dispute(
    *, provider: str, provider_reference: str, amount_cents: int, event_id: str | None = None
) -> Payment:
    """The cardholder's bank disputes a payment: the provider takes the amount back from the
    clearing account (into the disputes account the régisseur follows up)."""
    check_amount(amount_cents)
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        if not claim_event(provider, event_id, "dispute", payment):
            return payment
        if amount_cents > payment.amount_cents - payment.disputed_cents:
            raise RefundTooLarge(  # the event's row rolls back with the transaction
                _("The dispute is larger than the payment."), field="amount_cents"
            )
        ledger.post(
            kind=TxnKind.DISPUTE,
            entries=[
                (ledger.provider_account(Kind.DISPUTES, provider), amount_cents),
                (ledger.provider_account(Kind.CLEARING, provider), -amount_cents),
            ],
            order=payment.order,
            payment=payment,
            description=f"dispute on payment {payment.public_id}",
        )
        payment.disputed_cents += amount_cents
        payment.save(update_fields=["disputed_cents"])
    logger.warning("payment=%s disputed (%s cents)", payment.pk, amount_cents)
    return payment


def record_dispute_closed(
    *,
    provider: str,
    provider_reference: str,
    amount_cents: int,
    won: bool,
    event_id: str | None = None,
    dispute_reference: str | None = None,
) -> Payment:
    """The bank decided a dispute. Won: the provider gives the disputed money back, so it
    returns from the disputes account to the clearing account (one balanced posting, once:
    per event id, per `dispute_reference` when given, and never more than what is disputed on
    the payment). Lost: the money stays in the disputes account (the régisseur writes it off);
    nothing is posted. More than what is disputed: `RefundTooLarge`, nothing written."""
    check_amount(amount_cents)
    key = f"{provider}:dispute-won:{dispute_reference}"[:MAX_KEY] if dispute_reference else None
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        if not claim_event(provider, event_id, "dispute_won" if won else "dispute_lost", payment):
            return payment
        if not won:
            logger.warning("payment=%s dispute lost (%s cents)", payment.pk, amount_cents)
            return payment
        if key and LedgerTransaction.objects.filter(idempotency_key=key).exists():
            return payment
        if amount_cents > payment.disputed_cents:
            raise RefundTooLarge(  # the event's row rolls back with the transaction
                _("More than what is disputed on this payment."), field="amount_cents"
            )
        ledger.post(
            kind=TxnKind.DISPUTE,
            entries=[
                (ledger.provider_account(Kind.CLEARING, provider), amount_cents),
                (ledger.provider_account(Kind.DISPUTES, provider), -amount_cents),
            ],
            order=payment.order,
            payment=payment,
            idempotency_key=key,
            description=f"dispute won on payment {payment.public_id}",
            reference=(dispute_reference or "")[:120],
        )
        payment.disputed_cents -= amount_cents
        payment.save(update_fields=["disputed_cents"])
    logger.info("payment=%s dispute won (%s cents back)", payment.pk, amount_cents)
    return payment


def record_provider_payout(
    *,
    provider: str,
    payout_reference: str,
    amount_cents: int,
    arrival_date: date,
    fee_cents: int = 0,
    payment_references: list[str] | tuple = (),
    currency: str = CURRENCY,
    event_id: str | None = None,
) -> ProviderPayout:
    """The provider paid `amount_cents` (net of `fee_cents`) into the bank: clearing → bank and
    fees. `payment_references` (the payments it settles) are linked for reconciliation.
    Idempotent per payout reference."""
    check_currency(currency)
    if not isinstance(amount_cents, int) or amount_cents <= 0 or fee_cents < 0:
        raise DomainError(_("Invalid payout amount."), field="amount_cents")
    with transaction.atomic():
        existing = ProviderPayout.objects.filter(
            provider=provider, provider_reference=payout_reference
        ).first()
        if existing is not None:
            return existing
        if not claim_event(provider, event_id, "payout"):
            return ProviderPayout.objects.get(
                provider=provider, provider_reference=payout_reference
            )
        payout = ProviderPayout.objects.create(
            provider=provider,
            provider_reference=payout_reference,
            amount_cents=amount_cents,
            fee_cents=fee_cents,
            currency=currency.upper(),
            arrival_date=arrival_date,
        )
        entries = [
            (ledger.provider_account(Kind.BANK, provider), amount_cents),
            (ledger.provider_account(Kind.CLEARING, provider), -(amount_cents + fee_cents)),
        ]
        if fee_cents:
            entries.append((ledger.provider_account(Kind.FEES, provider), fee_cents))
        ledger.post(
            kind=TxnKind.PAYOUT,
            entries=entries,
            payout=payout,
            description=f"payout {payout_reference}",
            reference=payout_reference,
        )
        if payment_references:
            Payment.objects.filter(
                provider=provider, provider_reference__in=list(payment_references)
            ).update(payout=payout)
    return payout
