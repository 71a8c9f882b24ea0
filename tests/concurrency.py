"""Running calls at the same instant, for the PostgreSQL concurrency tests.

Each call runs in its own thread, database connection and transaction (as two gates, desks or
buyers would); the connections are closed afterwards so that the test database can be flushed.
Tests that must show a race first line the threads up with a `threading.Barrier` inside the
code under test (monkeypatched), then show that the lock prevents it."""

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction


@dataclass
class Outcome:
    answers: list  # in call order; None where the call raised
    errors: list[Exception]


def run_at_once(*calls: Callable[[], object], timeout: float = 30) -> Outcome:
    answers: list = [None] * len(calls)
    errors: list[Exception] = []

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            with transaction.atomic():
                answers[index] = call()
        except Exception as error:  # noqa: BLE001 - the test decides what is expected
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return Outcome(answers, errors)


def at_once(*calls: Callable[[], object]) -> list:
    """The answers of calls run at once, none of which may raise (a refusal is an answer)."""
    outcome = run_at_once(*calls)
    assert not outcome.errors, outcome.errors
    return outcome.answers
