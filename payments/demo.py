"""Demo data of the payments floor (`manage.py load_demo`, idempotent): the territory's régies
(completing those the catalogue's demo may have created first),
Camille's paid top-ups (hers and Léa's, through the demo provider), a cash top-up of Tom's
wallet at the régie's desk, a pool entry paid from her wallet, and the day's demo payout."""

from datetime import datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from identity.demo import RESIDENT_EMAIL
from identity.models import Person, User

from .actions.checkout import start_payment
from .actions.desk import record_desk_payment
from .actions.inputs import account_key
from .actions.provider_events import record_payment_succeeded, record_provider_payout
from .actions.wallets import create_topup_order, spend_from_wallet
from .models import Order, Payment, Refund, Regie

REGIES = [
    ("porte-monnaie", "Régie du porte-monnaie Sésame", True),
    ("piscines", "Régie des piscines du Grand Cahors", False),
    ("mediatheque", "Régie de la médiathèque du Grand Cahors", False),
    ("cantine", "Régie de la restauration scolaire", False),
]
COMMON = {
    "collectivite": "Communauté d'agglomération du Grand Cahors",
    "address_line1": "72 rue Wilson",
    "postcode": "46000",
    "city": "Cahors",
    "siret": "20002373700017",
    "email": "regie@demo.sesame.fr",
    "regisseur_name": "Sophie Delmas",
}
FIRST_TOP_UP = "demo-top-up-camille"


def _regies() -> dict[str, Regie]:
    """The demo régies, completed where the catalogue's demo created them first."""
    regies = {}
    for code, name, holds_wallets in REGIES:
        regie, created = Regie.objects.get_or_create(
            code=code, defaults={"name": name, "holds_wallets": holds_wallets, **COMMON}
        )
        if not created and (not regie.regisseur_name or regie.holds_wallets != holds_wallets):
            regie.regisseur_name = COMMON["regisseur_name"]
            regie.email = regie.email or COMMON["email"]
            regie.holds_wallets = holds_wallets
            regie.save(update_fields=["regisseur_name", "email", "holds_wallets"])
        regies[code] = regie
    return regies


def load() -> list[Regie]:
    regies = _regies()
    parent_user = User.objects.filter(email=RESIDENT_EMAIL).first()
    if parent_user is None:
        return list(regies.values())
    first_top_up = account_key(FIRST_TOP_UP, account=parent_user, use="order")
    if Order.objects.filter(idempotency_key=first_top_up).exists():
        return list(regies.values())
    camille = parent_user.person
    children = {p.first_name: p for p in Person.objects.filter(guardians__guardian=camille)}

    def paid_top_up(person, cents, key=None):
        order = create_topup_order(
            actor=parent_user, person=person, amount_cents=cents, idempotency_key=key
        )
        payment, _start = start_payment(order=order, provider="demo", return_url="/")
        record_payment_succeeded(
            provider="demo",
            provider_reference=payment.provider_reference,
            amount_cents=cents,
            currency="EUR",
            event_id=f"demo_evt_{payment.public_id}_succeeded",
        )

    paid_top_up(camille, 3000, FIRST_TOP_UP)
    if "Léa" in children:
        paid_top_up(children["Léa"], 1500)
    spend_from_wallet(
        person_id=camille.pk,
        amount_cents=350,
        regie=regies["piscines"],
        reference="Piscine de Cahors — entrée",
        idempotency_key="demo-first-pool-entry",
    )
    officer = User.objects.filter(staff_roles__role="finance_officer").first()
    if "Tom" in children and officer is not None:
        order = create_topup_order(
            actor=None, person=children["Tom"], amount_cents=1000, channel="desk"
        )
        record_desk_payment(
            actor=officer,
            order=order,
            method=Payment.Method.CASH,
            amount_cents=1000,
            idempotency_key="demo-desk-top-up-tom",
        )
    produce_daily_payout(timezone.localdate())
    return list(regies.values())


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
