"""A double click on the régisseur's refund or desk-payment button, both requests at the same
instant on PostgreSQL: one refund or payment, and both requests answer it. As in pretix, first
the race: with the row lock switched off, both requests pass the key look-up and the second hits
the unique key — a 500, or a "not awaiting payment" error for cash that had just been recorded
(what happened before the look-up was made again under the lock); then the lock preventing it."""

import pytest
from django.db import IntegrityError

from payments.actions import desk, refunds
from payments.actions.desk import record_desk_payment
from payments.actions.refunds import refund_payment
from payments.models import Payment, Refund
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def officer():
    Recorder()
    return regisseur()


def refund_double_click(officer, payment):
    def refund():
        return refund_payment(
            actor=officer,
            payment=payment,
            amount_cents=1000,
            destination="wallet",
            reason="double click",
            idempotency_key="same",
        ).pk

    return run_at_once(refund, refund)


def desk_double_click(officer, order):
    def record():
        return record_desk_payment(
            actor=officer, order=order, method="cash", amount_cents=1200, idempotency_key="same"
        ).pk

    return run_at_once(record, record)


def test_without_the_lock_a_refund_double_click_fails_on_the_key(officer, monkeypatch):
    payment = pay(order_for(ResidentFactory(), 3000))
    # Both have looked the key up (before and under the lock) before either writes.
    line_up(monkeypatch, refunds, "_refund_replayed", lock=False)
    outcome = refund_double_click(officer, payment)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)  # the race: a 500


def test_a_refund_double_click_at_once_is_one_refund(officer, monkeypatch):
    payment = pay(order_for(ResidentFactory(), 3000))
    line_up(monkeypatch, refunds, "_refund_replayed", lock=True)
    outcome = refund_double_click(officer, payment)
    assert outcome.errors == []
    first, second = outcome.answers
    assert first == second
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000


def test_without_the_lock_a_desk_payment_double_click_fails(officer, monkeypatch):
    order = order_for(ResidentFactory(), 1200, channel="desk")
    line_up(monkeypatch, desk, "_desk_payment_replayed", lock=False)
    outcome = desk_double_click(officer, order)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)  # the race: a 500


def test_a_desk_payment_double_click_at_once_is_one_payment(officer, monkeypatch):
    order = order_for(ResidentFactory(), 1200, channel="desk")
    line_up(monkeypatch, desk, "_desk_payment_replayed", lock=True)
    outcome = desk_double_click(officer, order)
    assert outcome.errors == []
    first, second = outcome.answers
    assert first == second
    assert Payment.objects.filter(order=order).count() == 1
