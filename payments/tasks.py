"""Background work of the payments floor (the django-tasks API)."""

import logging

from django_tasks import task

# actions imports this module only inside the functions that queue these tasks (the one real
# cycle), so the tasks import it at the top.
from . import notifications
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
