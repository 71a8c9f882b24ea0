"""The built-in demo provider: used when no Stripe key is configured, so `make run` shows the
whole flow offline. Its page (clearly labelled "Démo — aucun paiement réel") lets the resident
succeed, decline or abandon; the page then calls the same `record_payment_*` actions a
provider's webhook would. No money ever moves; the demo's daily payout, for the
reconciliation, is `payments.demo.produce_daily_payout`."""

from django.urls import reverse

from .base import Provider, ProviderStart


class DemoProvider(Provider):
    code = "demo"
    label = "Démo — aucun paiement réel"
    is_demo = True

    def start(self, *, payment, return_url: str) -> ProviderStart:
        reference = f"demo_{payment.public_id}"
        return ProviderStart(
            provider_reference=reference,
            kind="redirect",
            redirect_url=reverse("payments:demo_checkout", args=[payment.public_id]),
        )

    def refund(self, *, refund) -> str:
        return f"demo_re_{refund.public_id}"

    def collect_on_terminal(self, *, payment, terminal_id: str) -> ProviderStart:
        """A simulated kiosk reader: the kiosk then confirms through the demo page's actions."""
        return ProviderStart(
            provider_reference=f"demo_{payment.public_id}",
            kind="terminal",
            terminal_action={"terminal_id": terminal_id, "simulated": True},
        )

    def cancel_terminal(self, *, terminal_id: str) -> None:
        """The simulated reader has nothing to stop: the kiosk records the abandon itself."""

    def terminal_status(self, *, terminal_id: str) -> dict:
        return {"reader": terminal_id, "online": True, "action": None, "simulated": True}
