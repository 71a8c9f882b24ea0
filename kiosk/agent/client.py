"""The server's public API, over plain urllib. A tap is retried a bounded number of times with
THE SAME tap id (the server answers a repeated tap id with its first answer and consumes
nothing more), so a slow server never costs a resident two entries."""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime

from .logs import log

USER_AGENT = "sesame-agent"
# The largest answer read (a snapshot of every card, a few receipts in base64 are far below):
# a broken or hostile server cannot make the agent hold an endless body in memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class ServerUnavailable(Exception):
    """The server could not be reached, or kept failing, after the retries."""


class ServerRefused(Exception):
    """The server answered with a 4xx: retrying the same request cannot help."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"HTTP {status}: {body.get('code', '')}")
        self.status = status
        self.body = body


def new_tap_id() -> str:
    return uuid.uuid4().hex


def reader_time(now: datetime | None = None) -> str:
    """The terminal's clock, ISO 8601 with its UTC offset (the server refuses a naive one)."""
    return (now or datetime.now().astimezone()).astimezone().isoformat()


def _bounded(raw: bytes) -> bytes:
    if len(raw) > MAX_ANSWER_BYTES:
        raise ServerUnavailable("the answer is too large")
    return raw


def _json_object(raw: bytes) -> dict:
    """The answer as a JSON object ({} when empty); anything else is a server that cannot be
    understood (ServerUnavailable), never a crash further on."""
    if not raw:
        return {}
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise ServerUnavailable("the answer is not JSON") from error
    if not isinstance(answer, dict):
        raise ServerUnavailable("the answer is not a JSON object")
    return answer


class Client:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = USER_AGENT,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.user_agent = user_agent

    # --- one request -----------------------------------------------------------------------
    def _request(self, method: str, path: str, body: dict | None, *, auth: bool) -> dict:
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(  # noqa: S310 - the configured server, http(s) only
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as error:
            try:
                answer = _json_object(_bounded(error.read(MAX_ANSWER_BYTES + 1)))
            except (ServerUnavailable, OSError, http.client.HTTPException):
                answer = {}
            if 400 <= error.code < 500 and error.code != 429:
                raise ServerRefused(error.code, answer) from error
            raise ServerUnavailable(f"HTTP {error.code}") from error
        except (OSError, http.client.HTTPException) as error:
            # URLError, timeouts, resets, TLS errors (OSError); a garbled status line or a
            # body cut short (HTTPException): the server could not be understood.
            reason = getattr(error, "reason", error)
            raise ServerUnavailable(str(reason) or type(error).__name__) from error
        return _json_object(_bounded(raw))

    def request(self, method: str, path: str, body: dict | None = None, *, auth=True) -> dict:
        """The request, retried on network errors, timeouts and 5xx with a growing pause;
        the same body each time (so the same tap id). Raises ServerUnavailable at the end,
        ServerRefused at once on a 4xx."""
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._request(method, path, body, auth=auth)
            except ServerUnavailable as error:
                if attempt == attempts:
                    raise
                pause = self.backoff * 2 ** (attempt - 1)
                log(
                    "server_retry",
                    level=logging.WARNING,
                    path=path,
                    attempt=attempt,
                    error=str(error),
                    pause_s=pause,
                    tap_id=(body or {}).get("tap_id"),
                )
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the API ---------------------------------------------------------------------------
    def tap(self, *, credential: str, tap_id: str, at: str) -> dict:
        return self.request(
            "POST", "/api/v1/taps", {"tap_id": tap_id, "credential": credential, "reader_time": at}
        )

    def upload_batch(self, taps: list[dict]) -> list[dict]:
        results = self.request("POST", "/api/v1/taps/batch", {"taps": taps}).get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ServerUnavailable("the batch answer has no list of results")
        return results

    def snapshot(self) -> dict:
        return self.request("GET", "/api/v1/readers/snapshot")

    def snapshot_key(self) -> dict:
        return self.request("GET", "/api/v1/readers/snapshot-key", auth=False)

    def heartbeat(self, status: dict) -> dict:
        return self._request("POST", "/api/v1/kiosk/heartbeat", status, auth=True)

    def event(self, kind: str, *, at: str) -> dict:
        return self._request("POST", "/api/v1/kiosk/events", {"event": kind, "at": at}, auth=True)

    def print_jobs(self) -> list[dict]:
        jobs = self._request("GET", "/api/v1/kiosk/print-jobs", None, auth=True).get("jobs", [])
        if not isinstance(jobs, list):
            raise ServerUnavailable("the print jobs are not a list")
        return jobs

    def print_done(self, job_id: str, *, ok: bool, error: str = "") -> dict:
        return self.request(
            "POST", f"/api/v1/kiosk/print-jobs/{job_id}/done", {"ok": ok, "error": error[:1000]}
        )
