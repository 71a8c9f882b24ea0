"""The canteen benchmark's load generator: worker processes (spawned: no Django, no database),
each with one stdlib HTTP connection to 127.0.0.1 and its own slice of the parents' month
bookings, driven by the orchestrator over a pipe.

A request is what a parent's browser sends: the session and CSRF cookies, the CSRF header, a
JSON body with the child, the service, the month's days and an idempotency key. Each worker
tells the orchestrator what the server told it (the days booked per child), so that the
orchestrator can count afterwards, in the database, what was lost or written twice.

Burst: every worker sends its bookings one after the other as fast as the server answers
(all the parents at once); some are sent a second time with the same key right after the
answer (a double click, a retry after a lost answer): the second answer must be the first.
Open loop (latency): requests leave at fixed times whatever the answers, and a late one counts
its delay in its latency."""

from __future__ import annotations

import http.client
import json
import time
from collections import Counter

from . import tools

HOST = "127.0.0.1"  # the benchmark only ever talks to this machine
TIMEOUT_SECONDS = 60


class _Client:
    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)

    def post(self, path: str, body: bytes, session: str, csrf: str) -> tuple[int, bytes]:
        headers = {
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/json",
            "Host": f"{HOST}:{self.port}",
        }
        try:
            self.conn.request("POST", path, body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request opens a new connection
            raise

    def close(self) -> None:
        self.conn.close()


def _body(job, days: list[str], key: str) -> bytes:
    return json.dumps(
        {"child": job[2], "service": job[3], "days": days, "idempotency_key": key}
    ).encode()


def run_phase(client: _Client, jobs: list, spec: dict, index: int) -> dict:
    path, mode, tag, days = spec["path"], spec["mode"], spec["tag"], spec["days"]
    first, count = spec["first"], spec["count"]
    retry_every = spec.get("retry_every", 0)
    chosen = jobs[first : first + count]
    if mode == "open":
        offsets = tools.open_loop_offsets(
            rate=spec["rate"], workers=spec["workers"], index=index, duration=spec["duration"]
        )
        chosen = chosen[: len(offsets)]
    start_at = spec["start_at"]
    latencies: list[float] = []
    statuses: Counter = Counter()
    told: list[tuple[str, str, list[str]]] = []
    errors = retries = retry_mismatches = 0
    last_done = start_at
    now = time.monotonic()
    if now < start_at:
        time.sleep(start_at - now)
    for sent, job in enumerate(chosen):
        if mode == "open":
            scheduled = start_at + offsets[sent]
            now = time.monotonic()
            if scheduled > now:
                time.sleep(scheduled - now)
        else:
            scheduled = time.monotonic()
        key = f"{tag}-{index}-{sent}"
        body = _body(job, days, key)
        try:
            status, data = client.post(path, body, job[0], job[1])
        except (OSError, http.client.HTTPException) as error:
            errors += 1
            statuses[type(error).__name__] += 1
            continue
        last_done = time.monotonic()
        statuses[status] += 1
        latencies.append(last_done - scheduled)
        if status != 200:
            continue
        answer = json.loads(data)
        booked = answer.get("booked")
        if isinstance(booked, list):
            told.append((job[2], job[3], booked))
        if retry_every and sent % retry_every == 0:
            retries += 1
            try:
                again_status, again = client.post(path, body, job[0], job[1])
            except (OSError, http.client.HTTPException):
                retry_mismatches += 1
                continue
            last_done = time.monotonic()
            if again_status != 200 or json.loads(again) != answer:
                retry_mismatches += 1
    return {
        "sent": len(chosen),
        "errors": errors,
        "statuses": dict(statuses),
        "latencies": latencies,
        "told": told,
        "retries": retries,
        "retry_mismatches": retry_mismatches,
        "last_done": last_done,
    }


def worker_main(index: int, pipe, port: int, jobs: list):
    """A worker process (multiprocessing "spawn" target): answers ("run", spec) and
    ("stop", None)."""
    client = _Client(port)
    pipe.send(("ready", None))
    try:
        while True:
            command, argument = pipe.recv()
            if command == "stop":
                break
            if command == "run":
                pipe.send(("result", run_phase(client, jobs, argument, index)))
    finally:
        client.close()
