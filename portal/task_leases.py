"""Leases on background tasks, so that a task whose worker died is run again without a cron.

django-tasks-db marks a task RUNNING when a worker claims it, and nothing else ever changes
that status if the worker process dies (SIGKILL, out of memory, the machine rebooted): the task
would stay RUNNING forever. Sésame's `db_worker` (portal/management/commands/db_worker.py) adds
a lease to every task it runs, whatever its kind:

- when it starts a task, the worker takes a lease on it for `SESAME_TASK_LEASE_SECONDS`;
- while the task runs, a heartbeat thread renews the lease every third of that time;
- the same thread, in every worker, puts back in the queue (READY) each RUNNING task whose lease
  has expired, or which has no lease and started longer than a lease ago (a worker that died
  between the claim and the lease). The next free worker runs it again.

A task that kills its worker each time would come back forever: after `SESAME_TASK_MAX_ATTEMPTS`
claims it is marked FAILED instead (`LeaseExpired`), for an operator to look at.

Running a task again is safe because every task runs actions that do their work exactly once
(a paid line is fulfilled under its row lock and marked in the same transaction, …): what the
dead worker committed stays done, what it had not committed is rolled back by the database.
"""

import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from .models import TaskLease

logger = logging.getLogger(__name__)


class LeaseExpired(Exception):
    """The task's worker stopped renewing its lease too many times (the reason a task was
    failed by the lease sweep, as recorded on its result)."""


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.SESAME_TASK_LEASE_SECONDS)


def take_lease(*, task_id: uuid.UUID, worker_id: str) -> None:
    """The worker starts running the task: it holds it for one lease."""
    TaskLease.objects.update_or_create(
        task_id=task_id,
        defaults={"worker_id": worker_id, "expires_at": timezone.now() + lease_duration()},
    )


def renew_lease(*, task_id: uuid.UUID, worker_id: str) -> bool:
    """Extend the lease the worker holds; False when it holds it no more (taken back)."""
    renewed = TaskLease.objects.filter(task_id=task_id, worker_id=worker_id).update(
        expires_at=timezone.now() + lease_duration()
    )
    return renewed == 1


def release_lease(*, task_id: uuid.UUID, worker_id: str) -> None:
    TaskLease.objects.filter(task_id=task_id, worker_id=worker_id).delete()


def expired_tasks(*, now=None):
    """RUNNING tasks whose worker no longer renews their lease."""
    now = now or timezone.now()
    lease = TaskLease.objects.filter(task_id=OuterRef("pk"))
    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).filter(
        Q(Exists(lease.filter(expires_at__lt=now)))
        | Q(~Exists(lease), started_at__lt=now - lease_duration())
    )


def requeue_expired_tasks(*, now=None) -> list[uuid.UUID]:
    """Put back in the queue every task whose lease has expired (each in its own transaction,
    its row locked and its state read again, so two workers sweeping at once requeue it
    once); one tried too many times is failed instead. Returns the ids requeued or failed."""
    handled = []
    for task_id in list(expired_tasks(now=now).values_list("pk", flat=True)):
        with transaction.atomic():
            task = (
                expired_tasks(now=now)
                .select_for_update(
                    skip_locked=connection.features.has_select_for_update_skip_locked
                )
                .filter(pk=task_id)
                .first()
            )
            if task is None:
                continue  # finished meanwhile, or another worker is on it
            TaskLease.objects.filter(task_id=task_id).delete()
            attempts = len(task.worker_ids)
            if attempts >= settings.SESAME_TASK_MAX_ATTEMPTS:
                task.set_failed(
                    LeaseExpired(f"its worker stopped after each of {attempts} attempts")
                )
                logger.error("task id=%s failed: lease expired %s times", task_id, attempts)
            else:
                task.status = TaskResultStatus.READY
                task.save(update_fields=["status"])
                logger.warning("task id=%s requeued: its worker's lease expired", task_id)
        handled.append(task_id)
    return handled


class Heartbeat(threading.Thread):
    """Beside a worker's main loop: renews the lease of the task it runs and sweeps expired
    leases, every third of a lease. A database that is away (restarted) only delays it."""

    def __init__(self, *, worker_id: str):
        super().__init__(name="task-lease-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.current: uuid.UUID | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        period = max(lease_duration().total_seconds() / 3, 0.1)
        while not self.stopped.wait(period):
            try:
                close_old_connections()
                current = self.current
                if current is not None:
                    renew_lease(task_id=current, worker_id=self.worker_id)
                requeue_expired_tasks()
            except Exception:
                logger.exception("task lease heartbeat failed; trying again")
                connection.close()
        connection.close()

    def stop(self) -> None:
        self.stopped.set()
