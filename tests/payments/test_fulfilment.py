"""Paid → fulfil each line exactly once; refunded → undo exactly once; a process killed between
the provider's success and the fulfilment is caught up by the sweeper."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from identity.errors import DomainError
from identity.models import AuditEntry
from payments import signals
from payments.actions.desk import record_desk_payment
from payments.actions.fulfilment import fulfil_order
from payments.actions.orders import LineInput, cancel_order, create_order
from payments.actions.refunds import refund_payment
from payments.actions.sweep import orders_to_sweep, sweep
from payments.fulfilment import CannotFulfil, is_registered, register_fulfilment_handler
from payments.models import Document, OrderLine, Refund
from payments.queries import ledger_discrepancies, wallet_balance
from tests.factories import ResidentFactory
from tests.payments.factories import (
    Recorder,
    RegieFactory,
    key,
    order_for,
    pay,
    regisseur,
    wallet_regie,
)

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
    fulfil_order(order.pk)  # a task retried
    sweep(older_than=timedelta(0))
    assert len(recorder.fulfilled) == 2
    assert not OrderLine.objects.filter(fulfilled_at__isnull=True).exists()


def test_killed_after_the_payment_before_the_fulfilment_the_sweeper_recovers(
    recorder, monkeypatch, django_capture_on_commit_callbacks
):
    """The payment commits; the process dies before the fulfilment task is queued (nothing
    runs after commit). The sweeper, a minute later, fulfils each line once."""
    order = order_for(ResidentFactory(), 1000, 2000)
    monkeypatch.setattr(signals.fulfilment_due, "send", lambda **kwargs: [])  # the crash
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    assert payment.status == "succeeded"
    assert recorder.fulfilled == []
    assert OrderLine.objects.filter(order=order, fulfilled_at__isnull=True).count() == 2
    monkeypatch.undo()

    assert orders_to_sweep() == []  # too recent: its own task may still be running
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweep() == [order.pk]
        assert sweep() == []
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
        refund_payment(
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
        fulfil_order(order.pk)
    sweep(older_than=timedelta(0))
    assert recorder.undone == [second.pk]
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.undone_at is not None
    assert first.undone_at is None


def test_a_line_refunded_before_it_was_fulfilled_is_never_fulfilled(recorder, monkeypatch):
    order = order_for(ResidentFactory(), 1000)
    payment = pay(order)  # on_commit not run: not fulfilled yet
    refund_payment(
        actor=regisseur(),
        payment=payment,
        amount_cents=1000,
        destination="card",
        reason="x",
        idempotency_key=key(),
    )
    fulfil_order(order.pk)
    assert recorder.fulfilled == []
    assert recorder.undone == []
    assert order.lines.get().undone_at is not None


# --- Lines that can never be delivered ----------------------------------------------------------


class Undeliverable(Recorder):
    """A handler whose service says it can never deliver (`CannotFulfil`)."""

    def __init__(self):
        super().__init__("test.undeliverable")
        self.tries = 0

    def fulfil(self, line):
        self.tries += 1
        raise CannotFulfil("full")


def test_an_undeliverable_line_is_refunded_to_the_card_once_and_never_retried(
    recorder, mailoutbox, django_capture_on_commit_callbacks
):
    undeliverable = Undeliverable()
    resident = ResidentFactory()
    order = create_order(
        buyer=resident.user,
        payer=resident,
        lines=[
            LineInput(
                regie=RegieFactory(),
                label="Stage",
                handler=undeliverable.name,
                unit_price_cents=6000,
            ),
            LineInput(
                regie=RegieFactory(), label="Carnet", handler=recorder.name, unit_price_cents=1000
            ),
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    stage, book = order.lines.order_by("pk")
    stage.refresh_from_db()
    assert stage.undeliverable_at is not None
    assert stage.undeliverable_reason == "full"
    assert stage.fulfilled_at is None
    assert recorder.fulfilled == [book.pk]  # the other line is delivered as usual

    refund = Refund.objects.get(payment=payment)
    assert (refund.destination, refund.status, refund.amount_cents) == ("card", "succeeded", 6000)
    assert refund.provider_reference.startswith("demo_re_")
    assert list(refund.lines.all()) == [stage]
    assert Document.objects.filter(refund=refund, kind=Document.Kind.CREDIT_NOTE).count() == 1
    order.refresh_from_db()
    assert (order.status, order.refunded_cents) == ("partially_refunded", 6000)
    assert AuditEntry.objects.filter(action="payments.line_undeliverable").count() == 1
    assert ledger_discrepancies() == []

    notices = [
        m
        for m in mailoutbox
        if "receipt" not in m.subject.lower() and "reçu" not in m.subject.lower()
    ]
    assert len(notices) == 1
    assert notices[0].to == [resident.user.email]
    assert notices[0].attachments  # the credit note

    # Retried by a task, the sweeper, a cron much later: no second try, no second refund.
    with django_capture_on_commit_callbacks(execute=True):
        assert fulfil_order(order.pk) == 0
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert order.pk not in orders_to_sweep()
        call_command("payments_sweep")
    assert undeliverable.tries == 1
    assert Refund.objects.filter(payment=payment).count() == 1
    stage.refresh_from_db()
    assert stage.undone_at is not None  # the refund's undo step: nothing to undo, marked once
    assert recorder.undone == []
    assert len([m for m in mailoutbox if m.subject == notices[0].subject]) == 1


def test_an_undeliverable_line_paid_in_cash_goes_back_to_the_wallet(
    mailoutbox, django_capture_on_commit_callbacks
):
    undeliverable = Undeliverable()
    wallet_regie()
    resident = ResidentFactory()
    order = order_for(resident, 2500, handler=undeliverable.name)
    with django_capture_on_commit_callbacks(execute=True):
        record_desk_payment(
            actor=regisseur(),
            order=order,
            method="cash",
            amount_cents=2500,
            idempotency_key=key(),
        )
    refund = Refund.objects.get()
    assert (refund.destination, refund.status) == ("wallet", "succeeded")
    assert wallet_balance(resident.pk) == 2500
    assert ledger_discrepancies() == []
    fulfil_order(order.pk)
    assert Refund.objects.count() == 1
    assert wallet_balance(resident.pk) == 2500


def test_a_card_refund_the_provider_cannot_take_now_is_retried_by_the_sweeper(
    monkeypatch, django_capture_on_commit_callbacks
):
    from payments.providers.base import ProviderError
    from payments.providers.demo import DemoProvider

    undeliverable = Undeliverable()
    order = order_for(ResidentFactory(), 4000, handler=undeliverable.name)

    def unreachable(self, *, refund):
        raise ProviderError("timeout")

    monkeypatch.setattr(DemoProvider, "refund", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    refund = Refund.objects.get(payment=payment)
    assert refund.status == "pending"
    line = order.lines.get()
    assert line.undeliverable_at is not None
    monkeypatch.undo()
    fulfil_order(order.pk)
    assert undeliverable.tries == 1
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        call_command("payments_sweep")
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Refund.objects.filter(payment=payment).count() == 1
    assert ledger_discrepancies() == []


# --- Cancelled orders release what they hold ---------------------------------------------------


def test_cancelling_an_unpaid_order_calls_each_lines_on_cancel_hook_once():
    released = []
    register_fulfilment_handler(
        "test.held", fulfil=lambda line: None, undo=lambda line: None, on_cancel=released.append
    )
    resident = ResidentFactory()
    order = order_for(resident, 1000, 2000, handler="test.held")
    cancel_order(actor=resident.user, order=order)
    assert sorted(line.pk for line in released) == sorted(order.lines.values_list("pk", flat=True))
    with pytest.raises(DomainError):
        cancel_order(actor=resident.user, order=order)  # already cancelled
    assert len(released) == 2


def test_a_failing_on_cancel_hook_does_not_stop_the_cancellation(recorder):
    def broken(line):
        raise RuntimeError("service down")

    register_fulfilment_handler(
        "test.broken", fulfil=lambda line: None, undo=lambda line: None, on_cancel=broken
    )
    resident = ResidentFactory()
    order = order_for(resident, 1000, handler="test.broken")
    assert cancel_order(actor=resident.user, order=order).status == "cancelled"
    order.refresh_from_db()
    assert order.status == "cancelled"
    # A handler registered without a hook is simply not called.
    other = order_for(resident, 1000)
    assert cancel_order(actor=resident.user, order=other).status == "cancelled"
