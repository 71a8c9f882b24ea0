"""Running calls at the same instant, for the PostgreSQL concurrency tests.

Each call runs in its own thread, database connection and transaction (as two gates, desks or
buyers would); the connections are closed afterwards so that the test database can be flushed.
A call still running at the timeout fails the test, naming it and where it is stuck (on
PostgreSQL its connection is cut first, so that its locks cannot hang the flush).
Tests that must show a race first line the threads up with a `threading.Barrier` inside the
code under test (monkeypatched), then show that the lock prevents it."""

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


def run_at_once(*calls: Callable[[], object], timeout: float = 30) -> Outcome:
    answers: list = [None] * len(calls)
    errors: list[Exception] = []
    backends: dict[int, int] = {}

    def run(index: int, call: Callable[[], object]) -> None:
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
