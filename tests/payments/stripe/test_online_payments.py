"""Paying an order online through Stripe: the real SDK against localstripe, the real webhook view
with signed events, the payments core's actions behind it."""

import json

import pytest
import stripe

from payments.models import (
    LedgerEntry,
    LedgerTransaction,
    Order,
    Payment,
    ProviderEvent,
)
from payments.providers import ProviderError

from .conftest import (
    PUBLISHABLE_KEY,
    WEBHOOK_SECRET,
    event_payload,
    pay_on_stripe,
    post_event,
    post_stripe_event,
    send_event,
    signature,
    stripe_event,
)

pytestmark = pytest.mark.django_db


def credits_of(payment: Payment) -> int:
    return LedgerTransaction.objects.filter(payment=payment, kind="payment").count()


def test_full_flow_order_paid_ledger_credited_fulfilled_once(
    client,
    make_order,
    start,
    stripe_api,
    fake_stripe,
    fulfilled,
    django_capture_on_commit_callbacks,
):
    order = make_order(cents=2500)
    payment, started = start(order)

    assert started.kind == "client_secret"
    assert started.publishable_key == PUBLISHABLE_KEY
    assert started.client_secret.startswith(f"{started.provider_reference}_secret_")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.provider_reference == started.provider_reference
    created = fake_stripe.seen("POST", "/v1/payment_intents")[-1]
    assert created.idempotency_key == payment.idempotency_key
    assert created.params["amount"] == "2500"
    assert created.params["currency"] == "eur"
    assert created.params["metadata"] == {
        "order": order.public_id,
        "payment": payment.public_id,
    }

    assert pay_on_stripe(stripe_api, payment.provider_reference).status == "succeeded"
    event = stripe_event(stripe_api, "payment_intent.succeeded", payment.provider_reference)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_stripe_event(client, event)

    assert response.status_code == 200
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert order.status == Order.Status.PAID
    assert credits_of(payment) == 1
    entries = LedgerEntry.objects.filter(transaction__payment=payment)
    assert sorted(e.amount_cents for e in entries) == [-2500, 2500]
    assert {e.account.kind for e in entries} == {"clearing", "revenue"}
    assert fulfilled == [("fulfil", order.lines.get().pk)]
    assert ProviderEvent.objects.filter(provider="stripe", event_id=event["id"]).exists()
    assert payment.documents.filter(kind="receipt").count() == 1


def test_a_replayed_event_credits_nothing_more(
    client, make_order, start, stripe_api, fulfilled, django_capture_on_commit_callbacks
):
    order = make_order()
    payment, _ = start(order)
    pay_on_stripe(stripe_api, payment.provider_reference)
    event = stripe_event(stripe_api, "payment_intent.succeeded", payment.provider_reference)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_stripe_event(client, event).status_code == 200
        assert post_stripe_event(client, event).status_code == 200
        assert post_stripe_event(client, event).status_code == 200

    assert credits_of(payment) == 1
    assert len(fulfilled) == 1
    assert ProviderEvent.objects.filter(event_id=event["id"]).count() == 1


def test_out_of_order_events_credit_once(
    client, make_order, start, stripe_api, fulfilled, django_capture_on_commit_callbacks
):
    order = make_order()
    payment, _ = start(order)
    intent = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    with django_capture_on_commit_callbacks(execute=True):
        # Two different events saying it succeeded (Stripe may send a fact twice) …
        assert send_event(client, "payment_intent.succeeded", intent).status_code == 200
        assert send_event(client, "payment_intent.succeeded", intent).status_code == 200
        # … and a failure arriving late, its payload as it stood before the success.
        stale = {**intent, "status": "requires_payment_method", "latest_charge": None}
        assert send_event(client, "payment_intent.payment_failed", stale).status_code == 200

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert credits_of(payment) == 1
    assert len(fulfilled) == 1


def test_a_failure_before_the_success_does_not_prevent_crediting(
    client, make_order, start, stripe_api, django_capture_on_commit_callbacks
):
    order = make_order()
    payment, _ = start(order)
    intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference).to_dict()
    failed = {**intent, "last_payment_error": {"code": "card_declined"}}
    # The lookup finds the intent still waiting for a card, with no error: nothing recorded.
    assert send_event(client, "payment_intent.payment_failed", failed).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING

    paid = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    with django_capture_on_commit_callbacks(execute=True):
        send_event(client, "payment_intent.succeeded", paid)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_the_payload_is_not_trusted_the_intent_is_looked_up(client, make_order, start, stripe_api):
    """A validly signed event claiming success for an intent that is not paid: nothing."""
    order = make_order()
    payment, _ = start(order)
    intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference).to_dict()
    claimed = {**intent, "status": "succeeded", "amount_received": payment.amount_cents}

    assert send_event(client, "payment_intent.succeeded", claimed).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert credits_of(payment) == 0
    assert not ProviderEvent.objects.exists()


def test_an_amount_that_does_not_match_is_refused(
    client, make_order, start, stripe_api, fake_stripe, caplog
):
    order = make_order(cents=2500)
    payment, _ = start(order)
    # The intent is changed on Stripe's side to 1 € before being paid; the event's payload
    # still shows the order's amount.
    fake_stripe.backend_request(
        "POST", f"/v1/payment_intents/{payment.provider_reference}", {"amount": 100}
    )
    paid = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    forged = {**paid, "amount": 2500, "amount_received": 2500}

    response = send_event(client, "payment_intent.succeeded", forged)

    assert response.status_code == 200  # Stripe would retry forever: logged as an error instead
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert order.status == Order.Status.PENDING
    assert credits_of(payment) == 0
    assert not ProviderEvent.objects.exists()
    assert any(
        r.levelname == "ERROR" and "amount_mismatch" in r.getMessage() for r in caplog.records
    )


def test_an_unknown_payment_is_logged_answered_200_and_credits_nothing(
    client, stripe_settings, stripe_api, caplog
):
    foreign = stripe_api.v1.payment_intents.create(
        {
            "amount": 4200,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"note": "Jeanne Dupont, 12 rue des Lilas"},
        }
    )
    event = stripe_event(stripe_api, "payment_intent.succeeded", foreign.id)

    response = post_stripe_event(client, event)

    assert response.status_code == 200
    assert not LedgerTransaction.objects.exists()
    assert not ProviderEvent.objects.exists()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert foreign.id in logged
    assert "Dupont" not in logged
    assert "Lilas" not in logged


def test_a_declined_card_fails_the_payment(client, make_order, start, stripe_api):
    order = make_order()
    payment, _ = start(order)
    with pytest.raises(stripe.CardError):
        pay_on_stripe(stripe_api, payment.provider_reference, "pm_card_chargeCustomerFail")
    event = stripe_event(stripe_api, "payment_intent.payment_failed", payment.provider_reference)

    assert post_stripe_event(client, event).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_reason == "card_declined"
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_a_canceled_intent_abandons_the_payment(client, make_order, start, stripe_api):
    order = make_order()
    payment, _ = start(order)
    canceled = stripe_api.v1.payment_intents.cancel(payment.provider_reference).to_dict()

    assert send_event(client, "payment_intent.canceled", canceled).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED


def test_a_retried_start_finds_the_same_intent(make_order, start, fake_stripe):
    order = make_order()
    first, started = start(order, idempotency_key="checkout-click-1")
    again, restarted = start(order, idempotency_key="checkout-click-1")
    assert again.pk == first.pk
    assert restarted.provider_reference == started.provider_reference
    assert restarted.client_secret == started.client_secret
    creations = [
        r
        for r in fake_stripe.seen("POST", "/v1/payment_intents")
        if r.path == "/v1/payment_intents" and r.idempotency_key == first.idempotency_key
    ]
    assert len(creations) == 1  # the second start looked the intent up instead


def test_stripe_unreachable_is_a_provider_error(make_order, start, stripe_settings):
    from tests.payments.stripe.fake_stripe import free_port

    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    order = make_order()
    with pytest.raises(ProviderError) as error:
        start(order)
    assert error.value.retryable


# --- The webhook's door ---------------------------------------------------------------------


def test_a_bad_or_missing_signature_is_400_and_writes_nothing(
    client, make_order, start, stripe_api
):
    order = make_order()
    payment, _ = start(order)
    paid = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    payload = event_payload("payment_intent.succeeded", paid)

    assert post_event(client, payload, header=None).status_code == 400
    assert post_event(client, payload, header="t=1,v1=deadbeef").status_code == 400
    assert post_event(client, payload, header="garbage").status_code == 400
    wrong_secret = signature(payload, secret="whsec_someone_else")
    assert post_event(client, payload, header=wrong_secret).status_code == 400
    tampered = payload.replace('"amount": 2500', '"amount": 2501')
    assert post_event(client, tampered, header=signature(payload)).status_code == 400
    too_old = signature(payload, timestamp=1_000_000_000)
    assert post_event(client, payload, header=too_old).status_code == 400

    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert not ProviderEvent.objects.exists()
    assert not LedgerTransaction.objects.exists()


def test_without_a_webhook_secret_the_endpoint_is_404(client, stripe_settings):
    stripe_settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event_payload("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    response = post_event(client, payload, header=signature(payload, secret=WEBHOOK_SECRET))
    assert response.status_code == 404


def test_the_webhook_is_post_only_and_csrf_exempt(stripe_settings):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/payments/stripe/webhook/").status_code == 405
    payload = event_payload("customer.created", {"id": "cus_x", "object": "customer"})
    response = strict.post(
        "/payments/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(payload),
    )
    assert response.status_code == 200  # an event it does not handle: acknowledged


def test_stripe_down_during_the_lookup_answers_503_so_stripe_retries(
    client, make_order, start, stripe_api, stripe_settings
):
    from tests.payments.stripe.fake_stripe import free_port

    order = make_order()
    payment, _ = start(order)
    paid = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    assert send_event(client, "payment_intent.succeeded", paid).status_code == 503
    assert not ProviderEvent.objects.exists()


def test_the_signed_body_is_the_raw_body(client, make_order, start, stripe_api):
    """Verification runs on the bytes received: a re-serialised body would not match."""
    order = make_order()
    payment, _ = start(order)
    paid = pay_on_stripe(stripe_api, payment.provider_reference).to_dict()
    payload = event_payload("payment_intent.succeeded", paid)
    reserialised = json.dumps(json.loads(payload), indent=2)
    assert post_event(client, reserialised, header=signature(payload)).status_code == 400


def test_starting_again_once_paid_mounts_nothing(make_order, start, stripe_api):
    """Paid in another tab, its webhook not arrived yet: the page shows the result instead."""
    from payments.providers.stripe import StripeProvider

    order = make_order()
    payment, _ = start(order)
    pay_on_stripe(stripe_api, payment.provider_reference)
    payment.refresh_from_db()

    again = StripeProvider().start(payment=payment, return_url="https://sesame.test/retour/")

    assert again.kind == "none"
    assert again.provider_reference == payment.provider_reference
    canceled, _ = start(make_order())
    stripe_api.v1.payment_intents.cancel(canceled.provider_reference)
    canceled.refresh_from_db()
    with pytest.raises(ProviderError):
        StripeProvider().start(payment=canceled, return_url="https://sesame.test/retour/")
