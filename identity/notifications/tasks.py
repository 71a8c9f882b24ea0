"""Delivery as background tasks (the django-tasks API): one task per message and attempt.

After a temporary failure the task queues itself again for the time of the next attempt, where
the backend can wait (the database worker); the sweeper `send_due_notifications` catches up
whatever could not be queued (a backend that cannot defer, a queue that was down)."""

import logging

from django_tasks import task

from . import delivery

logger = logging.getLogger(__name__)


@task()
def deliver_notification(*, notification_id: int) -> str:
    attempt = delivery.deliver(notification_id)
    if attempt.retry_at is not None and deliver_notification.get_backend().supports_defer:
        deliver_notification.using(run_after=attempt.retry_at).enqueue(
            notification_id=notification_id
        )
    return attempt.status


@task()
def send_due_notifications() -> int:
    """The recovery path: one attempt for each message whose time has come."""
    due = delivery.due_notifications()
    for notification_id in due:
        delivery.deliver(notification_id)
    return len(due)


def enqueue_delivery(notification_id: int) -> None:
    """Called once the notifying transaction commits."""
    try:
        deliver_notification.enqueue(notification_id=notification_id)
    except Exception:  # the sweeper sends it
        logger.exception("could not queue notification=%s", notification_id)
