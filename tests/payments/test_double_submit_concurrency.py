"""A double click on the régisseur's refund or desk-payment button, both requests at the same
instant on PostgreSQL: one refund or payment, and both requests answer it (before, the second
request passed the key look-up too and then hit the unique key: a 500, or a "not awaiting
payment" error for cash that had just been recorded)."""

import threading

import pytest

from payments.actions import desk, refunds
from payments.actions.desk import record_desk_payment
from payments.actions.refunds import refund_payment
from payments.models import Payment, Refund
from tests.concurrency import at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def both_past_the_first_look_up(monkeypatch):
    """Line both requests up after their permission check, before the key look-up."""
    barrier = threading.Barrier(2)
    real = refunds.has_capability

    def lined_up(*args, **kwargs):
        barrier.wait(timeout=10)
        return real(*args, **kwargs)

    monkeypatch.setattr(refunds, "has_capability", lined_up)
    monkeypatch.setattr(desk, "has_capability", lined_up)


def test_a_refund_double_click_at_once_is_one_refund(monkeypatch):
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    officer = regisseur()
    both_past_the_first_look_up(monkeypatch)

    def refund():
        return refund_payment(
            actor=officer,
            payment=payment,
            amount_cents=1000,
            destination="wallet",
            reason="double click",
            idempotency_key="same",
        ).pk

    first, second = at_once(refund, refund)
    assert first == second
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000


def test_a_desk_payment_double_click_at_once_is_one_payment(monkeypatch):
    Recorder()
    order = order_for(ResidentFactory(), 1200, channel="desk")
    officer = regisseur()
    both_past_the_first_look_up(monkeypatch)

    def record():
        return record_desk_payment(
            actor=officer, order=order, method="cash", amount_cents=1200, idempotency_key="same"
        ).pk

    first, second = at_once(record, record)
    assert first == second
    assert Payment.objects.filter(order=order).count() == 1
