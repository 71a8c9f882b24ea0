"""Running calls at the same instant, for the PostgreSQL concurrency tests.

Each call runs in its own thread, database connection and transaction (as two gates, desks or
buyers would); the connections are closed afterwards so that the test database can be flushed.
A call still running at the timeout fails the test, naming it and where it is stuck (on
PostgreSQL its connection is cut first, so that its locks cannot hang the flush).

A race test first shows the race with the lock switched off, then that the lock prevents it,
both lining the calls up with `line_up` (at the end of this file)."""

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection, transaction


@dataclass
class Outcome:
    answers: list  # in call order; None where the call raised
    errors: list[Exception]


_PROJECT = str(Path(__file__).resolve().parent.parent)

# Marks the threads of run_at_once: only their calls are lined up by `line_up`.
_at_once = threading.local()


def run_at_once(*calls: Callable[[], object], timeout: float = 30) -> Outcome:
    answers: list = [None] * len(calls)
    errors: list[Exception] = []
    backends: dict[int, int] = {}

    def run(index: int, call: Callable[[], object]) -> None:
        _at_once.running = True
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    backends[index] = connection.connection.info.backend_pid
                answers[index] = call()
        except Exception as error:  # noqa: BLE001 - the test decides what is expected
            errors.append(error)
        finally:
            connection.close()

    # Daemon threads: a call that never returns cannot keep the test process alive.
    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0))
    running = [i for i, thread in enumerate(threads) if thread.is_alive()]
    if running:
        stuck = [_where(i, calls[i], threads[i]) for i in running]
        if backends:
            _cut_off([backends[i] for i in running if i in backends])
        pytest.fail(f"still running after {timeout} s: " + "\n".join(stuck), pytrace=False)
    return Outcome(answers, errors)


def _where(index: int, call: Callable, thread: threading.Thread) -> str:
    """The call and the lines of the project it is stuck in."""
    name = getattr(call, "__qualname__", repr(call))
    frame = sys._current_frames().get(thread.ident)
    ours = [
        line
        for line in (traceback.extract_stack(frame) if frame is not None else [])
        if line.filename.startswith(_PROJECT) and "site-packages" not in line.filename
    ]
    return f"call {index} ({name}), at:\n" + "".join(traceback.format_list(ours[-3:]))


def _cut_off(backend_pids: list[int]) -> None:
    """Terminate the calls' database sessions, waiting (5 s at most) until their locks are
    released."""
    with connection.cursor() as cursor:
        for pid in backend_pids:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def at_once(*calls: Callable[[], object]) -> list:
    """The answers of calls run at once, none of which may raise (a refusal is an answer)."""
    outcome = run_at_once(*calls)
    assert not outcome.errors, outcome.errors
    return outcome.answers


# --- Showing a race, then that the lock prevents it -------------------------------------------


def line_up(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    *,
    lock: bool,
    parties: int = 2,
    unlocked: Callable | None = None,
    timeout: float = 10,
    also: tuple[object, str] | None = None,
) -> None:
    """Line the calls of `run_at_once` up inside the code under test, just after `owner.name`
    (the read their decision rests on, or the last step before commit): each waits there until
    the `parties` calls have all reached it, or are waiting for a lock one of them holds.

    With the lock switched off (`lock=False`) every call has read before any writes: the race
    happens, unless something else prevents it. With the lock on, the first call holds it
    while the others wait for it, so it goes on and they follow one by one. The lining up is
    the same both ways, so a test "with the lock" fails if the lock is taken out of the code.

    `lock=False` switches the row locks off: every SELECT … FOR UPDATE becomes a plain read, as
    on a database without them (Django and the raw SQL that asks `has_select_for_update` obey).
    Where the lock is not a SELECT … FOR UPDATE (a conditional upsert), `unlocked` is the naive
    version that replaces `owner.name`. Calls made outside run_at_once's threads (setting up,
    checking) are not lined up. The meeting is cyclic: `parties` calls, then the next ones.
    `also` (an owner and a name) is a second meeting point of the same meeting, for two
    different use cases racing (a payment and an addition to the basket it pays)."""
    if lock and unlocked is not None:
        raise ValueError("`unlocked` replaces the locking code only when the lock is off")
    if not lock:
        monkeypatch.setattr(type(connection.features), "has_select_for_update", False)
    meeting = _Meeting(parties=parties, timeout=timeout)

    def lined_up(real: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            answer = real(*args, **kwargs)
            if getattr(_at_once, "running", False):
                meeting.wait()
            return answer

        return wrapper

    monkeypatch.setattr(
        owner, name, lined_up(unlocked if unlocked is not None else getattr(owner, name))
    )
    if also is not None:
        monkeypatch.setattr(also[0], also[1], lined_up(getattr(*also)))


class _Meeting:
    def __init__(self, *, parties: int, timeout: float):
        self.parties = parties
        self.timeout = timeout
        self.arrived = 0
        self.condition = threading.Condition()

    def wait(self) -> None:
        with self.condition:
            first_of_round = self.arrived - self.arrived % self.parties
            self.arrived += 1
            self.condition.notify_all()
        deadline = time.monotonic() + self.timeout
        while True:
            with self.condition:
                here = min(self.arrived - first_of_round, self.parties)
            # Read the arrivals before the waiters: a call cannot be counted twice.
            if here == self.parties or here + _waiting_for_a_lock() >= self.parties:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{here} of {self.parties} calls lined up after {self.timeout} s, "
                    "none of the others waiting for a lock"
                )
            with self.condition:
                self.condition.wait(timeout=0.005)


def _waiting_for_a_lock() -> int:
    """The other sessions of the test database that are waiting for a lock (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction unless its snapshot is cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]
