"""The kiosk's ticket printer, through CUPS: the server queues receipts for this kiosk, the agent
fetches them with its reader token (`GET /api/v1/kiosk/print-jobs`), prints each with
`lp -d <name> <file>` (bounded by a timeout) and reports how it went
(`POST /api/v1/kiosk/print-jobs/<id>/done`); the printer's state goes in the heartbeat."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import subprocess
import tempfile

from .logs import log

# The heartbeat's printer states (the server's DeviceStatus.Printer).
OK, PAPER_OUT, ERROR, UNKNOWN = "ok", "paper_out", "error", "unknown"
PAPER_WORDS = ("paper", "papier", "media-empty", "media empty")
# A print job's id as the server makes it (a public id): anything else is not used in a URL.
JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class Printer:
    def __init__(self, name: str, *, timeout: float = 30.0, command: str = "lp"):
        self.name = name
        self.timeout = timeout
        self.command = command
        self.status = UNKNOWN  # until the first job says more
        self.last_error = ""

    def print_pdf(self, data: bytes, *, job: str = "") -> tuple[bool, str]:
        """Print one PDF; (True, "") or (False, why). Never raises."""
        handle, path = tempfile.mkstemp(prefix="sesame-receipt-", suffix=".pdf")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            try:
                done = subprocess.run(  # noqa: S603 - a fixed command, our own temp file
                    [self.command, "-d", self.name, path],
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    check=False,
                )
            except FileNotFoundError:
                return self._failed(f"{self.command} not found: install cups-client", job)
            except subprocess.TimeoutExpired:
                return self._failed(f"{self.command} did not answer in {self.timeout:g} s", job)
            if done.returncode != 0:
                detail = (done.stderr or done.stdout or "").strip()[:200]
                return self._failed(f"{self.command} failed ({done.returncode}): {detail}", job)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self.status = OK
        self.last_error = ""
        log("printed", job=job, printer=self.name)
        return True, ""

    def _failed(self, message: str, job: str) -> tuple[bool, str]:
        lowered = message.lower()
        self.status = PAPER_OUT if any(word in lowered for word in PAPER_WORDS) else ERROR
        self.last_error = message
        log("print_failed", level=logging.ERROR, job=job, printer=self.name, error=message)
        return False, message

    def serve(self, client) -> int:
        """Print what the server queued for this kiosk; returns how many were printed."""
        printed = 0
        for job in client.print_jobs():
            job_id = job.get("id") if isinstance(job, dict) else None
            if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
                # Not a job this agent can even answer for (its id goes into a URL): skipped.
                log("print_job_malformed", level=logging.WARNING)
                continue
            try:
                data = base64.b64decode(job["pdf_base64"], validate=True)
            except (KeyError, ValueError, TypeError):
                ok, error = False, "the job holds no valid PDF"
            else:
                ok, error = self.print_pdf(data, job=job_id)
            client.print_done(job_id, ok=ok, error=error)
            printed += ok
        return printed
