"""A kiosk's card reader (Stripe Terminal, server-driven): the reader is faked at the HTTP level
(localstripe has no Terminal), the PaymentIntent it collects lives in localstripe."""

import pytest

from payments.models import Order, Payment
from payments.providers import ProviderError, get_provider

from .conftest import send_event

pytestmark = pytest.mark.django_db


def reader_event(stripe_api, reader_id: str, outcome: str):
    return stripe_api.v1.terminal.readers.retrieve(reader_id).to_dict(), (
        f"terminal.reader.action_{outcome}"
    )


def test_a_reader_collects_the_payment(
    client,
    make_order,
    start,
    stripe_api,
    fake_stripe,
    fulfilled,
    django_capture_on_commit_callbacks,
):
    reader = fake_stripe.add_reader()
    order = make_order(cents=1200, channel="kiosk")

    payment, started = start(order, terminal_id=reader)

    assert started.kind == "terminal"
    assert started.terminal_action == {
        "reader": reader,
        "status": "in_progress",
        "payment_intent": started.provider_reference,
    }
    payment.refresh_from_db()
    assert payment.provider_reference == started.provider_reference
    assert payment.status == Payment.Status.PENDING
    created = [
        r
        for r in fake_stripe.seen("POST", "/v1/payment_intents")
        if r.path == "/v1/payment_intents"
    ][-1]
    assert created.params["payment_method_types"] == ["card_present"]
    assert created.idempotency_key == f"{payment.idempotency_key}:terminal"
    processed = fake_stripe.seen("POST", f"/v1/terminal/readers/{reader}/process_payment_intent")
    assert processed[-1].params == {"payment_intent": payment.provider_reference}
    assert processed[-1].idempotency_key

    # The resident taps their card on the reader.
    stripe_api.v1.test_helpers.terminal.readers.present_payment_method(reader)
    obj, kind = reader_event(stripe_api, reader, "succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        assert send_event(client, kind, obj).status_code == 200
        # Stripe also sends payment_intent.succeeded: the same fact, credited once.
        intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference).to_dict()
        assert send_event(client, "payment_intent.succeeded", intent).status_code == 200

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert payment.transactions.filter(kind="payment").count() == 1
    assert len(fulfilled) == 1


def test_a_declined_card_on_the_reader_fails_the_payment(
    client, make_order, start, stripe_api, fake_stripe
):
    reader = fake_stripe.add_reader()
    payment, _ = start(make_order(channel="kiosk"), terminal_id=reader)

    stripe_api.v1.test_helpers.terminal.readers.present_payment_method(
        reader, {"card_present": {"number": "4000000000000341"}}
    )
    obj, kind = reader_event(stripe_api, reader, "failed")
    assert obj["action"]["status"] == "failed"

    assert send_event(client, kind, obj).status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED


def test_the_kiosk_cancels_the_reader(make_order, start, stripe_api, fake_stripe):
    reader = fake_stripe.add_reader()
    payment, _ = start(make_order(channel="kiosk"), terminal_id=reader)

    get_provider("stripe").cancel_terminal(terminal_id=reader)

    assert stripe_api.v1.terminal.readers.retrieve(reader).action is None
    assert fake_stripe.seen("POST", f"/v1/terminal/readers/{reader}/cancel_action")
    assert get_provider("stripe").terminal_status(terminal_id=reader) == {
        "reader": reader,
        "online": True,
        "action": None,
    }
    # Trying again on the same payment hands the same intent to the reader.
    again, restarted = start(payment.order, terminal_id=reader)
    assert again.pk == payment.pk
    assert restarted.provider_reference == payment.provider_reference


def test_an_offline_or_unknown_reader_is_a_provider_error(make_order, start, fake_stripe):
    reader = fake_stripe.add_reader()
    fake_stripe.set_reader_offline(reader)
    with pytest.raises(ProviderError):
        start(make_order(channel="kiosk"), terminal_id=reader)
    with pytest.raises(ProviderError) as error:
        start(make_order(channel="kiosk"), terminal_id="tmr_unknown")
    assert not error.value.retryable
