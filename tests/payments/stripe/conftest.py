"""The Stripe tests run the real SDK against localstripe (a local stateful fake of Stripe's
API, a pinned dev dependency) behind a small front server for what localstripe lacks (Terminal
readers, disputes, payout transactions): see `fake_stripe.py`. Nothing reaches the network.

If localstripe cannot start, the tests FAIL (they are never skipped): Stripe is how residents
pay, its tests must run wherever the suite runs."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from payments.providers.stripe import client

from .fake_stripe import API_KEY, FakeStripe, LocalStripe

WEBHOOK_SECRET = "whsec_test_sesame_only_for_the_suite"
PUBLISHABLE_KEY = "pk_test_sesame"
WEBHOOK_URL = "/payments/stripe/webhook/"


@pytest.fixture(scope="session")
def fake_stripe():
    backend = LocalStripe()
    try:
        backend.start()
    except (OSError, RuntimeError) as error:
        pytest.fail(f"localstripe (a dev dependency) could not start: {error}", pytrace=False)
    front = FakeStripe(backend)
    front.start()
    yield front
    front.stop()
    backend.stop()


@pytest.fixture
def stripe_settings(settings, fake_stripe):
    fake_stripe.backend.ensure_running()
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake_stripe.url
    return settings


@pytest.fixture
def stripe_api(stripe_settings) -> stripe.StripeClient:
    """The SDK client Sésame uses, pointed at the fake."""
    return client()


def event_payload(event_type: str, obj: dict, *, event_id: str | None = None) -> str:
    """A Stripe event (API version of the SDK) carrying `obj` as it stood when sent."""
    return json.dumps(
        {
            "id": event_id or f"evt_{time.time_ns()}",
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    )


def signature(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header as Stripe computes it (t=…,v1=HMAC-SHA256)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


def post_event(client, payload: str, *, header: str | None | bool = True):
    """POST a webhook body to the real view; `header=True` signs it with the suite's secret."""
    headers = {}
    if header is True:
        headers["HTTP_STRIPE_SIGNATURE"] = signature(payload)
    elif header:
        headers["HTTP_STRIPE_SIGNATURE"] = header
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)


def send_event(client, event_type: str, obj: dict, *, event_id: str | None = None):
    payload = event_payload(event_type, obj, event_id=event_id)
    return post_event(client, payload)


# --- Orders to pay -------------------------------------------------------------------------------

TICKET = "tests.stripe.pool_ticket"


@pytest.fixture
def fulfilled():
    """A fulfilment handler of the suite's own; the list holds what it did, once per line."""
    from payments.fulfilment import register_fulfilment_handler, unregister_fulfilment_handler

    calls: list[tuple[str, int]] = []
    register_fulfilment_handler(
        TICKET,
        fulfil=lambda line: calls.append(("fulfil", line.pk)),
        undo=lambda line: calls.append(("undo", line.pk)),
    )
    yield calls
    unregister_fulfilment_handler(TICKET)


@pytest.fixture
def regie(db):
    from payments.models import Regie

    return Regie.objects.create(
        code="piscines",
        name="Régie des piscines",
        collectivite="Grand Cahors",
        address_line1="72 rue Wilson",
        postcode="46000",
        city="Cahors",
        siret="20001754600019",
    )


@pytest.fixture
def make_order(regie, fulfilled):
    from payments.actions.orders import LineInput, create_order
    from tests.factories import ResidentFactory

    def make(*, cents: int = 2500, quantity: int = 1, channel: str = "web"):
        person = ResidentFactory()
        return create_order(
            buyer=person.user,
            payer=person,
            channel=channel,
            lines=[
                LineInput(
                    regie=regie,
                    label="Carnet de 10 entrées",
                    handler=TICKET,
                    unit_price_cents=cents,
                    quantity=quantity,
                )
            ],
        )

    return make


@pytest.fixture
def start(stripe_settings):
    """Start paying an order through Stripe, as the checkout page does."""
    from payments.actions.checkout import start_payment

    def begin(order, **kwargs):
        return start_payment(
            order=order, provider="stripe", return_url="https://sesame.test/retour/", **kwargs
        )

    return begin


def pay_on_stripe(api: stripe.StripeClient, intent_id: str, method: str = "pm_card_visa"):
    """What the resident's browser does with the Payment Element: attach a test card and
    confirm (localstripe confirms an intent whose method is set beforehand)."""
    api.v1.payment_intents.update(intent_id, {"payment_method": method})
    return api.v1.payment_intents.confirm(intent_id)


def stripe_event(api: stripe.StripeClient, event_type: str, object_id: str) -> dict:
    """The event localstripe itself emitted for that object (as Stripe would send it)."""
    events = api.v1.events.list({"type": event_type, "limit": 100})
    for event in events.auto_paging_iter():
        if event.data.object.id == object_id:
            return event.to_dict()
    raise AssertionError(f"localstripe emitted no {event_type} for {object_id}")


def post_stripe_event(client, event: dict):
    return post_event(client, json.dumps(event))
