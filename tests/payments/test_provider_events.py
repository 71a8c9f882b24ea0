"""What providers report: idempotent, out-of-order tolerant, refusing mismatches and unknown
payments without writing anything (the contract the Stripe webhook relies on)."""

import pytest

from identity.errors import DomainError, NotFound
from payments import queries
from payments.actions.checkout import start_payment
from payments.actions.provider_events import (
    already_processed,
    record_dispute,
    record_dispute_closed,
    record_payment_cancelled,
    record_payment_failed,
    record_payment_succeeded,
)
from payments.actions.refunds import record_provider_refund
from payments.models import (
    Document,
    LedgerEntry,
    LedgerTransaction,
    Order,
    Payment,
    ProviderEvent,
    Refund,
)
from payments.providers import get_provider, online_provider
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorder():
    return Recorder()


def started(order):
    payment, start = start_payment(order=order, provider="demo", return_url="/")
    return payment, start


def succeed(payment, event_id=None, **overrides):
    kwargs = {
        "provider": "demo",
        "provider_reference": payment.provider_reference,
        "amount_cents": payment.amount_cents,
        "currency": "EUR",
        "event_id": event_id,
    }
    kwargs.update(overrides)
    return record_payment_succeeded(**kwargs)


def test_demo_is_the_online_provider_without_stripe_keys(settings):
    settings.STRIPE_SECRET_KEY = ""
    provider = online_provider()
    assert provider.code == "demo"
    assert provider.is_demo
    assert get_provider("demo").label.startswith("Démo")


def test_a_payment_is_credited_once_whatever_the_replays(
    recorder, django_capture_on_commit_callbacks
):
    order = order_for(ResidentFactory(), 1500, 700)
    payment, start = started(order)
    assert start.kind == "redirect"
    assert payment.status == Payment.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        succeed(payment, event_id="evt_1")
        succeed(payment, event_id="evt_1")  # the same event retried
        succeed(payment, event_id="evt_2")  # another event about the same success
        succeed(payment)  # no event id at all
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.PAID
    assert LedgerTransaction.objects.filter(payment=payment).count() == 1
    assert ProviderEvent.objects.count() == 2
    assert len(recorder.fulfilled) == 2  # two lines, each once
    assert Document.objects.filter(kind=Document.Kind.RECEIPT).count() == 1
    assert Document.objects.filter(kind=Document.Kind.INVOICE).count() == 1
    assert queries.unbalanced_transactions() == []


def test_a_failure_after_the_success_changes_nothing(recorder):
    payment, _ = started(order_for(ResidentFactory()))
    succeed(payment, event_id="evt_ok")
    record_payment_failed(
        provider="demo",
        provider_reference=payment.provider_reference,
        reason="late",
        event_id="evt_late",
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_a_success_after_a_failure_is_credited(recorder):
    payment, _ = started(order_for(ResidentFactory()))
    record_payment_failed(
        provider="demo", provider_reference=payment.provider_reference, reason="declined"
    )
    succeed(payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"amount_cents": 1}, "amount_cents"), ({"currency": "USD"}, "currency")],
)
def test_amount_or_currency_mismatch_writes_nothing(recorder, overrides, field):
    payment, _ = started(order_for(ResidentFactory()))
    with pytest.raises(DomainError) as refused:
        succeed(payment, event_id="evt_bad", **overrides)
    assert refused.value.field == field
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not LedgerEntry.objects.exists()
    assert not ProviderEvent.objects.exists()
    assert not Document.objects.exists()


def test_unknown_payment_is_not_found_and_nothing_is_written():
    with pytest.raises(NotFound):
        record_payment_succeeded(
            provider="demo",
            provider_reference="demo_nope",
            amount_cents=100,
            currency="EUR",
            event_id="evt_x",
        )
    assert not ProviderEvent.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_double_clicked_pay_button_finds_the_same_payment(recorder):
    order = order_for(ResidentFactory())
    first, _ = start_payment(order=order, provider="demo", return_url="/", idempotency_key="k1")
    again, _ = start_payment(order=order, provider="demo", return_url="/", idempotency_key="k1")
    other_click, _ = start_payment(order=order, provider="demo", return_url="/")
    assert first.pk == again.pk == other_click.pk
    assert Payment.objects.count() == 1


def test_a_paid_order_cannot_be_paid_again(recorder):
    order = order_for(ResidentFactory())
    pay(order)
    with pytest.raises(DomainError) as refused:
        start_payment(order=order, provider="demo", return_url="/")
    assert refused.value.code == "order_not_payable"


def test_a_second_successful_attempt_waits_in_suspense(
    recorder, django_capture_on_commit_callbacks
):
    order = order_for(ResidentFactory())
    first, _ = start_payment(order=order, provider="demo", return_url="/")
    # a second tab abandoned the first attempt and started another one with another key
    record_payment_cancelled(provider="demo", provider_reference=first.provider_reference)
    second, _ = start_payment(order=order, provider="demo", return_url="/")
    assert second.pk != first.pk
    with django_capture_on_commit_callbacks(execute=True):
        succeed(second)
        succeed(first)  # the abandoned one was paid after all
    first.refresh_from_db()
    assert first.duplicate
    assert len(recorder.fulfilled) == 1
    assert queries.unbalanced_transactions() == []


def test_dashboard_refund_and_its_echo_are_recorded_once(recorder):
    payment = pay(order_for(ResidentFactory(), 2000))
    for _ in range(2):
        record_provider_refund(
            provider="demo",
            provider_reference=payment.provider_reference,
            refund_reference="re_1",
            amount_cents=500,
            event_id="evt_r1",
        )
    payment.refresh_from_db()
    assert payment.refunded_cents == 500
    assert Refund.objects.count() == 1
    with pytest.raises(DomainError) as refused:
        record_provider_refund(
            provider="demo",
            provider_reference=payment.provider_reference,
            refund_reference="re_2",
            amount_cents=1600,
        )
    assert refused.value.code == "refund_exceeds_paid"
    assert Refund.objects.count() == 1


def test_dispute_moves_money_out_of_clearing(recorder):
    payment = pay(order_for(ResidentFactory(), 2000))
    record_dispute(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=2000,
        event_id="evt_d",
    )
    record_dispute(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=2000,
        event_id="evt_d",
    )
    payment.refresh_from_db()
    assert payment.disputed_cents == 2000
    assert queries.unbalanced_transactions() == []


def _balances(provider="demo"):
    from payments import ledger
    from payments.models import LedgerAccount

    return (
        queries.account_balance(ledger.provider_account(LedgerAccount.Kind.CLEARING, provider)),
        queries.account_balance(ledger.provider_account(LedgerAccount.Kind.DISPUTES, provider)),
    )


def _disputed(cents=2000):
    payment = pay(order_for(ResidentFactory(), cents))
    record_dispute(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=cents,
        event_id="evt_open",
    )
    return payment


def test_a_won_dispute_returns_the_money_to_clearing_once(recorder):
    payment = _disputed()
    assert _balances() == (0, 2000)
    for event_id in ("evt_won", "evt_won", "evt_won_again"):  # replayed, and a second event
        record_dispute_closed(
            provider="demo",
            provider_reference=payment.provider_reference,
            amount_cents=2000,
            won=True,
            event_id=event_id,
            dispute_reference="dp_1",
        )
    payment.refresh_from_db()
    assert payment.disputed_cents == 0
    assert _balances() == (2000, 0)
    assert LedgerTransaction.objects.filter(payment=payment, kind="dispute").count() == 2
    assert queries.unbalanced_transactions() == []
    # Even without a dispute reference, never more than what is disputed.
    with pytest.raises(DomainError) as refused:
        record_dispute_closed(
            provider="demo",
            provider_reference=payment.provider_reference,
            amount_cents=2000,
            won=True,
            event_id="evt_won_3",
        )
    assert refused.value.code == "refund_exceeds_paid"
    assert not already_processed("demo", "evt_won_3")  # rolled back with it
    assert _balances() == (2000, 0)


def test_a_lost_dispute_stays_lost(recorder):
    payment = _disputed()
    record_dispute_closed(
        provider="demo",
        provider_reference=payment.provider_reference,
        amount_cents=2000,
        won=False,
        event_id="evt_lost",
    )
    payment.refresh_from_db()
    assert payment.disputed_cents == 2000
    assert _balances() == (0, 2000)
    assert LedgerTransaction.objects.filter(payment=payment, kind="dispute").count() == 1
    assert already_processed("demo", "evt_lost")


def test_already_processed(recorder):
    payment, _ = started(order_for(ResidentFactory()))
    assert not already_processed("demo", "evt_9")
    succeed(payment, event_id="evt_9")
    assert already_processed("demo", "evt_9")
    assert not already_processed("demo", None)
