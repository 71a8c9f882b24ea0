"""The basket (web): a resident's purchases gathered in one open order until its first payment
attempt."""

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import User
from identity.permissions import person_of
from payments.models import BasketAddition, Channel, Order, OrderLine
from payments.money import format_cents

from .inputs import MAX_ORDER_CENTS, check_amount, check_key
from .orders import LineInput, check_lines, new_lines, release_cancelled_line

logger = logging.getLogger(__name__)


def _locked_basket(buyer: User, *, total_cents: int) -> tuple[Order, bool]:
    """The buyer's basket, its row locked until commit, created (with `total_cents` for a
    start) when there is none: (basket, created). Two first additions at once both try to
    create it: the unique constraint (one basket per buyer) lets one win and the other takes
    the winner's basket, locked."""
    for _attempt in range(3):
        basket = Order.objects.select_for_update().filter(buyer=buyer, basket=True).first()
        if basket is not None:
            return basket, False
        try:
            with transaction.atomic():
                created = Order.objects.create(
                    buyer=buyer,
                    payer=person_of(buyer),
                    channel=Channel.WEB,
                    basket=True,
                    total_cents=total_cents,
                )
        except IntegrityError:
            continue  # a concurrent first addition created it: lock that one
        return created, True
    raise Conflict(_("Your basket is busy; please try again."), code="basket_busy")


def _lines_total(order: Order) -> int:
    return sum(line.total_cents for line in order.lines.all())


def add_to_basket(*, buyer: User, lines: list[LineInput], idempotency_key: str | None) -> Order:
    """Put `lines` in the buyer's basket (their open web order; a new one when there is none,
    or when their last one is being paid) and return it. The basket's row is locked while its
    lines and total change: two additions at once both land, and its total is the sum of its
    lines. The same `idempotency_key` (a form submitted twice) adds once and returns the order
    its lines went to. A basket that would exceed MAX_ORDER_CENTS is refused (`total_cents`,
    code `basket_too_large`) and nothing is written."""
    check_key(idempotency_key)
    if buyer is None or not buyer.is_authenticated:
        raise Forbidden(_("Log in to fill a basket."))
    added = check_lines(lines)
    check_amount(added, field="total_cents")
    if idempotency_key:
        done = BasketAddition.objects.filter(buyer=buyer, idempotency_key=idempotency_key)
        done = done.select_related("order").first()
        if done is not None:
            return done.order
    with transaction.atomic():
        basket, created = _locked_basket(buyer, total_cents=added)
        if idempotency_key:
            # Under the basket's lock: a twin request waiting for it finds the first one here.
            done = BasketAddition.objects.filter(buyer=buyer, idempotency_key=idempotency_key)
            done = done.select_related("order").first()
            if done is not None:
                if created:
                    transaction.set_rollback(True)  # the empty basket just created goes away
                return done.order
        # The basket's total is the sum of its lines (kept so under its lock).
        total = added if created else basket.total_cents + added
        if total > MAX_ORDER_CENTS:
            raise DomainError(
                _(
                    "Your basket would come to %(total)s, more than the %(max)s that can be "
                    "paid at once. Pay your basket first, then add this."
                )
                % {
                    "total": format_cents(total),
                    "max": format_cents(MAX_ORDER_CENTS),
                },
                field="total_cents",
                code="basket_too_large",
            )
        new_lines(basket, lines)
        basket.total_cents = _lines_total(basket)
        basket.save(update_fields=["total_cents"])
        if idempotency_key:
            BasketAddition.objects.create(
                buyer=buyer, idempotency_key=idempotency_key, order=basket
            )
    logger.info("basket=%s lines added total=%s", basket.pk, basket.total_cents)
    return basket


def remove_from_basket(*, buyer: User, line: OrderLine) -> Order:
    """Take `line` out of the buyer's basket: its handler's `on_cancel` releases at once what
    it held (a lesson's place), the total is the sum of the lines left, and an emptied basket
    is cancelled (total zero). A line of someone else's order: `NotFound`. A line of an order
    whose payment has started: `Conflict` (its amount is the payment's)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=line.order_id).first()
        if order is None or buyer is None or order.buyer_id != buyer.pk:
            raise NotFound(_("This line is not in your basket."))
        if not order.basket:
            raise Conflict(
                _("This order is being paid: its lines can no longer change."),
                code="not_a_basket",
            )
        line = order.lines.filter(pk=line.pk).first()
        if line is None:
            return order  # already removed (a second click)
        release_cancelled_line(line)
        line.delete()
        order.total_cents = _lines_total(order)
        fields = ["total_cents"]
        if order.total_cents == 0:
            order.status = Order.Status.CANCELLED
            order.basket = False
            fields += ["status", "basket"]
        order.save(update_fields=fields)
    logger.info("basket=%s line removed total=%s", order.pk, order.total_cents)
    return order
