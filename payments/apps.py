from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from .fulfilment import register_builtin_handlers

        register_builtin_handlers()
        checks.register(demo_provider_in_production, checks.Tags.compatibility)


def demo_provider_in_production(app_configs, **kwargs):
    """Without Stripe keys, payments go through the demo provider: fine for `make run`, a
    mistake in production (no money would ever be collected)."""
    from django.conf import settings

    from .providers import stripe_configured

    if settings.DEBUG or stripe_configured():
        return []
    return [
        checks.Warning(
            "No STRIPE_SECRET_KEY: payments use the demo provider, no money is collected.",
            hint="Set the Stripe keys (README, Payments) before opening payments to residents.",
            id="payments.W001",
        )
    ]
