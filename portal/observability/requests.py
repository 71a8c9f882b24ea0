"""Per request: its id, its metrics and one log line.

The id comes from the `X-Request-ID` header when the reverse proxy sent one (nginx's
`$request_id`, so that its access log and Sésame's lines match), else is made here; it is on
every log line written while the request is served and sent back in `X-Request-ID`. The log
line names the route without its query string (a search for a person's name stays out of the
logs) and the account by id only."""

import logging
import re
import time
import uuid

from . import metrics
from .logs import request_id

logger = logging.getLogger(__name__)

VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Probes and scrapes come every few seconds: their lines only at DEBUG.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        current = given if VALID_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match is not None else "unmatched"
            metrics.count_request(
                method=request.method, view=view, status=response.status_code, seconds=seconds
            )
            response.headers["X-Request-ID"] = current
            user = getattr(request, "user", None)
            logger.log(
                logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
                "%s %s %s %.1f ms",
                request.method,
                request.path,
                response.status_code,
                seconds * 1000,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id.reset(token)
