"""Two presses of a kiosk's pay button at the same instant, on PostgreSQL (each in its own
thread and connection): the session row is locked, so one order, one payment, one terminal
request."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from card.actions.taps import process_tap
from card.models import Tap
from kiosk import actions
from payments.models import Order, Payment
from payments.providers import register_provider, unregister_provider
from payments.providers.demo import DemoProvider
from tests.factories import CardFactory, ResidentFactory, sun_url
from tests.kiosk.factories import kiosk_reader_with_token
from tests.payments.factories import wallet_regie

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class CountingDemo(DemoProvider):
    calls: list = []

    def collect_on_terminal(self, *, payment, terminal_id):
        self.calls.append(payment.pk)
        return super().collect_on_terminal(payment=payment, terminal_id=terminal_id)


def press_twice_at_once() -> tuple[list, int, int, int]:
    """Two presses of "pay 20 €" in two threads: (errors, orders, payments, terminal calls)."""
    wallet_regie()
    reader, _token = kiosk_reader_with_token()
    holder = ResidentFactory()
    process_tap(
        reader=reader,
        credential=sun_url(CardFactory(holder=holder), 1),
        client_tap_id="k-1",
        reader_time=timezone.now(),
    )
    tap = Tap.objects.get(reader=reader)
    session = actions.open_session(reader=reader, tap_id=tap.pk)
    CountingDemo.calls = []
    register_provider("demo", CountingDemo)
    barrier = threading.Barrier(2)
    errors: list = []

    def press():
        try:
            barrier.wait(timeout=10)
            actions.pay(session=session, amount_cents=2000)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=press) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        unregister_provider("demo")
    return errors, Order.objects.count(), Payment.objects.count(), len(CountingDemo.calls)


def test_two_presses_at_once_make_one_order_and_one_terminal_request():
    assert press_twice_at_once() == ([], 1, 1, 1)


def test_without_the_lock_the_race_happens(monkeypatch):
    """The test above could fail: with the session row read without its lock, both presses
    start the purchase and the terminal is asked twice."""
    from kiosk.models import KioskSession

    def unlocked(session):
        return KioskSession.objects.select_related("payment", "reader", "tap", "holder").get(
            pk=session.pk
        )

    def slow_read(session):
        found = unlocked(session)
        barrier_after_read.wait(timeout=10)  # both have read "menu" before either writes
        return found

    barrier_after_read = threading.Barrier(2)
    monkeypatch.setattr(actions, "_locked", slow_read)
    errors, _orders, _payments, terminal_calls = press_twice_at_once()
    assert errors == []
    assert terminal_calls == 2  # the card terminal asked twice: what the lock prevents
