"""Refunds by the régisseur: all or part, to the card or to the wallet, never more than what
was paid; dashboard refunds and their echoes; a provider that fails."""

from contextlib import contextmanager

import pytest

from identity.errors import DomainError, Forbidden
from identity.models import AuditEntry, StaffRole
from payments import queries
from payments.actions.desk import record_desk_payment
from payments.actions.refunds import (
    record_provider_refund,
    record_refund_failed,
    refund_payment,
    retry_pending_refunds,
)
from payments.actions.wallets import spend_from_wallet
from payments.models import Document, Order, Payment, Refund
from payments.money import format_cents
from payments.providers import ProviderError, register_provider, unregister_provider
from payments.providers.demo import DemoProvider
from tests.factories import ResidentFactory, staff_user
from tests.payments.factories import Recorder, key, order_for, pay, regisseur, topped_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid():
    Recorder()
    resident = ResidentFactory()
    return resident, pay(order_for(resident, 3000, 2000))


def refund(payment, amount, destination="card", **kwargs):
    return refund_payment(
        actor=kwargs.pop("actor", None) or regisseur(),
        payment=payment,
        amount_cents=amount,
        destination=destination,
        reason="Annulation",
        idempotency_key=kwargs.pop("k", key()),
        **kwargs,
    )


@contextmanager
def unreachable_provider():
    """The card provider cannot be reached (a timeout): a refund asked meanwhile waits."""

    class Down(DemoProvider):
        def refund(self, *, refund):
            raise ProviderError("timeout")

    register_provider("demo", Down)
    try:
        yield
    finally:
        unregister_provider("demo")


def test_partial_then_full_refund_to_the_card(paid):
    _resident, payment = paid
    first = refund(payment, 1000)
    assert first.status == Refund.Status.SUCCEEDED
    assert first.provider_reference.startswith("demo_re_")
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000
    assert payment.order.status == Order.Status.PARTIALLY_REFUNDED
    refund(payment, 4000)
    payment.refresh_from_db()
    assert payment.refunded_cents == 5000
    assert Order.objects.get(pk=payment.order_id).status == Order.Status.REFUNDED
    assert Document.objects.filter(kind="credit").count() == 2
    assert queries.unbalanced_transactions() == []


def test_a_refund_larger_than_what_was_paid_is_refused_with_a_clear_message(paid, in_english):
    _resident, payment = paid
    refund(payment, 4500)
    with pytest.raises(DomainError) as refused:
        refund(payment, 501)
    assert refused.value.code == "refund_exceeds_paid"
    assert refused.value.field == "amount_cents"
    assert "5.01" in refused.value.message or "5,01" in refused.value.message
    assert "left to refund" in refused.value.message
    payment.refresh_from_db()
    assert payment.refunded_cents == 4500
    assert Refund.objects.count() == 1


def test_nothing_left_to_refund_is_said_so(paid, in_english):
    _resident, payment = paid
    refund(payment, 5000)
    with pytest.raises(DomainError) as refused:
        refund(payment, 100)
    assert refused.value.code == "refund_exceeds_paid"
    assert refused.value.message == (
        f"Nothing is left to refund on this payment of {format_cents(5000)}."
    )


def test_a_refund_still_at_the_provider_is_named_in_the_refusal(paid, in_english):
    """The card provider could not be reached: the refund waits, its amount held. Another
    refund that does not fit in what is left says a refund is in progress."""
    _resident, payment = paid
    with unreachable_provider(), pytest.raises(DomainError):
        refund(payment, 4000)
    with pytest.raises(DomainError) as refused:
        refund(payment, 2000)
    assert refused.value.code == "refund_in_progress"
    assert refused.value.field == "amount_cents"
    assert refused.value.message == (
        f"A refund of {format_cents(4000)} of this payment is already in progress with the "
        f"payment provider: {format_cents(1000)} is left to refund."
    )
    assert refund(payment, 1000).status == Refund.Status.SUCCEEDED  # what is left still goes


def test_the_same_refund_request_twice_refunds_once(paid):
    _resident, payment = paid
    officer = regisseur()
    a = refund(payment, 1000, actor=officer, k="refund-1")
    b = refund(payment, 1000, actor=officer, k="refund-1")
    assert a.pk == b.pk
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000


def test_refund_to_the_wallet_credits_the_payer(paid):
    resident, payment = paid
    refund(payment, 2000, destination="wallet")
    assert queries.wallet_balance(resident.pk) == 2000
    assert queries.ledger_discrepancies() == []


def test_a_top_up_refund_takes_the_money_back_from_the_wallet():
    resident = ResidentFactory()
    payment = topped_up(resident, 2000)
    spend_from_wallet(
        person_id=resident.pk,
        amount_cents=1500,
        regie=payment.order.lines.get().regie,
        reference="Piscine",
        idempotency_key=key(),
    )
    with pytest.raises(DomainError) as refused:
        refund(payment, 2000)  # 5 € left on the wallet
    assert refused.value.code == "insufficient_balance"
    assert Payment.objects.get(pk=payment.pk).refunded_cents == 0
    refund(payment, 500)
    assert queries.wallet_balance(resident.pk) == 0


def test_only_a_regisseur_refunds(paid):
    _resident, payment = paid
    clerk = staff_user(StaffRole.Role.CLERK)
    with pytest.raises(Forbidden):
        refund(payment, 100, actor=clerk)


def test_refunds_are_audited(paid):
    resident, payment = paid
    officer = regisseur()
    refund(payment, 100, actor=officer)
    entry = AuditEntry.objects.get(action="payments.refund")
    assert entry.actor == officer
    assert entry.household == resident.household


def test_a_refused_provider_refund_gives_the_amount_back(paid):
    _resident, payment = paid

    class Refusing(DemoProvider):
        def refund(self, *, refund):
            raise ProviderError("charge already refunded", retryable=False)

    register_provider("demo", Refusing)
    try:
        with pytest.raises(DomainError) as refused:
            refund(payment, 1000)
    finally:
        unregister_provider("demo")
    assert refused.value.code == "provider_refused"
    payment.refresh_from_db()
    assert payment.refunded_cents == 0
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert queries.unbalanced_transactions() == []


def test_an_unreachable_provider_leaves_the_refund_pending_then_it_is_retried(paid):
    _resident, payment = paid
    with unreachable_provider(), pytest.raises(DomainError) as refused:
        refund(payment, 1000)
    assert refused.value.code == "provider_unavailable"
    pending = Refund.objects.get()
    assert pending.status == Refund.Status.PENDING
    # the provider's echo of it arrives (a webhook) before the sweeper: completed once
    record_provider_refund(
        provider="demo",
        provider_reference=payment.provider_reference,
        refund_reference="demo_re_x",
        amount_cents=1000,
        event_id="evt_echo",
    )
    pending.refresh_from_db()
    assert pending.status == Refund.Status.SUCCEEDED
    assert pending.provider_reference == "demo_re_x"
    assert retry_pending_refunds(older_than=__import__("datetime").timedelta(0)) == 0
    payment.refresh_from_db()
    assert payment.refunded_cents == 1000
    assert Refund.objects.count() == 1


def test_a_refund_failing_later_is_reversed(paid):
    _resident, payment = paid
    done = refund(payment, 1000)
    record_refund_failed(
        provider="demo",
        refund_reference=done.provider_reference,
        reason="card closed",
        event_id="evt_rf",
    )
    done.refresh_from_db()
    payment.refresh_from_db()
    assert done.status == Refund.Status.FAILED
    assert payment.refunded_cents == 0
    assert queries.unbalanced_transactions() == []


def test_desk_payment_in_cash_and_its_refund(in_english):
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1200, channel="desk")
    officer = regisseur()
    with pytest.raises(DomainError) as refused:
        record_desk_payment(
            actor=officer, order=order, method="cash", amount_cents=1000, idempotency_key=key()
        )
    assert refused.value.field == "amount_cents"
    payment = record_desk_payment(
        actor=officer, order=order, method="cash", amount_cents=1200, idempotency_key="d1"
    )
    again = record_desk_payment(
        actor=officer, order=order, method="cash", amount_cents=1200, idempotency_key="d1"
    )
    assert payment.pk == again.pk
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.documents.filter(kind="receipt").exists()
    with pytest.raises(DomainError):
        refund(payment, 200, destination="card")
    refund(payment, 200, destination="cash")
    assert queries.unbalanced_transactions() == []
