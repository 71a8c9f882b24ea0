"""The built-in demo provider: used when no Stripe key is configured, so `make run` shows the
whole flow offline. Its page (clearly labelled "Démo — aucun paiement réel") lets the resident
succeed, decline or abandon; the page then calls the same `record_payment_*` actions a
provider's webhook would. No money ever moves."""

from datetime import datetime, time, timedelta

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from payments.actions.provider_events import record_provider_payout
from payments.models import Payment, Refund

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


def produce_daily_payout(day):
    """What a real provider does each day, for the demo: pay the day's card payments, minus
    their refunds, into the bank as one payout (idempotent per day)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    settled = Payment.objects.filter(
        provider="demo",
        status=Payment.Status.SUCCEEDED,
        succeeded_at__gte=start,
        succeeded_at__lt=start + timedelta(days=1),
        payout__isnull=True,
    )
    references = list(settled.values_list("provider_reference", flat=True))
    paid = settled.aggregate(total=Sum("amount_cents"))["total"] or 0
    refunded = (
        Refund.objects.filter(payment__in=settled, status=Refund.Status.SUCCEEDED).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )
    if paid - refunded <= 0:
        return None
    return record_provider_payout(
        provider="demo",
        payout_reference=f"demo_po_{day.isoformat()}",
        amount_cents=paid - refunded,
        arrival_date=day,
        payment_references=references,
    )
