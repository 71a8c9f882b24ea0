"""The resident's side: the checkout page mounts the Payment Element, and the
Content-Security-Policy lets Stripe.js in only when Stripe is configured."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from payments.models import Payment
from payments.providers import ProviderStart

pytestmark = pytest.mark.django_db


def test_the_checkout_page_mounts_the_payment_element(
    client, make_order, stripe_api, stripe_settings
):
    order = make_order(cents=1800)
    client.force_login(order.buyer)
    url = f"/mon-espace/paiements/commande/{order.public_id}/"

    response = client.post(url, {"attempt": 0})

    assert response.status_code == 200
    payment = Payment.objects.get(order=order)
    assert payment.provider == "stripe"
    intent = stripe_api.v1.payment_intents.retrieve(payment.provider_reference)
    assert intent.amount == 1800
    html = response.content.decode()
    assert f'data-client-secret="{intent.client_secret}"' in html
    assert 'data-publishable-key="pk_test_sesame"' in html
    assert (
        f'data-return-url="http://testserver/mon-espace/paiements/paiement/{payment.public_id}/"'
        in html
    )
    assert "sk_test" not in html  # the secret key never reaches a page

    # A double click (the same form, the same attempt) mounts the same intent again.
    again = client.post(url, {"attempt": 0})
    assert f'data-client-secret="{intent.client_secret}"' in again.content.decode()
    assert Payment.objects.filter(order=order).count() == 1


def test_the_include_has_no_inline_script():
    html = render_to_string(
        "payments/stripe_payment_element.html",
        {
            "start": ProviderStart(
                provider_reference="pi_1",
                kind="client_secret",
                client_secret="pi_1_secret_2",
                publishable_key="pk_test_1",
            ),
            "return_url": "https://sesame.test/retour/",
            "amount": "18,00 €",
        },
    )
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts
    assert all(body.strip() == "" for body in scripts)
    assert 'src="https://js.stripe.com/v3/"' in html
    assert "payments/stripe-payment-element.js" in html
    assert '<button type="submit" class="button primary" disabled>' in html


def _settings_in_a_fresh_process(**env) -> subprocess.CompletedProcess:
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
    )
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEBUG": "",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_PUBLISHABLE_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "STRIPE_API_BASE": "",
        **env,
    }
    return subprocess.run(  # noqa: S603 (our interpreter, fixed code)
        [sys.executable, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


def test_stripe_is_not_in_the_csp_unless_configured():
    import json

    bare = json.loads(_settings_in_a_fresh_process().stdout)
    assert "stripe" not in json.dumps(bare)
    assert "frame-src" not in bare

    configured = json.loads(_settings_in_a_fresh_process(STRIPE_PUBLISHABLE_KEY="pk_test_x").stdout)
    assert "https://js.stripe.com" in configured["script-src"]
    assert "'unsafe-inline'" not in configured["script-src"]
    assert "https://js.stripe.com" in configured["frame-src"]
    assert "https://hooks.stripe.com" in configured["frame-src"]
    assert "https://api.stripe.com" in configured["connect-src"]


def test_the_api_base_can_only_be_stripe_or_a_loopback_fake():
    refused = _settings_in_a_fresh_process(STRIPE_API_BASE="https://evil.example.com")
    assert refused.returncode != 0
    assert "STRIPE_API_BASE" in refused.stderr
    assert _settings_in_a_fresh_process(STRIPE_API_BASE="http://127.0.0.1:8420").returncode == 0


def test_a_secret_key_alone_is_refused_in_production():
    alone = _settings_in_a_fresh_process(
        STRIPE_SECRET_KEY="sk_live_x", STRIPE_PUBLISHABLE_KEY="", STRIPE_WEBHOOK_SECRET=""
    )
    assert alone.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET" in alone.stderr
    complete = _settings_in_a_fresh_process(
        STRIPE_SECRET_KEY="sk_live_x",
        STRIPE_PUBLISHABLE_KEY="pk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    assert complete.returncode == 0, complete.stderr


def test_the_documentation_lists_every_event_the_webhook_handles():
    from payments.stripe_webhooks import SUBSCRIBED_EVENTS

    text = (settings.BASE_DIR / "docs" / "payments-stripe.md").read_text()
    dashboard = text.split("### Setting it up in the Stripe dashboard")[1].split("##")[0]
    assert [event for event in SUBSCRIBED_EVENTS if f"`{event}`" not in dashboard] == []
