"""Fulfilling paid lines and undoing refunded ones through the handlers services register
(`payments.fulfilment`); a line that can never be delivered is refunded automatically."""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import DomainError
from identity.models import AccessReason, AuditEntry
from payments import fulfilment, signals
from payments.models import Order, OrderLine, Payment, Refund

from .refunds import book_refund, finish_refund, refund_through_provider

logger = logging.getLogger(__name__)


def fulfil_order(order_id: int) -> int:
    """Fulfil the paid lines not fulfilled yet and undo the refunded ones not undone yet, each
    line in its own transaction with its row locked: exactly once each. A handler that raises
    leaves its line for the next try (the sweeper), except `fulfilment.CannotFulfil`: the line
    is then undeliverable, refunded and never tried again (`_mark_undeliverable`). Returns how
    many lines changed."""
    changed = 0
    line_ids = list(
        OrderLine.objects.filter(order_id=order_id)
        .filter(
            Q(
                fulfilled_at__isnull=True,
                undo_requested_at__isnull=True,
                undeliverable_at__isnull=True,
            )
            | Q(undo_requested_at__isnull=False, undone_at__isnull=True)
        )
        .values_list("pk", flat=True)
    )
    for line_id in line_ids:
        try:
            with transaction.atomic():
                changed += _apply_line(line_id)
        except fulfilment.CannotFulfil as error:  # never deliverable: refunded, not retried
            marked = _mark_undeliverable(line_id, error)
            if marked is None:
                _record_failed_attempt(line_id, error)
            else:
                changed += marked
        except Exception as error:  # a handler failed: retried later
            logger.exception("fulfilment of line=%s failed", line_id)
            _record_failed_attempt(line_id, error)
    return changed


def _record_failed_attempt(line_id: int, error: Exception) -> None:
    OrderLine.objects.filter(pk=line_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:300]
    )


def _mark_undeliverable(line_id: int, error: fulfilment.CannotFulfil) -> int | None:
    """The handler says this paid line can never be delivered: mark it undeliverable (never
    retried), refund it automatically and tell the payer. Exactly once per line: the line row is
    locked and its mark checked, and the refund's idempotency key is derived from the line.

    The refund goes back to the card through the provider when the payment was by card online
    or at a kiosk, else (cash or cheque at the desk) to the payer's wallet; it gets its credit
    note like any refund. A card refund the provider cannot take now stays pending and the
    sweeper retries it. Returns 1 when marked, 0 when already handled, None when the line is
    not a paid line waiting for its fulfilment (the error is then a plain failed attempt)."""
    refund = None
    with transaction.atomic():
        order_id = OrderLine.objects.values_list("order_id", flat=True).get(pk=line_id)
        # The payment first, then the line: the order refund_payment takes its locks in.
        payment = (
            Payment.objects.select_for_update()
            .filter(order_id=order_id, status=Payment.Status.SUCCEEDED, duplicate=False)
            .order_by("pk")
            .first()
        )
        line = _locked_line(line_id)
        if line.undeliverable_at is not None:
            return 0
        if line.fulfilled_at is not None or line.undo_requested_at is not None:
            return None
        order = line.order
        line.undeliverable_at = timezone.now()
        line.undeliverable_reason = (error.reason or "")[:60]
        line.attempts += 1
        line.last_error = f"CannotFulfil: {error.reason}"[:300]
        line.save(
            update_fields=["undeliverable_at", "undeliverable_reason", "attempts", "last_error"]
        )
        record_audit_entry(
            actor=None,
            action="payments.line_undeliverable",
            person=order.payer,
            target=f"order:{order.public_id}",
            reason=AccessReason.PAYMENT,
            channel=AuditEntry.Channel.SYSTEM,
        )
        if payment is not None:
            refund = _refund_undeliverable_line(payment, line)
        logger.warning(
            "line=%s of order=%s undeliverable (%s): refund=%s",
            line.pk,
            order.pk,
            line.undeliverable_reason,
            refund.pk if refund else None,
        )
    if refund is not None and refund.status == Refund.Status.PENDING:
        try:
            refund_through_provider(refund)
        except DomainError as refused:
            logger.warning(
                "refund=%s of line=%s not done yet: %s", refund.pk, line_id, refused.code
            )
    # Once the provider answered, so that the credit note goes with the email (at once outside
    # a transaction, after commit inside one).
    transaction.on_commit(
        lambda: signals.undeliverable_notice_due.send(sender=OrderLine, line_id=line_id)
    )
    return 1


def _refund_undeliverable_line(payment: Payment, line: OrderLine) -> Refund | None:
    """Book the refund of an undeliverable line (payment and line locked by the caller)."""
    amount = min(line.refundable_cents, payment.refundable_cents)
    if amount <= 0:
        return None  # a régisseur already gave it back
    order = line.order
    if payment.method == Payment.Method.CARD and payment.provider != "desk":
        destination = Refund.Destination.CARD
    elif order.payer_id is not None and line.handler != fulfilment.WALLET_TOPUP:
        destination = Refund.Destination.WALLET
    else:
        logger.error(
            "line=%s undeliverable: no card nor wallet to refund, left to the régie", line.pk
        )
        return None
    with translation.override(settings.LANGUAGE_CODE):  # data, in the territory's language
        reason = _("Could not be delivered: refunded automatically")
    refund = Refund.objects.create(
        payment=payment,
        amount_cents=amount,
        destination=destination,
        idempotency_key=fulfilment.undeliverable_refund_key(line.pk),
        reason=reason,
    )
    payment.refunded_cents += amount
    payment.save(update_fields=["refunded_cents"])
    book_refund(refund, payment, [line.pk])
    if destination != Refund.Destination.CARD:
        finish_refund(refund, payment)
    return refund


def _locked_line(line_id: int) -> OrderLine:
    return OrderLine.objects.select_for_update().select_related("order").get(pk=line_id)


def _apply_line(line_id: int) -> int:
    line = _locked_line(line_id)
    now = timezone.now()
    paid = line.order.status in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_REFUNDED,
        Order.Status.REFUNDED,
    )
    if line.undo_requested_at is not None:
        if line.undone_at is not None:
            return 0
        if line.fulfilled_at is not None:
            fulfilment.get_handler(line.handler).undo(line)
        line.undone_at = now
        line.attempts += 1
        line.save(update_fields=["undone_at", "attempts"])
        return 1
    if line.fulfilled_at is not None or line.undeliverable_at is not None or not paid:
        return 0
    fulfilment.get_handler(line.handler).fulfil(line)
    line.fulfilled_at = now
    line.attempts += 1
    line.last_error = ""
    line.save(update_fields=["fulfilled_at", "attempts", "last_error"])
    return 1
