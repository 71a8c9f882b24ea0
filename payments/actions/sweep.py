"""The recovery path (`manage.py payments_sweep`): what a crash or a failing service left
undone."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from payments import signals
from payments.models import Order, OrderLine

from .refunds import retry_pending_refunds


def orders_to_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Paid orders with a line still to fulfil or to undo, paid more than `older_than` ago."""
    cutoff = timezone.now() - older_than
    return list(
        OrderLine.objects.filter(order__paid_at__lt=cutoff)
        .filter(
            Q(
                fulfilled_at__isnull=True,
                undo_requested_at__isnull=True,
                undeliverable_at__isnull=True,
                order__status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED],
            )
            | Q(undo_requested_at__isnull=False, undone_at__isnull=True)
        )
        .order_by()
        .values_list("order_id", flat=True)
        .distinct()
    )


def sweep(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """The recovery path (cron, `manage.py payments_sweep`): queue the fulfilment of every
    order a crash or a failing handler left behind, and retry stale card refunds."""
    orders = orders_to_sweep(older_than=older_than)
    for order_id in orders:
        signals.fulfilment_due.send(sender=Order, order_id=order_id)
    retry_pending_refunds()
    return orders
