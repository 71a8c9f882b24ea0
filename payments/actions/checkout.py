"""Starting a payment of an order through a provider (online, or a kiosk's card terminal)."""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from identity.errors import Conflict
from identity.models import User
from payments.models import Order, Payment
from payments.money import format_cents
from payments.providers import ProviderStart, get_provider, online_provider

from .inputs import check_key, new_idempotency_key

logger = logging.getLogger(__name__)

PAYMENT_PLACEHOLDER = "__payment__"  # in a return_url: replaced by the payment's public id
MAX_ATTEMPT = 10_000  # attempts at paying one order: far more than anyone makes


def checkout_key(*, payer: User, order: Order, attempt: int) -> str:
    """The idempotency key of a payment attempt started from the basket's page: made here, from
    the account paying, the order and the attempt's number the page was drawn with (a double
    click sends the same number: one payment; after a refusal the page is drawn with the
    next). Never chosen by the page: another account can neither take nor replay it."""
    return f"web:{payer.pk}:{order.public_id}:{attempt}"


def close_basket(order: Order, *, expected_total_cents: int | None) -> None:
    """The first payment attempt of a basket (`order`, locked) closes it: its lines no longer
    change, later purchases open a new basket. `expected_total_cents`, the total the resident
    saw, refuses when the basket changed meanwhile (another tab; code `basket_changed`)."""
    if not order.basket:
        return
    if expected_total_cents is not None and expected_total_cents != order.total_cents:
        raise Conflict(
            _("Your basket changed: its total is now %(total)s. Check it, then pay.")
            % {"total": format_cents(order.total_cents)},
            code="basket_changed",
        )
    order.basket = False
    order.save(update_fields=["basket"])


def start_payment(
    *,
    order: Order,
    return_url: str,
    provider: str | None = None,
    idempotency_key: str | None = None,
    terminal_id: str | None = None,
    expected_total_cents: int | None = None,
) -> tuple[Payment, ProviderStart]:
    """Begin paying `order` through `provider` (the online provider by default). A double click
    (same key, or an open attempt with the same provider) finds the same Payment again and asks
    the provider again with the same idempotency key: never a second charge. A basket is closed
    by its first attempt (`close_basket`)."""
    check_key(idempotency_key)
    chosen = get_provider(provider) if provider else online_provider()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        close_basket(locked, expected_total_cents=expected_total_cents)
        payment = None
        if idempotency_key:
            payment = Payment.objects.filter(idempotency_key=idempotency_key).first()
            if payment is not None and payment.order_id != locked.pk:
                raise Conflict(_("This request was already used."), field="idempotency_key")
        if payment is None:
            payment = (
                locked.payments.filter(
                    provider=chosen.code,
                    status__in=[Payment.Status.CREATED, Payment.Status.PENDING],
                )
                .order_by("-pk")
                .first()
            )
        if payment is None:
            payment = Payment.objects.create(
                order=locked,
                provider=chosen.code,
                amount_cents=locked.total_cents,
                currency=locked.currency,
                idempotency_key=idempotency_key or new_idempotency_key(),
            )
    if payment.status not in (Payment.Status.CREATED, Payment.Status.PENDING):
        raise Conflict(_("This payment attempt is over."), code="payment_closed")
    # The provider is called outside any transaction (it may be slow); it is idempotent.
    return_url = return_url.replace(PAYMENT_PLACEHOLDER, payment.public_id)
    # A ProviderError (unreachable, refused) propagates: the payment stays `created`, and the
    # same click again retries with the same idempotency key.
    if terminal_id:
        started = chosen.collect_on_terminal(payment=payment, terminal_id=terminal_id)
    else:
        started = chosen.start(payment=payment, return_url=return_url)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.provider_reference and payment.provider_reference != started.provider_reference:
            logger.warning("payment=%s provider reference changed", payment.pk)
        if payment.status == Payment.Status.CREATED or not payment.provider_reference:
            payment.provider_reference = started.provider_reference
            if payment.status == Payment.Status.CREATED:
                payment.status = Payment.Status.PENDING
            payment.save(update_fields=["provider_reference", "status"])
    return payment, started
