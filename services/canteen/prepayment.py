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
from payments.ledger import format_cents
from payments.queries import wallet_balance
from services.catalog.actions import regie_of
from services.catalog.tariffs import quote

from .models import Booking, PrepaidMeal, Service


def charge(*, actor: User, child: Person, service: Service, days: list[date], key: str) -> int:
    """Pay `days` (just booked) of `child` at `service` from the actor's wallet; the total in
    cents. Raises DomainError (code "insufficient_balance", field "days") when the wallet is
    short: the caller's transaction, and so the booking, rolls back."""
    if service.product is None:
        raise DomainError(
            _("%(service)s has no price: ask the town hall.") % {"service": service},
            code="no_tariff",
        )
    payer = person_of(actor)
    if payer is None:
        raise Forbidden(_("Only a resident pays from their wallet."))
    regie = regie_of(service.product)
    bookings = {
        b.day: b for b in Booking.objects.filter(child=child, service=service, day__in=days)
    }
    priced = [(day, quote(product=service.product, person=child, on=day)) for day in days]
    total = sum(price.price_cents for _day, price in priced)
    if total <= 0:
        return 0
    spending_key = f"canteen-prepay:{actor.pk}:{service.public_id}:{key}"[:100]
    try:
        spend_from_wallet(
            person_id=payer.pk,
            amount_cents=total,
            regie=regie,
            reference=f"{service.product.name} — {child.first_name}",
            idempotency_key=spending_key,
        )
    except InsufficientFunds as error:
        raise DomainError(
            _("Your wallet holds %(balance)s; these days cost %(total)s. Top it up, then book.")
            % {"balance": format_cents(wallet_balance(payer.pk)), "total": format_cents(total)},
            field="days",
            code="insufficient_balance",
        ) from error
    PrepaidMeal.objects.bulk_create(
        PrepaidMeal(
            booking=bookings[day],
            payer=payer,
            regie=regie,
            amount_cents=price.price_cents,
            explanation=price.explanation[:200],
            spending=spending_key,
        )
        for day, price in priced
        if price.price_cents > 0
    )
    return total


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
