"""The kiosk's ticket printer, through CUPS: the server queues receipts for this kiosk, the agent
fetches them with its reader token (`GET /api/v1/kiosk/print-jobs`), prints each with
`lp -d <name> <file>` (bounded by a timeout) and reports how it went
(`POST /api/v1/kiosk/print-jobs/<id>/done`); the printer's state goes in the heartbeat."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import subprocess
import tempfile

from .logs import log

# The heartbeat's printer states (the server's DeviceStatus.Printer).
OK, PAPER_OUT, ERROR, UNKNOWN = "ok", "paper_out", "error", "unknown"
PAPER_WORDS = ("paper", "papier", "media-empty", "media empty")


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
            try:
                data = base64.b64decode(job["pdf_base64"], validate=True)
            except (KeyError, ValueError):
                ok, error = False, "the job holds no valid PDF"
            else:
                ok, error = self.print_pdf(data, job=job["id"])
            client.print_done(job["id"], ok=ok, error=error)
            printed += ok
        return printed
