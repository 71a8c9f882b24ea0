"""The Stripe fixtures (localstripe and the fake Terminal reader), for the kiosk's Stripe
Terminal tests."""

from tests.payments.stripe.conftest import fake_stripe, stripe_api, stripe_settings

__all__ = ["fake_stripe", "stripe_api", "stripe_settings"]
