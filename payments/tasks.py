"""Background work of the payments floor (the django-tasks API)."""

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def fulfil_order_task(*, order_id: int) -> int:
    """Fulfil (or undo) the lines of a paid (or refunded) order, each exactly once."""
    from . import actions

    return actions.fulfil_order(order_id)


@task()
def sweep_task() -> list[int]:
    """The recovery path: re-queue orders a crash or a failing handler left unfulfilled."""
    from . import actions

    return actions.sweep()


@task()
def send_receipt_email_task(*, payment_id: int) -> bool:
    from . import notifications

    return notifications.send_receipt_email(payment_id)
