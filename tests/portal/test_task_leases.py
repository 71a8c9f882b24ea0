"""Every background task holds a lease its worker renews (portal.task_leases): a worker killed
in the middle of a task leaves it RUNNING, and the next worker runs it again once the lease has
expired — without a cron, and with the work done once."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from payments.models import OrderLine
from payments.tasks import fulfil_order_task
from portal import task_leases
from portal.models import TaskLease
from services.catalog import actions as catalog
from services.catalog.models import Entitlement
from tests.factories import ResidentFactory, collection_office, priced_product
from tests.payments.factories import pay

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database_queue(settings):
    # Tasks go to the database queue a worker process consumes (the suite runs them inline).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _until(condition, *, timeout: float = 30, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what} after {timeout} s")
        time.sleep(0.1)


def _start_worker(lease_seconds: float) -> subprocess.Popen:
    """A real `manage.py db_worker` on the test database, with production settings."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "SESAME_TASK_LEASE_SECONDS": str(lease_seconds),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603 - our own manage.py, arguments written here
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"]
        + ["--interval", "0.1", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _lock_row_elsewhere(table: str, pk: int) -> psycopg.Connection:
    """Another client holds the row (as a slow transaction would): whoever needs it waits."""
    db = settings.DATABASES["default"]
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608
    return other


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_fulfilment_leaves_the_task_to_the_next_one_done_once(
    database_queue,
):
    person = ResidentFactory()
    collection_office("piscines")
    book = priced_product(price_cents=3000, regie_code="piscines", kind="entry_book", entries=10)
    sale = catalog.buy_product(actor=person.user, person=person, product=book, quantity=2)
    pay(sale.order)  # paid: its fulfilment is queued, not run
    line = OrderLine.objects.get(order=sale.order)
    task = DBTaskResult.objects.get(task_path__endswith="fulfil_order_task")
    assert not Entitlement.objects.exists()

    # The first worker claims the fulfilment and is stopped in the middle of it (waiting for
    # the line's row), then killed outright.
    holder = _lock_row_elsewhere("payments_orderline", line.pk)
    first = _start_worker(lease_seconds=1.5)
    try:
        _until(_waiting_on_a_lock, what="the first worker inside the fulfilment")
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING
        assert TaskLease.objects.filter(task_id=task.pk).exists()
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
        holder.rollback()
        holder.close()
    time.sleep(0.5)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING  # as the dead worker left it
    assert not Entitlement.objects.exists()  # its transaction never committed

    # Another worker, started later: once the dead one's lease has expired, it runs the task.
    second = _start_worker(lease_seconds=1.5)
    try:
        _until(
            lambda: DBTaskResult.objects.get(pk=task.pk).status == TaskResultStatus.SUCCESSFUL,
            what="the second worker to run the fulfilment",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        _out, errors = second.communicate(timeout=20)
    task.refresh_from_db()
    assert len(task.worker_ids) == 2  # claimed by the dead worker, then by the second
    line.refresh_from_db()
    assert line.fulfilled_at is not None
    assert line.attempts == 1
    assert Entitlement.objects.filter(holder=person).count() == 2  # granted once
    assert not TaskLease.objects.exists()
    assert b"requeued" in errors


@pytest.mark.django_db
def test_a_running_task_whose_lease_is_renewed_is_left_alone(database_queue, settings):
    settings.SESAME_TASK_LEASE_SECONDS = 60
    result = fulfil_order_task.enqueue(order_id=0)
    task = DBTaskResult.objects.get(pk=result.id)
    task.claim("alive")
    task_leases.take_lease(task_id=task.pk, worker_id="alive")
    assert task_leases.requeue_expired_tasks(now=timezone.now() + timedelta(seconds=50)) == []
    TaskLease.objects.update(expires_at=timezone.now() + timedelta(seconds=1))
    assert task_leases.renew_lease(task_id=task.pk, worker_id="alive")
    assert task_leases.requeue_expired_tasks(now=timezone.now() + timedelta(seconds=50)) == []
    assert not task_leases.renew_lease(task_id=task.pk, worker_id="someone else")
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_an_expired_lease_or_a_claim_without_one_puts_the_task_back_in_the_queue(
    database_queue, settings
):
    settings.SESAME_TASK_LEASE_SECONDS = 60
    leased, unleased, fresh = (fulfil_order_task.enqueue(order_id=n).id for n in (1, 2, 3))
    for task_id in (leased, unleased, fresh):
        DBTaskResult.objects.get(pk=task_id).claim("dead")
    task_leases.take_lease(task_id=leased, worker_id="dead")
    task_leases.take_lease(task_id=fresh, worker_id="dead")
    TaskLease.objects.filter(task_id=fresh).update(expires_at=timezone.now() + timedelta(hours=1))
    # The claim without a lease: the worker died between the two.
    later = timezone.now() + timedelta(seconds=61)
    assert sorted(map(str, task_leases.requeue_expired_tasks(now=later))) == sorted(
        [leased, unleased]
    )
    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert {str(k): v for k, v in statuses.items()} == {
        leased: TaskResultStatus.READY,
        unleased: TaskResultStatus.READY,
        fresh: TaskResultStatus.RUNNING,
    }
    assert list(TaskLease.objects.values_list("task_id", flat=True)) == [
        DBTaskResult.objects.get(pk=fresh).pk
    ]
    # Swept again: nothing more to do.
    assert task_leases.requeue_expired_tasks(now=later) == []


@pytest.mark.django_db
def test_a_task_that_kills_its_worker_every_time_is_failed_after_the_last_attempt(
    database_queue, settings
):
    settings.SESAME_TASK_LEASE_SECONDS = 60
    settings.SESAME_TASK_MAX_ATTEMPTS = 3
    task = DBTaskResult.objects.get(pk=fulfil_order_task.enqueue(order_id=1).id)
    later = timezone.now() + timedelta(seconds=61)
    for attempt in range(1, 4):
        task.refresh_from_db()
        assert task.status == TaskResultStatus.READY
        task.claim(f"worker-{attempt}")
        task_leases.requeue_expired_tasks(now=later)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "portal.task_leases.LeaseExpired"
