"""Money races on PostgreSQL: two deliveries of a success at once credit once; two régisseurs
refunding at once both count and never give back more than was paid; a line that can never be
delivered, fulfilled twice at once, is refunded once. As in pretix, each guarantee is shown
twice: first that the race does happen with the row locks switched off (the threads lined up
once they have read what they read), then that the locks prevent it (the threads asking for
them at the same instant)."""

import pytest
from django.db import IntegrityError
from django.utils import translation

from identity.errors import DomainError
from payments import queries, signals
from payments.actions import fulfilment as fulfilment_actions
from payments.actions import provider_events, refunds
from payments.actions.checkout import start_payment
from payments.actions.fulfilment import fulfil_order
from payments.actions.provider_events import record_payment_succeeded
from payments.actions.refunds import refund_payment
from payments.fulfilment import CannotFulfil, register_fulfilment_handler
from payments.models import (
    Document,
    LedgerTransaction,
    OrderLine,
    ProviderEvent,
    Refund,
)
from tests.concurrency import line_up, run_at_once
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- Two deliveries of a success -------------------------------------------------------------


@pytest.fixture
def started():
    recorder = Recorder()
    order = order_for(ResidentFactory(), 2500)
    payment, _ = start_payment(order=order, provider="demo", return_url="/")
    return recorder, payment


def deliver_twice(payment):
    """Two events saying the payment succeeded (two ids: Stripe sends one per fact it
    reports), delivered at once."""

    def deliver(event_id):
        return lambda: (
            record_payment_succeeded(
                provider="demo",
                provider_reference=payment.provider_reference,
                amount_cents=2500,
                currency="EUR",
                event_id=event_id,
            ).status
        )

    return run_at_once(deliver("evt_a"), deliver("evt_b"))


def test_without_the_lock_two_deliveries_at_once_credit_twice(started, monkeypatch):
    _recorder, payment = started
    line_up(monkeypatch, provider_events, "locked_payment", lock=False)  # both read "pending"
    outcome = deliver_twice(payment)
    assert outcome.errors == []
    assert LedgerTransaction.objects.filter(payment=payment).count() == 2  # posted twice


def test_two_deliveries_of_a_success_at_once_credit_once(started, monkeypatch):
    recorder, payment = started
    line_up(monkeypatch, provider_events, "locked_payment", lock=True)
    outcome = deliver_twice(payment)
    assert outcome.errors == []
    assert outcome.answers == ["succeeded", "succeeded"]
    assert LedgerTransaction.objects.filter(payment=payment).count() == 1
    assert ProviderEvent.objects.count() == 2
    assert len(recorder.fulfilled) == 1


# --- Two régisseurs refunding ----------------------------------------------------------------


@pytest.fixture
def paid():
    Recorder()
    return pay(order_for(ResidentFactory(), 3000))


def refund_twice(payment, cents: int):
    """Two régisseurs refund `cents` of the payment to the payer's wallet at once: each
    answer is the refund or the refusal."""
    officers = [regisseur(), regisseur()]

    def refund(n):
        def call():
            try:
                with translation.override("en"):  # the refusals, read below
                    return refund_payment(
                        actor=officers[n],
                        payment=payment,
                        amount_cents=cents,
                        destination="wallet",
                        reason="double",
                        idempotency_key=f"r-{n}",
                    )
            except DomainError as error:
                return error

        return call

    outcome = run_at_once(refund(0), refund(1))
    assert outcome.errors == []
    return outcome.answers


def test_without_the_lock_two_refunds_at_once_lose_one_on_the_payment(paid, monkeypatch):
    line_up(monkeypatch, refunds, "_refund_replayed", lock=False)
    answers = refund_twice(paid, 1000)
    assert all(isinstance(answer, Refund) for answer in answers)
    paid.refresh_from_db()
    assert paid.refunded_cents == 1000  # the race: 2 000 were refunded
    assert sum(refund.amount_cents for refund in Refund.objects.all()) == 2000


def test_two_refunds_at_once_both_count(paid, monkeypatch):
    line_up(monkeypatch, refunds, "_refund_replayed", lock=True)
    answers = refund_twice(paid, 1000)
    assert all(isinstance(answer, Refund) for answer in answers)
    paid.refresh_from_db()
    assert paid.refunded_cents == 2000
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []


def test_without_the_lock_two_refunds_too_large_together_both_pass_the_payments_check(
    paid, monkeypatch
):
    """Each sees 30 € left on the payment: only the order's lines, read again once the first
    refund commits, stop the second."""
    line_up(monkeypatch, refunds, "_refund_replayed", lock=False)
    answers = refund_twice(paid, 2000)
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert "on these lines" in refused[0].message  # the payment's own check let it through


def test_two_regisseurs_refunding_at_once_never_exceed_the_payment(paid, monkeypatch):
    line_up(monkeypatch, refunds, "_refund_replayed", lock=True)
    answers = refund_twice(paid, 2000)
    refused = [answer for answer in answers if isinstance(answer, DomainError)]
    assert len(refused) == 1
    assert refused[0].code == "refund_exceeds_paid"
    assert refused[0].field == "amount_cents"
    assert Refund.objects.count() == 1
    paid.refresh_from_db()
    assert paid.refunded_cents == 2000
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []


# --- A line that can never be delivered ------------------------------------------------------


@pytest.fixture
def undeliverable(monkeypatch):
    """A paid order whose service answers CannotFulfil, its fulfilment not run yet."""

    def fulfil(line):
        raise CannotFulfil("full")

    register_fulfilment_handler("test.gone", fulfil=fulfil, undo=lambda line: None)
    order = order_for(ResidentFactory(), 2500, handler="test.gone")
    monkeypatch.setattr(signals.fulfilment_due, "send", lambda **kwargs: [])
    monkeypatch.setattr(signals.undeliverable_notice_due, "send", lambda **kwargs: [])
    return pay(order)


def fulfil_twice(payment):
    """Two fulfilment tasks of the same order at once (the task and the sweeper)."""
    return run_at_once(*(lambda: fulfil_order(payment.order_id) for _ in range(2)))


def test_without_the_lock_an_undeliverable_line_is_taken_twice(undeliverable, monkeypatch):
    """Both tasks find the line still to mark and refund it: the refund's unique key stops the
    second (a failed task) after it marked the line and booked the refund again."""
    line_up(monkeypatch, fulfilment_actions, "_locked_line", lock=False)
    outcome = fulfil_twice(undeliverable)
    assert len(outcome.errors) == 1
    assert isinstance(outcome.errors[0], IntegrityError)  # the race


def test_an_undeliverable_line_fulfilled_twice_at_once_is_refunded_once(undeliverable, monkeypatch):
    line_up(monkeypatch, fulfilment_actions, "_locked_line", lock=True)
    outcome = fulfil_twice(undeliverable)
    assert outcome.errors == []
    assert sorted(outcome.answers) == [0, 1]
    assert Refund.objects.filter(payment=undeliverable).count() == 1
    assert Document.objects.filter(kind="credit", order_id=undeliverable.order_id).count() == 1
    line = OrderLine.objects.get(order_id=undeliverable.order_id)
    assert line.undeliverable_at is not None
    assert line.refunded_cents == 2500
    assert queries.unbalanced_transactions() == []
    assert queries.ledger_discrepancies() == []
