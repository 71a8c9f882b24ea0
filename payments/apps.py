from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _

from .fulfilment import register_builtin_handlers
from .providers import stripe_configured


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        from identity.actions.members import register_removal_check

        from .queries import wallet_blocks_removal

        register_builtin_handlers()
        register_removal_check("payments.wallet", wallet_blocks_removal)
        checks.register(demo_provider_in_production, checks.Tags.compatibility)
        # The tasks queue what the actions announce (payments.signals); importing them connects
        # their receivers. Here and not at the top: they import the actions, hence the models.
        from . import tasks  # noqa: F401


def demo_provider_in_production(app_configs, **kwargs):
    """Without Stripe keys, payments go through the demo provider: fine for `make run`, a
    mistake in production (no money would ever be collected)."""
    if settings.DEBUG or stripe_configured():
        return []
    return [
        checks.Warning(
            "No STRIPE_SECRET_KEY: payments use the demo provider, no money is collected.",
            hint="Set the Stripe keys (README, Payments) before opening payments to residents.",
            id="payments.W001",
        )
    ]
