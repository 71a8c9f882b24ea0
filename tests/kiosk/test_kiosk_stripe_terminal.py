"""A kiosk top-up collected by Stripe Terminal (server-driven) on the kiosk's configured card
reader: the SDK against localstripe and the fake reader of tests/payments/stripe, the outcome
through signed webhooks, credited once."""

import pytest

from kiosk.models import KioskSession, KioskSettings
from payments.models import Order, Payment
from payments.queries import wallet_balance
from tests.kiosk.test_kiosk_payments import Kiosk
from tests.payments.stripe.conftest import send_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def stripe_kiosk(stripe_settings, fake_stripe):
    kiosk = Kiosk()
    terminal = fake_stripe.add_reader()
    KioskSettings.objects.create(reader=kiosk.reader, payment_terminal_id=terminal)
    return kiosk, terminal


def test_a_top_up_collected_on_the_kiosks_stripe_reader(
    stripe_kiosk,
    stripe_api,
    fake_stripe,
    client,
    django_capture_on_commit_callbacks,
):
    kiosk, terminal = stripe_kiosk
    tap = kiosk.tap()
    page = kiosk.press(tap, "pay_topup", amount=2000)
    kiosk.press(tap, "pay_topup", amount=2000)  # a double press
    assert "data-kiosk-paying" in page
    assert "data-kiosk-demo" not in page  # a real terminal: no demo buttons
    session = KioskSession.objects.get(reader=kiosk.reader)
    payment = session.payment
    assert (payment.provider, payment.status) == ("stripe", Payment.Status.PENDING)
    assert session.terminal_id == terminal
    assert (
        len(fake_stripe.seen("POST", f"/v1/terminal/readers/{terminal}/process_payment_intent"))
        == 1
    )

    # The resident presents their card; Stripe sends its signed webhooks.
    stripe_api.v1.test_helpers.terminal.readers.present_payment_method(terminal)
    reader_obj = stripe_api.v1.terminal.readers.retrieve(terminal).to_dict()
    intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference).to_dict()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_event(client, "terminal.reader.action_succeeded", reader_obj).status_code == 200
        assert send_event(client, "payment_intent.succeeded", intent).status_code == 200
        assert send_event(client, "payment_intent.succeeded", intent).status_code == 200

    page = kiosk.poll()
    assert "Payment accepted" in page
    assert wallet_balance(kiosk.holder.pk) == 2000
    assert Order.objects.get().status == Order.Status.PAID
    assert Payment.objects.count() == 1


def test_cancel_stops_the_stripe_reader(stripe_kiosk, fake_stripe):
    kiosk, terminal = stripe_kiosk
    tap = kiosk.tap()
    kiosk.press(tap, "pay_topup", amount=1000)
    page = kiosk.press(tap, "cancel")
    assert "cancelled" in page
    assert fake_stripe.seen("POST", f"/v1/terminal/readers/{terminal}/cancel_action")
    assert Order.objects.get().status == Order.Status.CANCELLED
    assert wallet_balance(kiosk.holder.pk) == 0
