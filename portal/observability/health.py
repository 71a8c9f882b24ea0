"""The probes. `/healthz`: the process answers (nothing else is asked, so a slow database never
gets a healthy process restarted). `/readyz`: it can serve — the database answers, the vault's
storage is reachable, the task worker keeps up (the oldest waiting task waited less than
`SESAME_READY_MAX_TASK_LAG_SECONDS`), and the cache answers. Without the cache (Redis down)
Sésame still serves, more slowly and with rate limits falling back: `/readyz` then says
`degraded` with a 200, so that a load balancer does not take every server out at once.

Both answer JSON of check names and states only: no personal data, no error text (the error
goes to the log, with the request id)."""

import logging
import os
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .metrics import oldest_waiting_task, queue_lag

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_cache() -> str:
    key, value = "sesame:readyz", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    return "ok" if cache.get(key) == value else "error"


def check_storage() -> str:
    vault = storages["vault"]
    vault.exists(".readyz")  # a HEAD on object storage: reachable, credentials accepted
    location = getattr(vault, "location", None)
    if location is not None and not os.access(location, os.W_OK):
        return "error"
    return "ok"


def check_tasks() -> str:
    lag = queue_lag(oldest_waiting_task())
    return "ok" if lag <= settings.SESAME_READY_MAX_TASK_LAG_SECONDS else "late"


CHECKS = {
    "database": check_database,
    "storage": check_storage,
    "tasks": check_tasks,
    "cache": check_cache,
}
# A failing check not in this set degrades the answer without making it a 503.
REQUIRED = frozenset({"database", "storage", "tasks"})


@never_cache
@require_GET
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception:  # noqa: BLE001 - any failure of a dependency is "error", logged
            logger.warning("readiness check %s failed", name, exc_info=True)
            results[name] = "error"
    failing = {name for name, state in results.items() if state != "ok"}
    if failing & REQUIRED:
        return JsonResponse({"status": "error", "checks": results}, status=503)
    status = "degraded" if failing else "ok"
    return JsonResponse({"status": status, "checks": results})
