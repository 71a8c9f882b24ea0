"""Background work of the payments floor (the django-tasks API), and its queueing.

The tasks run actions; the actions announce the work they leave for later through
`payments.signals` (they cannot import this module: it imports them), and the receivers here
queue it. A task that cannot be queued is logged: the sweeper catches fulfilment up."""

import logging

from django.dispatch import receiver
from django_tasks import task

from . import notifications, signals
from .actions.fulfilment import fulfil_order
from .actions.sweep import sweep

logger = logging.getLogger(__name__)


@task()
def fulfil_order_task(*, order_id: int) -> int:
    """Fulfil (or undo) the lines of a paid (or refunded) order, each exactly once."""
    return fulfil_order(order_id)


@task()
def sweep_task() -> list[int]:
    """The recovery path: re-queue orders a crash or a failing handler left unfulfilled."""
    return sweep()


@task()
def send_receipt_email_task(*, payment_id: int) -> bool:
    return notifications.send_receipt_email(payment_id)


@task()
def send_undeliverable_email_task(*, line_id: int) -> bool:
    return notifications.send_undeliverable_email(line_id)


@receiver(signals.fulfilment_due, dispatch_uid="payments.tasks.enqueue_fulfilment")
def enqueue_fulfilment(sender, *, order_id: int, **kwargs) -> None:
    try:
        fulfil_order_task.enqueue(order_id=order_id)
    except Exception:  # the sweeper catches it up
        logger.exception("could not queue the fulfilment of order=%s", order_id)


@receiver(signals.receipts_due, dispatch_uid="payments.tasks.enqueue_receipt_email")
def enqueue_receipt_email(sender, *, payment_id: int, **kwargs) -> None:
    try:
        send_receipt_email_task.enqueue(payment_id=payment_id)
    except Exception:  # the receipts stay downloadable
        logger.exception("could not queue the receipt email of payment=%s", payment_id)


@receiver(signals.undeliverable_notice_due, dispatch_uid="payments.tasks.enqueue_notice")
def enqueue_undeliverable_email(sender, *, line_id: int, **kwargs) -> None:
    try:
        send_undeliverable_email_task.enqueue(line_id=line_id)
    except Exception:
        logger.exception("could not queue the undeliverable email of line=%s", line_id)
