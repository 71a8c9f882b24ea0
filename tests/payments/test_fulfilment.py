"""Paid → fulfil each line exactly once; refunded → undo exactly once; a process killed between
the provider's success and the fulfilment is caught up by the sweeper."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from identity.errors import DomainError
from payments import actions
from payments.fulfilment import is_registered
from payments.models import OrderLine
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, key, order_for, pay, regisseur

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder():
    return Recorder()


def test_payments_registers_the_wallet_top_up_handler():
    assert is_registered("payments.wallet_topup")


def test_an_order_naming_an_unknown_handler_is_refused():
    with pytest.raises(DomainError) as refused:
        order_for(ResidentFactory(), 1000, handler="nobody.registered.this")
    assert refused.value.field == "handler"


def test_paid_lines_are_fulfilled_once(recorder, django_capture_on_commit_callbacks):
    order = order_for(ResidentFactory(), 1000, 2000)
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    assert sorted(recorder.fulfilled) == sorted(order.lines.values_list("pk", flat=True))
    actions.fulfil_order(order.pk)  # a task retried
    actions.sweep(older_than=timedelta(0))
    assert len(recorder.fulfilled) == 2
    assert not OrderLine.objects.filter(fulfilled_at__isnull=True).exists()


def test_killed_after_the_payment_before_the_fulfilment_the_sweeper_recovers(
    recorder, monkeypatch, django_capture_on_commit_callbacks
):
    """The payment commits; the process dies before the fulfilment task is queued (nothing
    runs after commit). The sweeper, a minute later, fulfils each line once."""
    order = order_for(ResidentFactory(), 1000, 2000)
    monkeypatch.setattr(actions, "enqueue_fulfilment", lambda order_id: None)  # the crash
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    assert payment.status == "succeeded"
    assert recorder.fulfilled == []
    assert OrderLine.objects.filter(order=order, fulfilled_at__isnull=True).count() == 2
    monkeypatch.undo()

    assert actions.orders_to_sweep() == []  # too recent: its own task may still be running
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert actions.sweep() == [order.pk]
        assert actions.sweep() == []
    assert len(recorder.fulfilled) == 2
    assert set(recorder.fulfilled) == set(order.lines.values_list("pk", flat=True))


def test_a_failing_handler_is_retried_by_the_sweeper(recorder, django_capture_on_commit_callbacks):
    recorder.fail_next = 1
    order = order_for(ResidentFactory(), 1000)
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    line = order.lines.get()
    assert line.fulfilled_at is None
    assert line.attempts == 1
    assert "service down" in line.last_error
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("payments_sweep")
    line.refresh_from_db()
    assert line.fulfilled_at is not None
    assert recorder.fulfilled == [line.pk]


def test_a_refunded_line_is_undone_once(recorder, django_capture_on_commit_callbacks):
    order = order_for(ResidentFactory(), 1000, 2000)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    first, second = order.lines.all()
    officer = regisseur()
    with django_capture_on_commit_callbacks(execute=True):
        actions.refund_payment(
            actor=officer,
            payment=payment,
            amount_cents=2000,
            destination="card",
            reason="Séance annulée",
            idempotency_key=key(),
            line_ids=[second.pk],
        )
    assert recorder.undone == [second.pk]
    with django_capture_on_commit_callbacks(execute=True):
        actions.fulfil_order(order.pk)
    actions.sweep(older_than=timedelta(0))
    assert recorder.undone == [second.pk]
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.undone_at is not None
    assert first.undone_at is None


def test_a_line_refunded_before_it_was_fulfilled_is_never_fulfilled(recorder, monkeypatch):
    order = order_for(ResidentFactory(), 1000)
    payment = pay(order)  # on_commit not run: not fulfilled yet
    actions.refund_payment(
        actor=regisseur(),
        payment=payment,
        amount_cents=1000,
        destination="card",
        reason="x",
        idempotency_key=key(),
    )
    actions.fulfil_order(order.pk)
    assert recorder.fulfilled == []
    assert recorder.undone == []
    assert order.lines.get().undone_at is not None
