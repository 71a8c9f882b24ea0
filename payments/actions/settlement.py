"""A payment succeeded (through a provider or at the desk): the order paid, the ledger posted,
the documents issued, fulfilment and receipts queued."""

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from payments import fulfilment, ledger, signals
from payments.models import LedgerAccount, LedgerTransaction, Order, OrderLine, Payment

from .documents import issue_payment_documents

logger = logging.getLogger(__name__)
Kind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind


def settle(payment: Payment, *, source: LedgerAccount | None, by_regie_kind: str = "") -> None:
    """Mark `payment` (locked) succeeded and post it; the order becomes paid, or, when another
    payment paid it first, the money waits in suspense for a refund."""
    now = timezone.now()
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = now
    payment.failure_reason = ""
    lines = list(order.lines.select_related("regie"))

    def debit_entries() -> list:
        if source is not None:
            return [(source, payment.amount_cents)]
        by_regie: dict = defaultdict(int)
        for line in lines:
            by_regie[line.regie] += line.total_cents
        return [(ledger.regie_account(by_regie_kind, r), c) for r, c in by_regie.items()]

    if order.status != Order.Status.PENDING:
        payment.duplicate = True
        payment.save(update_fields=["status", "succeeded_at", "failure_reason", "duplicate"])
        ledger.post(
            kind=TxnKind.PAYMENT,
            entries=[*debit_entries(), (ledger.suspense_account(), -payment.amount_cents)],
            order=order,
            payment=payment,
            description=f"duplicate payment of order {order.public_id}",
        )
        logger.warning("payment=%s paid an order already paid: in suspense", payment.pk)
        return
    payment.save(update_fields=["status", "succeeded_at", "failure_reason"])
    order.status = Order.Status.PAID
    order.paid_at = now
    order.basket = False  # a basket paid at the régie's desk
    order.save(update_fields=["status", "paid_at", "basket"])
    order.payments.exclude(pk=payment.pk).filter(
        status__in=[Payment.Status.CREATED, Payment.Status.PENDING]
    ).update(status=Payment.Status.CANCELLED)
    credits = [(_line_account(line, order), -line.total_cents) for line in lines]
    ledger.post(
        kind=TxnKind.DESK if source is None else TxnKind.PAYMENT,
        entries=[*debit_entries(), *credits],
        order=order,
        payment=payment,
        regie=lines[0].regie if len({line.regie_id for line in lines}) == 1 else None,
        description=f"order {order.public_id}",
        reference=payment.provider_reference or "",
    )
    issue_payment_documents(order, payment, lines)


def _line_account(line: OrderLine, order: Order) -> LedgerAccount:
    if line.handler == fulfilment.WALLET_TOPUP:
        return ledger.wallet_account(line.beneficiary_id or order.payer_id)
    return ledger.regie_account(Kind.REVENUE, line.regie)


def after_payment(payment: Payment) -> None:
    """Once the payment commits, its lines are to be fulfilled and its receipts mailed (queued
    by `payments.tasks`)."""
    order_id = payment.order_id
    payment_id = payment.pk
    transaction.on_commit(lambda: signals.fulfilment_due.send(sender=Order, order_id=order_id))
    transaction.on_commit(lambda: signals.receipts_due.send(sender=Payment, payment_id=payment_id))
