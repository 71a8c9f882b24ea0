"""Money races on PostgreSQL: two deliveries of a success at once credit once; two régisseurs
refunding at once never give back more than was paid."""

import threading

import pytest

from identity.errors import DomainError
from payments import queries, signals
from payments.actions.checkout import start_payment
from payments.actions.fulfilment import fulfil_order
from payments.actions.provider_events import record_payment_succeeded
from payments.actions.refunds import refund_payment
from payments.models import LedgerTransaction, ProviderEvent, Refund
from tests.concurrency import at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_deliveries_of_a_success_at_once_credit_once():
    recorder = Recorder()
    order = order_for(ResidentFactory(), 2500)
    payment, _ = start_payment(order=order, provider="demo", return_url="/")
    barrier = threading.Barrier(2)

    def deliver(event_id):
        def call():
            barrier.wait(timeout=10)
            return record_payment_succeeded(
                provider="demo",
                provider_reference=payment.provider_reference,
                amount_cents=2500,
                currency="EUR",
                event_id=event_id,
            ).status

        return call

    answers = at_once(deliver("evt_a"), deliver("evt_b"))
    assert answers == ["succeeded", "succeeded"]
    assert LedgerTransaction.objects.filter(payment=payment).count() == 1
    assert ProviderEvent.objects.count() == 2
    assert len(recorder.fulfilled) == 1


def test_two_regisseurs_refunding_at_once_never_exceed_the_payment():
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    officers = [regisseur(), regisseur()]
    barrier = threading.Barrier(2)

    def refund(n):
        def call():
            barrier.wait(timeout=10)
            try:
                return refund_payment(
                    actor=officers[n],
                    payment=payment,
                    amount_cents=2000,
                    destination="wallet",
                    reason="double",
                    idempotency_key=f"r-{n}",
                )
            except DomainError as error:
                return error

        return call

    answers = at_once(refund(0), refund(1))
    refused = [a for a in answers if isinstance(a, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "refund_exceeds_paid"
    assert Refund.objects.count() == 1
    payment.refresh_from_db()
    assert payment.refunded_cents == 2000
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []


def test_an_undeliverable_line_fulfilled_twice_at_once_is_refunded_once(monkeypatch):
    """Two fulfilment tasks of the same order at once (the task and the sweeper), the service
    answering CannotFulfil to both: one mark, one refund, one credit note."""
    from payments.fulfilment import CannotFulfil, register_fulfilment_handler
    from payments.models import Document, OrderLine

    tries = []

    def fulfil(line):
        tries.append(line.pk)
        raise CannotFulfil("full")

    register_fulfilment_handler("test.gone", fulfil=fulfil, undo=lambda line: None)
    order = order_for(ResidentFactory(), 2500, handler="test.gone")
    monkeypatch.setattr(signals.fulfilment_due, "send", lambda **kwargs: [])
    monkeypatch.setattr(signals.undeliverable_notice_due, "send", lambda **kwargs: [])
    payment = pay(order)
    barrier = threading.Barrier(2)

    def fulfil_now():
        barrier.wait(timeout=10)
        return fulfil_order(order.pk)

    answers = at_once(fulfil_now, fulfil_now)
    assert sorted(answers) == [0, 1]
    assert Refund.objects.filter(payment=payment).count() == 1
    assert Document.objects.filter(kind="credit", order=order).count() == 1
    line = OrderLine.objects.get(order=order)
    assert line.undeliverable_at is not None
    assert line.refunded_cents == 2500
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []
