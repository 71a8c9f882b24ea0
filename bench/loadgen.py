"""The load generator: worker processes, each with one HTTP/1.1 connection (stdlib
http.client, kept alive when the server allows it; gunicorn's sync workers close after each
answer and http.client reconnects), driven by the orchestrator over a pipe.

Each worker owns a disjoint slice of the cards and keeps their counters: a card is only ever
tapped by one worker, one tap after the other, with a counter one above its previous tap, so
every tap is fresh and none is a replay whatever the phase. Fresh SUN URLs are computed ahead
of each phase (ntag424.sun.build_sun_url with the keys card.keys derives from the same master
key as the server), so the timed loop only formats a small JSON body and sends it.

Closed loop (saturation): send, wait for the answer, send again, until the deadline.
Open loop (latency): send at fixed times whatever the answers; a late send counts its delay
in its latency, so a stalled server cannot hide behind a generator that waits for it."""

from __future__ import annotations

import http.client
import json
import time
from collections import Counter, deque
from datetime import UTC, datetime

from . import tools

HOST = "127.0.0.1"  # the benchmark only ever talks to this machine
TIMEOUT_SECONDS = 30
POOL_URLS = 64  # URLs reused by the reference endpoints, which do not check counters


class _CardSlice:
    """The worker's cards, their counters and the fresh URLs computed ahead."""

    def __init__(self, uids: list[str], card_url: str):
        from card import keys  # the worker's env carries the bench's master key
        from ntag424 import sun

        self._sun = sun
        self._card_url = card_url
        self._meta = keys.meta_read_key()
        self._raw = {uid: bytes.fromhex(uid) for uid in uids}
        self._file_keys = {uid: keys.card_file_read_key(raw) for uid, raw in self._raw.items()}
        self._uids = uids
        self._next = 0
        self.counters = dict.fromkeys(uids, 0)  # last counter handed out (server starts at 0)
        self.fresh: deque[str] = deque()
        # Counter 0 is never fresh (setup resets last_counter to 0): these URLs verify but
        # would be refused as replays, so only the reference endpoints use them.
        self.pool = [self._url(uid, 0) for uid in uids[:POOL_URLS]]

    def _url(self, uid: str, counter: int) -> str:
        return self._sun.build_sun_url(
            self._card_url,
            meta_read_key=self._meta,
            file_read_key=self._file_keys[uid],
            uid=self._raw[uid],
            counter=counter,
        )

    def top_up(self, needed: int) -> None:
        while len(self.fresh) < needed:
            uid = self._uids[self._next]
            self._next = (self._next + 1) % len(self._uids)
            self.counters[uid] += 1
            self.fresh.append(self._url(uid, self.counters[uid]))


def _body(tap_id: str, credential: str, reader_time: str) -> bytes:
    return (
        f'{{"tap_id": "{tap_id}", "credential": "{credential}", "reader_time": "{reader_time}"}}'
    ).encode()


class _Client:
    def __init__(self, port: int, token: str):
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Host": f"{HOST}:{port}",
        }
        self.conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT_SECONDS)

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request opens a new connection
            raise

    def close(self) -> None:
        self.conn.close()


def _run_phase(client: _Client, cards: _CardSlice, spec: dict, index: int) -> dict:
    path, mode, tag = spec["path"], spec["mode"], spec["tag"]
    fresh = spec["fresh"]  # taps need a fresh counter each time; references reuse the pool
    start_at, duration = spec["start_at"], spec["duration"]
    deadline = start_at + duration
    check_granted = spec.get("check_granted", False)
    if mode == "open":
        offsets = tools.open_loop_offsets(
            rate=spec["rate"], workers=spec["workers"], index=index, duration=duration
        )
        limit = len(offsets)
    else:
        offsets = None
        limit = spec["max_requests"]
    reader_time = datetime.now(UTC).isoformat()
    latencies: list[float] = []
    statuses: Counter = Counter()
    reasons: Counter = Counter()
    in_window = granted = errors = 0
    now = time.monotonic()
    if now < start_at:
        time.sleep(start_at - now)
    sent = 0
    while sent < limit:
        if offsets is not None:
            scheduled = start_at + offsets[sent]
            now = time.monotonic()
            if scheduled > now:
                time.sleep(scheduled - now)
        else:
            scheduled = time.monotonic()
            if scheduled >= deadline:
                break
        if fresh:
            if not cards.fresh:
                break  # bounded: no more precomputed taps
            credential = cards.fresh.popleft()
        else:
            credential = cards.pool[sent % len(cards.pool)]
        body = _body(f"{tag}-{index}-{sent}", credential, reader_time)
        sent += 1
        try:
            status, data = client.post(path, body)
        except (OSError, http.client.HTTPException) as error:
            errors += 1
            statuses[type(error).__name__] += 1
            continue
        done = time.monotonic()
        statuses[status] += 1
        latencies.append(done - scheduled)
        if done <= deadline:
            in_window += 1
        if check_granted and status == 200:
            answer = json.loads(data)
            reasons[answer.get("reason")] += 1
            if answer.get("granted") and done <= deadline:
                granted += 1
    return {
        "sent": sent,
        "in_window": in_window,
        "granted_in_window": granted,
        "errors": errors,
        "statuses": dict(statuses),
        "reasons": dict(reasons),
        "latencies": latencies,
    }


def worker_main(index: int, pipe, port: int, token: str, uids: list[str], card_url: str):
    """A worker process (multiprocessing "spawn" target): answers the orchestrator's
    ("top_up", n), ("run", spec) and ("stop", None) messages."""
    cards = _CardSlice(uids, card_url)
    client = _Client(port, token)
    pipe.send(("ready", None))
    try:
        while True:
            command, argument = pipe.recv()
            if command == "stop":
                break
            if command == "top_up":
                cards.top_up(argument)
                pipe.send(("ready", len(cards.fresh)))
            elif command == "run":
                pipe.send(("result", _run_phase(client, cards, argument, index)))
    finally:
        client.close()
