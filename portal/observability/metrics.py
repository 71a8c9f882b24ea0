"""Prometheus metrics (prometheus_client), served at `/metrics` to a bearer of
`SESAME_METRICS_TOKEN`.

Two kinds:
- counted by the processes that serve (requests, their duration, taps by result and reason,
  errors): under gunicorn each worker writes its own values to files in
  `PROMETHEUS_MULTIPROC_DIR` and a scrape adds them up (prometheus_client's multiprocess mode;
  `deploy/gunicorn.conf.py` empties the folder when gunicorn starts and forgets a dead worker's
  live values);
- read from the database at each scrape (payments by state, the task queue's depth and age):
  the same answer whichever process is asked, and right after a restart."""

import os
import secrets

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, Count, F, Min, When
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

requests_total = Counter(
    "sesame_http_requests",
    "HTTP requests answered, by method, route (Django's view name) and status.",
    ["method", "view", "status"],
)
request_seconds = Histogram(
    "sesame_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route.",
    ["method", "view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
taps_total = Counter(
    "sesame_taps",
    "Taps recorded, granted or refused, by reason (card.models.Tap.reason).",
    ["granted", "reason"],
)
errors_total = Counter(
    "sesame_errors",
    "Unhandled errors: requests answered with a 500, by where they happened.",
    ["kind"],
)


def count_request(*, method: str, view: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    requests_total.labels(method, view, str(status)).inc()
    request_seconds.labels(method, view).observe(seconds)


def count_tap(sender, instance, created, **kwargs) -> None:
    """post_save of card.models.Tap: counted once its transaction commits (a rolled-back tap,
    the loser of a race on the same tap id, is not counted)."""
    if created:
        granted, reason = str(instance.granted).lower(), instance.reason or "none"
        transaction.on_commit(lambda: taps_total.labels(granted, reason).inc())


def count_error(sender, **kwargs) -> None:
    """got_request_exception: a view raised, the visitor gets the error page."""
    errors_total.labels("request").inc()


class DatabaseCollector:
    """Payments by state and the task queue, read at scrape time."""

    def collect(self):
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from payments.models import Payment

        up = GaugeMetricFamily(
            "sesame_metrics_database_up", "Whether the database answered this scrape."
        )
        try:
            payments = dict(
                Payment.objects.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
            tasks = dict(
                DBTaskResult.objects.order_by()
                .values_list("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
            waiting_since = oldest_waiting_task()
        except DatabaseError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        by_state = GaugeMetricFamily(
            "sesame_payments", "Payments (attempts to pay an order) by state.", labels=["state"]
        )
        for state in Payment.Status.values:
            by_state.add_metric([state], payments.get(state, 0))
        yield by_state

        queue = GaugeMetricFamily(
            "sesame_tasks", "Background tasks by status (READY: waiting).", labels=["status"]
        )
        for status in TaskResultStatus.values:
            queue.add_metric([status], tasks.get(status, 0))
        yield queue

        lag = GaugeMetricFamily(
            "sesame_task_queue_lag_seconds",
            "How long the oldest task due to run has been waiting for a worker (0: none).",
        )
        lag.add_metric([], queue_lag(waiting_since))
        yield lag


def oldest_waiting_task():
    """Since when the oldest task due to run has been due (its enqueuing, or its `run_after`
    when it was scheduled), or None when no task waits."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    return DBTaskResult.objects.ready().aggregate(
        oldest=Min(
            Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
        )
    )["oldest"]


def queue_lag(waiting_since) -> float:
    if waiting_since is None:
        return 0.0
    return max(0.0, (timezone.now() - waiting_since).total_seconds())


def registry() -> CollectorRegistry:
    """What one scrape answers: the processes' counters (all gunicorn workers' in multiprocess
    mode, else this process's) and the database's figures."""
    scrape = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scrape)
    else:
        scrape.register(_ThisProcess())
    scrape.register(DatabaseCollector())
    return scrape


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


def _authorised(request) -> bool:
    expected = settings.SESAME_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


@require_GET
def metrics(request):
    """Prometheus' text format, for a bearer of the token; 404 otherwise (and when no token is
    configured), so that the address says nothing to others."""
    if not _authorised(request):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
