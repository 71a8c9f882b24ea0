"""Orders paid at once (a kiosk, a desk, the API) and their lines; cancelling an unpaid order."""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from identity.errors import Conflict, DomainError, Forbidden
from identity.models import Person, User
from payments import fulfilment
from payments.models import Channel, Document, Order, OrderLine, Payment, Regie

from .inputs import account_key, check_amount

logger = logging.getLogger(__name__)


@dataclass
class LineInput:
    """A line to sell. `handler` must be registered (`payments.fulfilment`)."""

    regie: Regie
    label: str
    handler: str
    unit_price_cents: int
    quantity: int = 1
    explanation: str = ""
    payload: dict = field(default_factory=dict)
    beneficiary: Person | None = None


def check_lines(lines: list[LineInput]) -> int:
    """Refuse lines nothing can deliver or badly priced; their total in cents."""
    if not lines:
        raise DomainError(_("An order needs at least one line."), field="lines")
    total = 0
    for line in lines:
        if not fulfilment.is_registered(line.handler):
            raise DomainError(
                _("Nothing can deliver “%(label)s”.") % {"label": line.label}, field="handler"
            )
        if not isinstance(line.quantity, int) or not 0 < line.quantity <= 100:
            raise DomainError(_("Invalid quantity."), field="quantity")
        check_amount(line.unit_price_cents, field="unit_price_cents")
        total += line.quantity * line.unit_price_cents
    return total


def new_lines(order: Order, lines: list[LineInput]) -> None:
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            regie=line.regie,
            label=line.label[:200],
            explanation=line.explanation[:200],
            handler=line.handler,
            payload=line.payload,
            beneficiary=line.beneficiary,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
        )
        for line in lines
    )


def create_order(
    *,
    buyer: User | None,
    payer: Person | None,
    lines: list[LineInput],
    channel: str = Channel.WEB,
    idempotency_key: str | None = None,
) -> Order:
    """An order awaiting payment, paid at once (a kiosk, a desk, the API): never a basket (the
    web channel gathers purchases with `add_to_basket`). The same `idempotency_key` returns the
    first order (a retried kiosk or API request) — from the same buyer only: the key is scoped
    to the buyer (`account_key`), another buyer's identical key is another order. The services
    price their lines, payments only checks them."""
    key = account_key(idempotency_key, account=buyer, use="order")
    if channel not in Channel.values:
        raise DomainError(_("Unknown channel."), field="channel")
    total = check_lines(lines)
    check_amount(total, field="total_cents")
    if key:
        existing = Order.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return _same_order(existing, total)
    try:
        with transaction.atomic():
            order = Order.objects.create(
                buyer=buyer,
                payer=payer,
                channel=channel,
                total_cents=total,
                idempotency_key=key,
            )
            new_lines(order, lines)
    except IntegrityError:
        existing = Order.objects.filter(idempotency_key=key).first() if key else None
        if existing is None:
            raise
        return _same_order(existing, total)
    logger.info("order created order=%s channel=%s total=%s", order.pk, channel, total)
    return order


def _same_order(order: Order, total: int) -> Order:
    """The order a replayed key of the same buyer created: refused when the key comes back for
    another amount (a reused key must not pass for the purchase it did not make)."""
    if order.total_cents != total:
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return order


def cancel_order(*, actor: User | None, order: Order) -> Order:
    """An unpaid basket given up; its open payments are abandoned, and each line's handler
    releases at once what the line held (its `on_cancel` hook, when it registered one: a
    lesson's place is free again now rather than when its hold expires)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING:
            raise Conflict(_("Only an order awaiting payment can be cancelled."))
        if order.documents.filter(kind=Document.Kind.INVOICE).exists():
            # A numbered invoice stays in the régie's sequence: a credit note corrects it.
            raise Conflict(
                _("An issued invoice is not cancelled: the régie corrects it by a credit note."),
                code="invoice_issued",
            )
        if actor is not None and order.buyer_id != actor.pk:
            raise Forbidden(_("This order is not yours."))
        order.status = Order.Status.CANCELLED
        order.basket = False
        order.save(update_fields=["status", "basket"])
        order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PENDING]).update(
            status=Payment.Status.CANCELLED
        )
        for line in order.lines.filter(fulfilled_at__isnull=True).order_by("pk"):
            release_cancelled_line(line)
    logger.info("order cancelled order=%s", order.pk)
    return order


def release_cancelled_line(line: OrderLine) -> None:
    """Call the line's `on_cancel` hook in a savepoint of its own: a failing service is logged
    and does not stop the cancellation (what the line held then expires by itself)."""
    if not fulfilment.is_registered(line.handler):
        return
    hook = fulfilment.get_handler(line.handler).on_cancel
    if hook is None:
        return
    try:
        with transaction.atomic():
            hook(line)
    except Exception:
        logger.exception("on_cancel of line=%s failed; what it held expires by itself", line.pk)
