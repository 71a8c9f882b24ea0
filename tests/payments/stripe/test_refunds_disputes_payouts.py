"""After the payment: refunds (asked by a régisseur through the API, or made from Stripe's
dashboard), disputes and payouts, each reported by a signed webhook and looked up again."""

import pytest

from payments.actions.refunds import refund_payment
from payments.errors import RefundTooLarge
from payments.models import LedgerTransaction, Order, Payment, ProviderPayout, Refund

from .conftest import pay_on_stripe, post_stripe_event, send_event, stripe_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def regisseur():
    from identity.models import StaffRole
    from tests.factories import staff_user

    return staff_user(StaffRole.Role.FINANCE_OFFICER)


@pytest.fixture
def paid(client, make_order, start, stripe_api, django_capture_on_commit_callbacks):
    """An order of 25 € paid online, its success recorded through the webhook."""
    order = make_order(cents=2500)
    payment, _ = start(order)
    pay_on_stripe(stripe_api, payment.provider_reference)
    event = stripe_event(stripe_api, "payment_intent.succeeded", payment.provider_reference)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_stripe_event(client, event).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def charge_of(stripe_api, payment: Payment):
    intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference)
    return stripe_api.v1.charges.retrieve(intent.latest_charge.id)


def test_partial_then_full_refund_through_the_api(
    client, paid, regisseur, stripe_api, fake_stripe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = refund_payment(
            actor=regisseur,
            payment=paid,
            amount_cents=1000,
            destination=Refund.Destination.CARD,
            idempotency_key="refund-1",
        )
    assert first.status == Refund.Status.SUCCEEDED
    assert first.provider_reference.startswith("re_")
    sent = fake_stripe.seen("POST", "/v1/refunds")[-1]
    assert sent.idempotency_key == first.idempotency_key
    assert sent.params["amount"] == "1000"
    assert sent.params["payment_intent"] == paid.provider_reference
    assert stripe_api.v1.refunds.retrieve(first.provider_reference).amount == 1000

    # Stripe's echo of that refund changes nothing.
    echo = charge_of(stripe_api, paid).to_dict()
    assert send_event(client, "charge.refunded", echo).status_code == 200
    paid.refresh_from_db()
    assert paid.refunded_cents == 1000
    assert Refund.objects.filter(payment=paid).count() == 1
    assert paid.order.status == Order.Status.PARTIALLY_REFUNDED

    # The same request again (a double click) is the same refund, on both sides.
    again = refund_payment(
        actor=regisseur,
        payment=paid,
        amount_cents=1000,
        destination=Refund.Destination.CARD,
        idempotency_key="refund-1",
    )
    assert again.pk == first.pk

    with django_capture_on_commit_callbacks(execute=True):
        rest = refund_payment(
            actor=regisseur,
            payment=paid,
            amount_cents=1500,
            destination=Refund.Destination.CARD,
            idempotency_key="refund-2",
        )
    assert rest.status == Refund.Status.SUCCEEDED
    assert rest.provider_reference != first.provider_reference
    paid.refresh_from_db()
    assert paid.refunded_cents == 2500
    assert Order.objects.get(pk=paid.order_id).status == Order.Status.REFUNDED
    assert charge_of(stripe_api, paid).amount_refunded == 2500

    with pytest.raises(RefundTooLarge):
        refund_payment(
            actor=regisseur,
            payment=paid,
            amount_cents=1,
            destination=Refund.Destination.CARD,
            idempotency_key="refund-3",
        )


def test_a_refund_made_from_the_dashboard_is_recorded_once(client, paid, stripe_api):
    made_there = stripe_api.v1.refunds.create(
        {"payment_intent": paid.provider_reference, "amount": 700}
    )
    charge = charge_of(stripe_api, paid).to_dict()

    assert send_event(client, "charge.refunded", charge).status_code == 200
    assert send_event(client, "charge.refunded", charge).status_code == 200  # another delivery
    refund = stripe_api.v1.refunds.retrieve(made_there.id).to_dict()
    assert send_event(client, "refund.updated", refund).status_code == 200

    recorded = Refund.objects.get(payment=paid)
    assert recorded.provider_reference == made_there.id
    assert recorded.amount_cents == 700
    assert recorded.status == Refund.Status.SUCCEEDED
    paid.refresh_from_db()
    assert paid.refunded_cents == 700
    assert LedgerTransaction.objects.filter(refund=recorded).count() == 1


def test_a_refund_that_fails_later_puts_the_money_back(
    client, paid, regisseur, stripe_api, fake_stripe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_payment(
            actor=regisseur,
            payment=paid,
            amount_cents=2500,
            destination=Refund.Destination.CARD,
            idempotency_key="refund-fails",
        )
    # The bank returns it (Stripe's `refund.updated` with status `failed`).
    fake_stripe.backend_request(
        "POST", f"/v1/refunds/{refund.provider_reference}", {"status": "failed"}
    )
    failed = stripe_api.v1.refunds.retrieve(refund.provider_reference).to_dict()

    assert send_event(client, "refund.updated", failed).status_code == 200
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == Refund.Status.FAILED
    assert paid.refunded_cents == 0


def test_a_dispute_is_recorded_once(client, paid, fake_stripe):
    dispute = fake_stripe.open_dispute(payment_intent=paid.provider_reference, amount=2500)
    claimed = {**dispute, "amount": 1}  # the payload's amount is not the one recorded

    assert (
        send_event(client, "charge.dispute.created", claimed, event_id="evt_dp_1").status_code
        == 200
    )
    assert (
        send_event(client, "charge.dispute.created", claimed, event_id="evt_dp_1").status_code
        == 200
    )

    paid.refresh_from_db()
    assert paid.disputed_cents == 2500
    assert LedgerTransaction.objects.filter(payment=paid, kind="dispute").count() == 1


def _dispute_balances():
    from payments import ledger, queries
    from payments.models import LedgerAccount

    return tuple(
        queries.account_balance(ledger.provider_account(kind, "stripe"))
        for kind in (LedgerAccount.Kind.CLEARING, LedgerAccount.Kind.DISPUTES)
    )


def test_a_won_dispute_brings_the_money_back_to_clearing_once(client, paid, fake_stripe):
    dispute = fake_stripe.open_dispute(payment_intent=paid.provider_reference, amount=2500)
    assert send_event(client, "charge.dispute.created", dispute).status_code == 200
    assert _dispute_balances() == (0, 2500)

    # Closed, but the payload lies: the API still says the bank has not decided.
    claimed = {**dispute, "status": "won"}
    assert send_event(client, "charge.dispute.closed", claimed).status_code == 200
    assert _dispute_balances() == (0, 2500)

    won = fake_stripe.close_dispute(dispute["id"], status="won")
    claimed = {**won, "amount": 1}  # the payload's amount is not the one recorded
    for event_id in ("evt_dpc_1", "evt_dpc_1", "evt_dpc_2"):  # retried, then a second event
        response = send_event(client, "charge.dispute.closed", claimed, event_id=event_id)
        assert response.status_code == 200
    paid.refresh_from_db()
    assert paid.disputed_cents == 0
    assert _dispute_balances() == (2500, 0)
    assert LedgerTransaction.objects.filter(payment=paid, kind="dispute").count() == 2


def test_a_lost_dispute_stays_lost(client, paid, fake_stripe):
    dispute = fake_stripe.open_dispute(payment_intent=paid.provider_reference, amount=2500)
    assert send_event(client, "charge.dispute.created", dispute).status_code == 200
    lost = fake_stripe.close_dispute(dispute["id"], status="lost")
    claimed = {**lost, "status": "won"}  # the payload's status is not the one recorded
    assert send_event(client, "charge.dispute.closed", claimed).status_code == 200
    paid.refresh_from_db()
    assert paid.disputed_cents == 2500
    assert _dispute_balances() == (0, 2500)
    assert LedgerTransaction.objects.filter(payment=paid, kind="dispute").count() == 1


def test_a_closed_dispute_event_must_be_signed(client, paid, fake_stripe):
    from .conftest import event_payload, post_event

    dispute = fake_stripe.open_dispute(payment_intent=paid.provider_reference, amount=2500)
    send_event(client, "charge.dispute.created", dispute)
    won = fake_stripe.close_dispute(dispute["id"], status="won")
    payload = event_payload("charge.dispute.closed", won)
    assert post_event(client, payload, header="t=1,v1=00").status_code == 400
    assert post_event(client, payload, header=False).status_code == 400
    assert _dispute_balances() == (0, 2500)


def test_a_payout_is_recorded_with_the_payments_it_settles(client, paid, stripe_api, fake_stripe):
    charge = charge_of(stripe_api, paid)
    payout = stripe_api.v1.payouts.create({"amount": 2500, "currency": "eur", "status": "paid"})
    fake_stripe.settle_payout(payout.id, [charge.balance_transaction])

    assert send_event(client, "payout.paid", payout.to_dict()).status_code == 200
    assert send_event(client, "payout.paid", payout.to_dict()).status_code == 200

    recorded = ProviderPayout.objects.get(provider="stripe", provider_reference=payout.id)
    assert recorded.amount_cents == 2500
    assert recorded.fee_cents == 0
    paid.refresh_from_db()
    assert paid.payout_id == recorded.pk
    assert LedgerTransaction.objects.filter(payout=recorded).count() == 1


def test_a_payout_not_paid_is_not_recorded(client, stripe_settings, stripe_api):
    payout = stripe_api.v1.payouts.create({"amount": 1000, "currency": "eur"})
    claimed = {**payout.to_dict(), "status": "paid"}
    assert send_event(client, "payout.paid", claimed).status_code == 200
    assert not ProviderPayout.objects.exists()
