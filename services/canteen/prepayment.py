"""Prepayment, where the town chooses it for a service (`Service.prepaid`): the days a guardian
books are paid at once from their own wallet (one spending per request and régie, each day
priced by the tariff engine on its day and kept as a `PrepaidMeal`), in the booking's
transaction: an empty or short wallet refuses the whole booking, nothing written. A day
cancelled before its deadline, or an absence a clerk accepts, is refunded to the same wallet.
The monthly bill leaves prepaid days out (a meal served without booking is still billed).

The wallet's row lock (taken by `payments.ledger.post`) makes two bookings at once never spend
the same euros."""

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from identity.errors import DomainError, Forbidden
from identity.models import Person, User
from identity.permissions import person_of
from payments.actions.wallets import refund_wallet_spending, spend_from_wallet
from payments.errors import InsufficientFunds
from payments.money import format_cents
from payments.queries import wallet_balance
from services.catalog.actions import regie_of
from services.catalog.tariffs import quote

from .models import Booking, PrepaidMeal, Service
from .pricing import meal_product


def charge(*, actor: User, child: Person, service: Service, days: list[date], key: str) -> int:
    """Pay `days` (just booked) of `child` at `service` from the actor's wallet; the total in
    cents. Each day is priced by its product (a PAI child's packed-meal lunch at its own price,
    `pricing.meal_product`), one spending per régie. Raises DomainError (code
    "insufficient_balance", field "days") when the wallet is short: the caller's transaction,
    and so the booking, rolls back."""
    payer = person_of(actor)
    if payer is None:
        raise Forbidden(_("Only a resident pays from their wallet."))
    bookings = {
        b.day: b for b in Booking.objects.filter(child=child, service=service, day__in=days)
    }
    by_regie: dict[int, list] = {}
    regies = {}
    for day in days:
        product = meal_product(
            service, without_booking=False, packed_meal=bookings[day].packed_meal
        )
        regie = regies.setdefault(product.pk, regie_of(product))
        price = quote(product=product, person=child, on=day)
        if price.price_cents > 0:
            by_regie.setdefault(regie.pk, []).append((day, product, price))
    total = sum(price.price_cents for priced in by_regie.values() for *_rest, price in priced)
    base_key = f"canteen-prepay:{actor.pk}:{service.public_id}:{key}"
    for n, (regie_pk, priced) in enumerate(sorted(by_regie.items())):
        regie = next(r for r in regies.values() if r.pk == regie_pk)
        # The first régie keeps the plain key: the usual case, one régie for the canteen.
        spending_key = (base_key if n == 0 else f"{base_key}:{regie_pk}")[:100]
        amount = sum(price.price_cents for _day, _product, price in priced)
        _spend(payer, regie, amount, priced[0][1], child, spending_key, total_asked=total)
        PrepaidMeal.objects.bulk_create(
            PrepaidMeal(
                booking=bookings[day],
                payer=payer,
                regie=regie,
                amount_cents=price.price_cents,
                explanation=price.explanation[:200],
                spending=spending_key,
            )
            for day, _product, price in priced
        )
    return total


def _spend(payer, regie, amount, product, child, spending_key, *, total_asked) -> None:
    try:
        spend_from_wallet(
            person_id=payer.pk,
            amount_cents=amount,
            regie=regie,
            reference=f"{product.name} — {child.first_name}",
            idempotency_key=spending_key,
        )
    except InsufficientFunds as error:
        raise DomainError(
            _("Your wallet holds %(balance)s; these days cost %(total)s. Top it up, then book.")
            % {
                "balance": format_cents(wallet_balance(payer.pk)),
                "total": format_cents(total_asked),
            },
            field="days",
            code="insufficient_balance",
        ) from error


def refund(bookings: list[Booking]) -> int:
    """Refund to their wallets the prepaid days of `bookings` (cancelled before the deadline,
    or justified); the total in cents. Each prepaid day is refunded once."""
    meals = list(
        PrepaidMeal.objects.select_for_update()
        .filter(booking__in=bookings, refunded_at__isnull=True)
        .order_by("pk")
    )
    now = timezone.now()
    for meal in meals:
        refund_wallet_spending(
            spending_key=meal.spending,
            amount_cents=meal.amount_cents,
            refund_key=f"canteen-prepay-refund:{meal.pk}",
        )
    PrepaidMeal.objects.filter(pk__in=[meal.pk for meal in meals]).update(refunded_at=now)
    return sum(meal.amount_cents for meal in meals)
