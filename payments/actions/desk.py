"""Cash and cheques received at the régie's desk."""

import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AccessReason, AuditEntry, User
from identity.permissions import Capability, has_capability
from payments.errors import AmountMismatch
from payments.models import Order, Payment
from payments.money import format_cents

from .inputs import account_key
from .settlement import after_payment, settle


def record_desk_payment(
    *,
    actor: User,
    order: Order,
    method: str,
    amount_cents: int,
    idempotency_key: str,
    cheque_number: str = "",
) -> Payment:
    """Cash or a cheque handed to the régisseur for an order awaiting payment: the payment
    succeeds at once (cash/cheque accounts of the lines' régies) and gets its receipt. The same
    key twice from the same régisseur returns the first payment (the key is scoped to them)."""
    if not has_capability(actor, Capability.REFUND_PAYMENTS):
        raise Forbidden(_("You may not record desk payments."))
    if method not in (Payment.Method.CASH, Payment.Method.CHEQUE):
        raise DomainError(_("Cash or cheque."), field="method")
    if method == Payment.Method.CHEQUE and not cheque_number.strip():
        raise DomainError(_("Enter the cheque number."), field="cheque_number")
    key = account_key(idempotency_key, account=actor, use="desk", required=True)
    existing = _desk_payment_replayed(key, order)
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        # Again under the lock: a double click's second request waited for the first one.
        existing = _desk_payment_replayed(key, order)
        if existing is not None:
            return existing
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        if amount_cents != locked.total_cents:
            raise AmountMismatch(
                _("The amount received must be the order's total, %(total)s.")
                % {"total": format_cents(locked.total_cents)},
                field="amount_cents",
            )
        payment = Payment.objects.create(
            order=locked,
            provider="desk",
            method=method,
            provider_reference=f"desk-{secrets.token_hex(8)}"
            if method == Payment.Method.CASH
            else f"cheque-{cheque_number.strip()[:40]}-{secrets.token_hex(4)}",
            amount_cents=amount_cents,
            idempotency_key=key,
            recorded_by=actor,
        )
        settle(payment, source=None, by_regie_kind=method)
        record_audit_entry(
            actor=actor,
            action="payments.desk_payment",
            person=locked.payer,
            target=f"payment:{payment.public_id}",
            reason=AccessReason.PAYMENT,
            channel=AuditEntry.Channel.COUNTER,
        )
    after_payment(payment)
    return payment


def _desk_payment_replayed(key: str, order: Order) -> Payment | None:
    """The payment this (scoped) key already recorded, or None; a key used for another order is
    refused rather than passed off as this one."""
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None and (existing.order_id != order.pk or existing.provider != "desk"):
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return existing
