"""Switching the tap pipeline's locks off, or lining requests up in front of them, for the
PostgreSQL concurrency tests of tests/card (tests/concurrency.py runs the calls)."""

import threading
from collections.abc import Callable

from card.actions import taps
from card.models import Card


def naive_claim(barrier: threading.Barrier):
    """The bug the real claim (taps._claim_card_counter) avoids: read the counter, compare in
    Python, then write. Both requests read the old counter before either writes."""

    def claim(*, kind, key, counter):
        column = "uid" if kind == "sun" else "number"
        card = Card.objects.select_related("holder").get(**{column: key})
        barrier.wait(timeout=10)
        if counter <= card.last_counter:
            return None
        Card.objects.filter(pk=card.pk).update(last_counter=counter)
        return taps.ClaimedCard.of(card, previous_counter=card.last_counter)

    return claim


def lined_up(function: Callable, barrier: threading.Barrier) -> Callable:
    """`function`, each caller first waiting at `barrier`: the requests reach it together.
    (tests.concurrency.line_up lines up the calls of its run_at_once, each one transaction;
    here they are HTTP requests served by the live server's threads, or offline uploads that
    commit tap by tap.)"""

    def together(*args, **kwargs):
        barrier.wait(timeout=10)
        return function(*args, **kwargs)

    return together


def lined_up_claim(barrier: threading.Barrier):
    """The real claim, the requests reaching it at the same instant."""
    return lined_up(taps._claim_card_counter, barrier)


def count_decisions(monkeypatch) -> list[int]:
    """The holders the catalogue is asked to decide for from now on, in every thread."""
    asked: list[int] = []
    real_decide = taps.decide

    def counted(**kwargs):
        asked.append(kwargs["holder_id"])
        return real_decide(**kwargs)

    monkeypatch.setattr(taps, "decide", counted)
    return asked
