"""django-tasks-db's worker, with a lease on every task it runs (portal.task_leases): a task
left RUNNING by a worker that died is run again by the next worker, without a cron. Same
options as django-tasks-db's own command, which this one replaces (portal comes first in
INSTALLED_APPS)."""

from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from portal import task_leases


class LeasedWorker(db_worker.Worker):
    def run(self) -> None:
        self.heartbeat = task_leases.Heartbeat(worker_id=self.worker_id)
        self.heartbeat.start()
        try:
            super().run()
        finally:
            self.heartbeat.stop()

    def run_task(self, db_task_result: DBTaskResult) -> None:
        task_id = db_task_result.pk
        task_leases.take_lease(task_id=task_id, worker_id=self.worker_id)
        self.heartbeat.current = task_id
        try:
            super().run_task(db_task_result)
        finally:
            self.heartbeat.current = None
            task_leases.release_lease(task_id=task_id, worker_id=self.worker_id)


class Command(db_worker.Command):
    help = "Run the database task worker, with a lease on each task it runs"

    def handle(self, *args, **options) -> None:
        # The parent builds its Worker by name: hand it the leased one for this run.
        original = db_worker.Worker
        db_worker.Worker = LeasedWorker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
