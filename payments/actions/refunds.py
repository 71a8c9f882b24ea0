"""Refunds: asked by a régisseur (to the card, the wallet or in cash), reported by the provider
(made from its dashboard, or failed), retried when the provider could not be reached."""

import logging
from datetime import timedelta
from typing import NoReturn

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import User
from identity.permissions import Capability, has_capability
from payments import fulfilment, ledger, signals
from payments.errors import RefundInProgress, RefundTooLarge
from payments.models import LedgerAccount, LedgerTransaction, Order, OrderLine, Payment, Refund
from payments.money import format_cents
from payments.providers import ProviderError, get_provider

from .auditing import audit_refund
from .documents import issue_credit_note
from .inputs import MAX_KEY, account_key, check_amount
from .provider_events import claim_event, locked_payment

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind


def _allocate(payment: Payment, amount: int, line_ids: list[int] | None) -> list[tuple]:
    """Spread a refund over the order's lines (the chosen ones, else in order): (line, cents)."""
    lines = list(
        OrderLine.objects.select_for_update().filter(order_id=payment.order_id).order_by("pk")
    )
    if line_ids:
        lines = [line for line in lines if line.pk in set(line_ids)]
        if not lines:
            raise DomainError(_("Choose lines of this order."), field="lines")
    allocation = []
    left = amount
    for line in lines:
        share = min(left, line.refundable_cents)
        if share > 0:
            allocation.append((line, share))
            left -= share
    if left > 0:
        raise RefundTooLarge(
            _("The refund is larger than what is left to refund on these lines."),
            field="amount_cents",
        )
    return allocation


def _refund_ledger(refund: Refund, payment: Payment, allocation: list[tuple]) -> None:
    """Post a refund: each line's revenue (or the topped-up wallet) gives back its share to
    the provider clearing, the payer's wallet, or the desk cash."""
    order = payment.order
    debits = []
    for line, share in allocation:
        if line.handler == fulfilment.WALLET_TOPUP:
            if refund.destination == Refund.Destination.WALLET:
                raise DomainError(
                    _("A wallet top-up is refunded to the card, not to the wallet."),
                    field="destination",
                )
            debits.append((ledger.wallet_account(line.beneficiary_id or order.payer_id), share))
        else:
            debits.append((ledger.regie_account(Kind.REFUNDS, line.regie), share))
    if refund.destination == Refund.Destination.WALLET:
        if order.payer_id is None:
            raise DomainError(_("This order has no payer with a wallet."), field="destination")
        credit = ledger.wallet_account(order.payer_id)
    elif refund.destination == Refund.Destination.CASH or payment.provider == "desk":
        credit = ledger.regie_account(Kind.CASH, allocation[0][0].regie)
    else:
        credit = ledger.provider_account(Kind.CLEARING, payment.provider)
    ledger.post(
        kind=TxnKind.REFUND,
        entries=[*debits, (credit, -refund.amount_cents)],
        order=order,
        payment=payment,
        refund=refund,
        description=f"refund of order {order.public_id}",
        reference=refund.provider_reference or "",
    )


def book_refund(refund: Refund, payment: Payment, line_ids: list[int] | None) -> None:
    """In the caller's transaction, the payment locked: the ledger, the lines' and the order's
    refunded amounts. Raises (and the caller's transaction rolls back) when a topped-up wallet
    has already been spent: checked before the provider is ever asked."""
    allocation = _allocate(payment, refund.amount_cents, line_ids)
    _refund_ledger(refund, payment, allocation)
    for line, share in allocation:
        line.refunded_cents += share
        line.save(update_fields=["refunded_cents"])
    refund.allocation = {str(line.pk): share for line, share in allocation}
    refund.save(update_fields=["allocation"])
    refund.lines.set([line for line, _share in allocation])
    if not payment.duplicate:
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        order.refunded_cents = min(order.total_cents, order.refunded_cents + refund.amount_cents)
        order.status = _refund_status(order)
        order.save(update_fields=["refunded_cents", "status"])


def _refund_status(order: Order) -> str:
    if order.refunded_cents <= 0:
        return Order.Status.PAID
    if order.refunded_cents >= order.total_cents:
        return Order.Status.REFUNDED
    return Order.Status.PARTIALLY_REFUNDED


def finish_refund(refund: Refund, payment: Payment) -> None:
    """The money is on its way back: the refund succeeded, fully refunded lines are to be
    undone (after commit), the credit note is numbered."""
    now = timezone.now()
    refund.status = Refund.Status.SUCCEEDED
    refund.completed_at = now
    refund.save(update_fields=["status", "completed_at", "provider_reference"])
    allocation = []
    for line in OrderLine.objects.select_for_update().filter(pk__in=refund.allocation.keys()):
        allocation.append((line, refund.allocation[str(line.pk)]))
        if line.refunded_cents >= line.total_cents and line.undo_requested_at is None:
            line.undo_requested_at = now
            fields = ["undo_requested_at"]
            if line.fulfilled_at is None:  # nothing was delivered (row locked): nothing to undo
                line.undone_at = now
                fields.append("undone_at")
            line.save(update_fields=fields)
    allocation.sort(key=lambda pair: pair[0].pk)
    issue_credit_note(refund, payment, allocation)
    order_id = payment.order_id
    transaction.on_commit(lambda: signals.fulfilment_due.send(sender=Order, order_id=order_id))


def _unbook_refund(refund: Refund, payment: Payment, reason: str) -> None:
    """A refund the provider refused or reports failed: its postings are reversed and the
    amounts given back to the payment, the lines and the order."""
    for original in LedgerTransaction.objects.filter(refund=refund, kind=TxnKind.REFUND):
        ledger.post(
            kind=TxnKind.ADJUSTMENT,
            entries=[(e.account, -e.amount_cents) for e in original.entries.all()],
            order=payment.order,
            payment=payment,
            refund=refund,
            description=f"refund {refund.public_id} failed at the provider",
        )
    for line in OrderLine.objects.select_for_update().filter(pk__in=refund.allocation.keys()):
        line.refunded_cents = max(0, line.refunded_cents - refund.allocation[str(line.pk)])
        line.save(update_fields=["refunded_cents"])
    if not payment.duplicate:
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        order.refunded_cents = max(0, order.refunded_cents - refund.amount_cents)
        order.status = _refund_status(order)
        order.save(update_fields=["refunded_cents", "status"])
    payment.refunded_cents = max(0, payment.refunded_cents - refund.amount_cents)
    payment.save(update_fields=["refunded_cents"])
    refund.status = Refund.Status.FAILED
    refund.failure_reason = (reason or "")[:300]
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "failure_reason", "completed_at"])


def refund_payment(
    *,
    actor: User,
    payment: Payment,
    amount_cents: int,
    destination: str,
    reason: str = "",
    idempotency_key: str,
    line_ids: list[int] | None = None,
) -> Refund:
    """A régisseur gives back all or part of a payment, to the card (through the provider), to
    the payer's wallet, or in cash for a desk payment. More than what is left to refund is
    refused with a clear message (`RefundInProgress` when a refund still waiting for the
    provider holds it); the same key twice from the same régisseur returns the first
    refund (the key is scoped to them: another's identical key is another request)."""
    if not has_capability(actor, Capability.REFUND_PAYMENTS):
        raise Forbidden(_("You may not refund payments."))
    key = account_key(idempotency_key, account=actor, use="refund", required=True)
    if destination not in Refund.Destination.values:
        raise DomainError(_("Choose where the money goes back."), field="destination")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise DomainError(_("The amount must be greater than zero."), field="amount_cents")
    existing = _refund_replayed(key, payment)
    if existing is not None:
        return existing
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        # Again under the lock: a double click's second request waited for the first one.
        existing = _refund_replayed(key, payment)
        if existing is not None:
            return existing
        if payment.status != Payment.Status.SUCCEEDED:
            raise Conflict(_("Only a succeeded payment can be refunded."), field="payment")
        if amount_cents > payment.refundable_cents:
            _refuse_too_large(payment, amount_cents)
        if destination == Refund.Destination.CASH and payment.provider != "desk":
            raise DomainError(_("Only a desk payment is refunded in cash."), field="destination")
        if destination == Refund.Destination.CARD and payment.provider == "desk":
            raise DomainError(_("A desk payment has no card to refund."), field="destination")
        refund = Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            destination=destination,
            idempotency_key=key,
            reason=(reason or "")[:300],
            requested_by=actor,
        )
        # Reserve the amount now: two régisseurs refunding at once cannot exceed the payment.
        payment.refunded_cents += amount_cents
        payment.save(update_fields=["refunded_cents"])
        audit_refund(actor, payment, refund)
        book_refund(refund, payment, line_ids)
        if destination != Refund.Destination.CARD:
            finish_refund(refund, payment)
            return refund
    return refund_through_provider(refund)


def _refuse_too_large(payment: Payment, asked: int) -> NoReturn:
    """Why `asked` cannot be refunded on `payment` (locked), in words: a refund still waiting
    for the provider holds the amount (`RefundInProgress`), nothing is left, or less is."""
    amounts = {
        "asked": format_cents(asked),
        "left": format_cents(payment.refundable_cents),
        "paid": format_cents(payment.amount_cents),
    }
    pending = payment.refunds.filter(status=Refund.Status.PENDING).aggregate(
        total=Sum("amount_cents")
    )["total"]
    if pending:
        raise RefundInProgress(
            _(
                "A refund of %(pending)s of this payment is already in progress with the "
                "payment provider: %(left)s is left to refund."
            )
            % {**amounts, "pending": format_cents(pending)},
            field="amount_cents",
        )
    if payment.refundable_cents == 0:
        raise RefundTooLarge(
            _("Nothing is left to refund on this payment of %(paid)s.") % amounts,
            field="amount_cents",
        )
    raise RefundTooLarge(
        _("You cannot refund %(asked)s: %(left)s is left to refund on this payment of %(paid)s.")
        % amounts,
        field="amount_cents",
    )


def _refund_replayed(key: str, payment: Payment) -> Refund | None:
    """The refund this (scoped) key already made, or None; a key used for another payment is
    refused."""
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None and existing.payment_id != payment.pk:
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return existing


def refund_through_provider(refund: Refund) -> Refund:
    """Ask the provider (outside any transaction) for a refund already booked."""
    try:
        reference = get_provider(refund.payment.provider).refund(refund=refund)
    except ProviderError as error:
        if error.retryable:
            logger.warning("refund=%s provider error, left pending for a retry", refund.pk)
            raise DomainError(
                _("The payment provider could not be reached; the refund will be retried."),
                code="provider_unavailable",
            ) from error
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
            refund = Refund.objects.select_for_update().get(pk=refund.pk)
            if refund.status == Refund.Status.PENDING:
                _unbook_refund(refund, payment, error.message)
        raise DomainError(
            _("The payment provider refused the refund: %(reason)s") % {"reason": error.message},
            code="provider_refused",
        ) from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == Refund.Status.PENDING:
            refund.provider_reference = reference
            finish_refund(refund, payment)
    return refund


def retry_pending_refunds(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Card refunds left pending (provider unreachable, or a crash after its answer): ask the
    provider again with the same idempotency key (it answers the same refund)."""
    done = 0
    stale = Refund.objects.filter(
        status=Refund.Status.PENDING,
        destination=Refund.Destination.CARD,
        created_at__lt=timezone.now() - older_than,
    )
    for refund in stale:
        try:
            refund_through_provider(refund)
            done += 1
        except DomainError:
            logger.warning("refund=%s still pending", refund.pk)
    return done


def record_provider_refund(
    *,
    provider: str,
    provider_reference: str,
    refund_reference: str,
    amount_cents: int,
    event_id: str | None = None,
) -> Refund:
    """A refund the provider reports (made from its dashboard, or the echo of one Sésame asked
    for). Known `refund_reference`: nothing more. A pending refund of Sésame with that amount
    (its answer not stored yet): completed with this reference. More than what is left to
    refund: `RefundTooLarge`, nothing written."""
    check_amount(amount_cents)
    with transaction.atomic():
        payment = locked_payment(provider, provider_reference)
        known = Refund.objects.filter(payment=payment, provider_reference=refund_reference).first()
        if known is not None:
            claim_event(provider, event_id, "refund", payment)
            return known
        pending = (
            Refund.objects.select_for_update()
            .filter(
                payment=payment,
                status=Refund.Status.PENDING,
                destination=Refund.Destination.CARD,
                amount_cents=amount_cents,
                provider_reference__isnull=True,
            )
            .order_by("pk")
            .first()
        )
        if not claim_event(provider, event_id, "refund", payment):
            return pending or payment.refunds.order_by("-pk").first()
        if pending is not None:
            pending.provider_reference = refund_reference
            finish_refund(pending, payment)
            return pending
        if payment.status != Payment.Status.SUCCEEDED:
            raise Conflict(_("Only a succeeded payment can be refunded."), field="payment")
        if amount_cents > payment.refundable_cents:
            raise RefundTooLarge(
                _("The refund is larger than what is left to refund."), field="amount_cents"
            )
        refund = Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            destination=Refund.Destination.CARD,
            provider_reference=refund_reference,
            idempotency_key=f"{provider}:{refund_reference}"[:MAX_KEY],
            reason=_("Refund made from the provider's dashboard"),
        )
        payment.refunded_cents += amount_cents
        payment.save(update_fields=["refunded_cents"])
        book_refund(refund, payment, None)
        finish_refund(refund, payment)
    return refund


def record_refund_failed(
    *, provider: str, refund_reference: str, reason: str, event_id: str | None = None
) -> Refund:
    """A card refund the provider finally could not make: its postings are reversed and the
    amount is refundable again; lines already undone stay undone (the régisseur decides)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update()
            .filter(payment__provider=provider, provider_reference=refund_reference)
            .first()
        )
        if refund is None:
            raise NotFound(_("Unknown refund."), code="unknown_refund")
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        if not claim_event(provider, event_id, "refund_failed", payment):
            return refund
        if refund.status != Refund.Status.FAILED:
            _unbook_refund(refund, payment, reason)
    return refund
