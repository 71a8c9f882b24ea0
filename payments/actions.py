"""Every change of the payments floor: orders, payments and what providers report, wallets,
refunds, desk payments, payouts, documents and fulfilment. The flow is told in
`payments/providers/base.py`.

Idempotency: an order, a payment, a refund and a wallet spending each carry a unique key;
a provider event id is recorded once (`ProviderEvent`) in the transaction of its effect; the
Payment row is locked while an event about it is applied."""

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden, NotFound
from identity.models import AccessReason, AuditEntry, Person, User
from identity.permissions import Capability, can_act_for, has_capability, person_of

from . import fulfilment, ledger
from .errors import AmountMismatch, InsufficientFunds, RefundTooLarge
from .models import (
    CURRENCY,
    BasketAddition,
    Channel,
    Document,
    DocumentSequence,
    LedgerAccount,
    LedgerTransaction,
    Order,
    OrderLine,
    Payment,
    ProviderEvent,
    ProviderPayout,
    Refund,
    Regie,
)
from .providers import ProviderError, ProviderStart, get_provider, online_provider

logger = logging.getLogger(__name__)

Kind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind

MAX_ORDER_CENTS = 5_000_00  # 5,000 €: above any basket of municipal services
MAX_TOPUP_CENTS = 500_00  # 500 € at once on a wallet
MAX_KEY = 100
PAYMENT_PLACEHOLDER = "__payment__"  # in a return_url: replaced by the payment's public id


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def check_amount(amount_cents, *, field: str = "amount_cents", maximum: int = MAX_ORDER_CENTS):
    """An integer number of cents, > 0 and ≤ `maximum`."""
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool):
        raise DomainError(_("The amount must be a whole number of cents."), field=field)
    if amount_cents <= 0:
        raise DomainError(
            _("The amount must be greater than zero."), field=field, code="amount_not_positive"
        )
    if amount_cents > maximum:
        raise DomainError(
            _("The amount may not exceed %(max)s.") % {"max": ledger.format_cents(maximum)},
            field=field,
            code="amount_too_large",
        )
    return amount_cents


def check_currency(currency: str, *, field: str = "currency") -> None:
    if (currency or "").upper() != CURRENCY:
        raise DomainError(
            _("Only payments in euros (EUR) are accepted."), field=field, code="currency_mismatch"
        )


def _check_key(key: str | None, *, field: str = "idempotency_key") -> None:
    # No control characters: PostgreSQL refuses a NUL in a string (a 500, not a refusal).
    if key is not None and (
        not isinstance(key, str)
        or not (0 < len(key) <= MAX_KEY)
        or any(ord(c) < 32 or ord(c) == 127 for c in key)
    ):
        raise DomainError(_("Invalid idempotency key."), field=field)


# --- Orders ---------------------------------------------------------------------------------


@dataclass
class LineInput:
    """A line to sell. `handler` must be registered (`payments.fulfilment`)."""

    regie: Regie
    label: str
    handler: str
    unit_price_cents: int
    quantity: int = 1
    explanation: str = ""
    payload: dict = field(default_factory=dict)
    beneficiary: Person | None = None


def _check_lines(lines: list[LineInput]) -> int:
    """Refuse lines nothing can deliver or badly priced; their total in cents."""
    if not lines:
        raise DomainError(_("An order needs at least one line."), field="lines")
    total = 0
    for line in lines:
        if not fulfilment.is_registered(line.handler):
            raise DomainError(
                _("Nothing can deliver “%(label)s”.") % {"label": line.label}, field="handler"
            )
        if not isinstance(line.quantity, int) or not 0 < line.quantity <= 100:
            raise DomainError(_("Invalid quantity."), field="quantity")
        check_amount(line.unit_price_cents, field="unit_price_cents")
        total += line.quantity * line.unit_price_cents
    return total


def _new_lines(order: Order, lines: list[LineInput]) -> None:
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            regie=line.regie,
            label=line.label[:200],
            explanation=line.explanation[:200],
            handler=line.handler,
            payload=line.payload,
            beneficiary=line.beneficiary,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
        )
        for line in lines
    )


def create_order(
    *,
    buyer: User | None,
    payer: Person | None,
    lines: list[LineInput],
    channel: str = Channel.WEB,
    idempotency_key: str | None = None,
) -> Order:
    """An order awaiting payment, paid at once (a kiosk, a desk, the API): never a basket (the
    web channel gathers purchases with `add_to_basket`). The same `idempotency_key` returns the
    first order (a retried kiosk or API request); the services price their lines, payments only
    checks them."""
    _check_key(idempotency_key)
    if channel not in Channel.values:
        raise DomainError(_("Unknown channel."), field="channel")
    total = _check_lines(lines)
    check_amount(total, field="total_cents")
    if idempotency_key:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_order(existing, buyer, total)
    try:
        with transaction.atomic():
            order = Order.objects.create(
                buyer=buyer,
                payer=payer,
                channel=channel,
                total_cents=total,
                idempotency_key=idempotency_key,
            )
            _new_lines(order, lines)
    except IntegrityError:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_order(existing, buyer, total)
    logger.info("order created order=%s channel=%s total=%s", order.pk, channel, total)
    return order


def _same_order(order: Order, buyer: User | None, total: int | None = None) -> Order:
    """The order a replayed key created: refused when the key comes back from another buyer or
    for another amount (a reused key must not pass for the purchase it did not make)."""
    if order.buyer_id != (buyer.pk if buyer else None) or (
        total is not None and order.total_cents != total
    ):
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return order


def wallet_regie() -> Regie:
    regie = Regie.objects.filter(holds_wallets=True).order_by("pk").first()
    if regie is None:
        raise DomainError(_("No régie holds the wallets yet."), code="no_wallet_regie")
    return regie


def create_topup_order(
    *,
    actor: User | None,
    person: Person,
    amount_cents: int,
    channel: str = Channel.WEB,
    idempotency_key: str | None = None,
) -> Order:
    """An order crediting `person`'s wallet. Online, the actor must act for the person (self or
    a ward); a kiosk (actor None) has identified the person by their card."""
    line = topup_line(actor=actor, person=person, amount_cents=amount_cents, channel=channel)
    payer = getattr(actor, "person", None) if actor is not None else None
    return create_order(
        buyer=actor,
        payer=payer or person,
        channel=channel,
        idempotency_key=idempotency_key,
        lines=[line],
    )


def topup_line(
    *, actor: User | None, person: Person, amount_cents: int, channel: str = Channel.WEB
) -> LineInput:
    """The line crediting `person`'s wallet, after checking the actor may and the amount."""
    needs_permission = channel == Channel.WEB or actor is not None
    if needs_permission and (actor is None or not can_act_for(actor, person)):
        raise Forbidden(_("You cannot top up this wallet."))
    check_amount(amount_cents, maximum=MAX_TOPUP_CENTS)
    with translation.override(settings.LANGUAGE_CODE):  # data, in the territory's language
        label = _("Wallet top-up")
    return LineInput(
        regie=wallet_regie(),
        label=label,
        handler=fulfilment.WALLET_TOPUP,
        unit_price_cents=amount_cents,
        beneficiary=person,
    )


def add_topup_to_basket(
    *, actor: User, person: Person, amount_cents: int, idempotency_key: str | None
) -> Order:
    """Mon espace: a top-up of `person`'s wallet (self or a ward) put in the actor's basket."""
    line = topup_line(actor=actor, person=person, amount_cents=amount_cents)
    return add_to_basket(buyer=actor, lines=[line], idempotency_key=idempotency_key)


# --- The basket (web) -------------------------------------------------------------------------


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
    _check_key(idempotency_key)
    if buyer is None or not buyer.is_authenticated:
        raise Forbidden(_("Log in to fill a basket."))
    added = _check_lines(lines)
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
        total = added if created else _lines_total(basket) + added
        if total > MAX_ORDER_CENTS:
            raise DomainError(
                _(
                    "Your basket would come to %(total)s, more than the %(max)s that can be "
                    "paid at once. Pay your basket first, then add this."
                )
                % {
                    "total": ledger.format_cents(total),
                    "max": ledger.format_cents(MAX_ORDER_CENTS),
                },
                field="total_cents",
                code="basket_too_large",
            )
        _new_lines(basket, lines)
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
        _release_cancelled_line(line)
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


def cancel_order(*, actor: User | None, order: Order) -> Order:
    """An unpaid basket given up; its open payments are abandoned, and each line's handler
    releases at once what the line held (its `on_cancel` hook, when it registered one: a
    lesson's place is free again now rather than when its hold expires)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if actor is not None and order.buyer_id != actor.pk:
            raise Forbidden(_("This order is not yours."))
        if order.status != Order.Status.PENDING:
            raise Conflict(_("Only an order awaiting payment can be cancelled."))
        order.status = Order.Status.CANCELLED
        order.basket = False
        order.save(update_fields=["status", "basket"])
        order.payments.filter(status__in=[Payment.Status.CREATED, Payment.Status.PENDING]).update(
            status=Payment.Status.CANCELLED
        )
        for line in order.lines.filter(fulfilled_at__isnull=True).order_by("pk"):
            _release_cancelled_line(line)
    logger.info("order cancelled order=%s", order.pk)
    return order


def _release_cancelled_line(line: OrderLine) -> None:
    """Call the line's `on_cancel` hook in a savepoint of its own: a failing service is logged
    and does not stop the cancellation (what the line held then expires by itself)."""
    if not fulfilment.is_registered(line.handler):
        return
    hook = fulfilment.get_handler(line.handler).on_cancel
    if hook is None:
        return
    try:
        with transaction.atomic():
            hook(line)
    except Exception:
        logger.exception("on_cancel of line=%s failed; what it held expires by itself", line.pk)


# --- Starting a payment -----------------------------------------------------------------------


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
    by its first attempt (its lines no longer change; later purchases open a new basket);
    `expected_total_cents`, the total the resident saw, refuses to start when the basket
    changed meanwhile (code `basket_changed`)."""
    _check_key(idempotency_key)
    chosen = get_provider(provider) if provider else online_provider()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        if (
            locked.basket
            and expected_total_cents is not None
            and expected_total_cents != locked.total_cents
        ):
            raise Conflict(
                _("Your basket changed: its total is now %(total)s. Check it, then pay.")
                % {"total": ledger.format_cents(locked.total_cents)},
                code="basket_changed",
            )
        if locked.basket:
            locked.basket = False
            locked.save(update_fields=["basket"])
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


# --- What providers report --------------------------------------------------------------------


def already_processed(provider: str, event_id: str | None) -> bool:
    """True when this provider event was already acted upon (a retried webhook)."""
    return (
        bool(event_id)
        and ProviderEvent.objects.filter(provider=provider, event_id=event_id).exists()
    )


def _claim_event(provider: str, event_id: str | None, kind: str, payment=None) -> bool:
    """Record the event inside the current transaction; False when it was already there (the
    caller returns without effect). A concurrent delivery of the same event waits on the unique
    index and then fails, rolling its savepoint back."""
    if not event_id:
        return True
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=provider, event_id=event_id, kind=kind, payment=payment
            )
    except IntegrityError:
        return False
    return True


def _locked_payment(provider: str, provider_reference: str) -> Payment:
    payment = (
        Payment.objects.select_for_update()
        .filter(provider=provider, provider_reference=provider_reference)
        .first()
    )
    if payment is None:
        logger.warning("provider=%s reports an unknown payment", provider)
        raise NotFound(_("Unknown payment."), code="unknown_payment")
    return payment


def record_payment_succeeded(
    *,
    provider: str,
    provider_reference: str,
    amount_cents: int,
    currency: str,
    event_id: str | None = None,
) -> Payment:
    """The provider collected the money. Idempotent: a replayed event, or a second event for an
    already succeeded payment, credits nothing more. Amount or currency not those of the
    payment: `AmountMismatch`, nothing written. Unknown reference: `NotFound`.

    In one transaction: the Payment (locked) is succeeded, the order paid, the ledger posted
    (provider clearing → each line's revenue or wallet), the invoices and receipts numbered;
    after commit, fulfilment and the receipt email are queued (and the sweeper catches them
    up if the process dies in between)."""
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        if (currency or "").upper() != payment.currency:
            raise AmountMismatch(_("The currency does not match the payment."), field="currency")
        if amount_cents != payment.amount_cents:
            raise AmountMismatch(_("The amount does not match the payment."), field="amount_cents")
        if not _claim_event(provider, event_id, "payment_succeeded", payment):
            return payment
        if payment.status == Payment.Status.SUCCEEDED:
            return payment
        _settle(payment, source=ledger.provider_account(Kind.CLEARING, provider))
    _after_payment(payment)
    return payment


def _settle(payment: Payment, *, source: LedgerAccount | None, by_regie_kind: str = "") -> None:
    """Mark `payment` (locked) succeeded and post it; the order becomes paid, or, when another
    payment paid it first, the money waits in suspense for a refund."""
    now = timezone.now()
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    payment.status = Payment.Status.SUCCEEDED
    payment.succeeded_at = now
    payment.failure_reason = ""
    lines = list(order.lines.select_related("regie"))

    def debit_entries() -> list:
        if source is not None:
            return [(source, payment.amount_cents)]
        by_regie: dict = defaultdict(int)
        for line in lines:
            by_regie[line.regie] += line.total_cents
        return [(ledger.regie_account(by_regie_kind, r), c) for r, c in by_regie.items()]

    if order.status != Order.Status.PENDING:
        payment.duplicate = True
        payment.save(update_fields=["status", "succeeded_at", "failure_reason", "duplicate"])
        ledger.post(
            kind=TxnKind.PAYMENT,
            entries=[*debit_entries(), (ledger.suspense_account(), -payment.amount_cents)],
            order=order,
            payment=payment,
            description=f"duplicate payment of order {order.public_id}",
        )
        logger.warning("payment=%s paid an order already paid: in suspense", payment.pk)
        return
    payment.save(update_fields=["status", "succeeded_at", "failure_reason"])
    order.status = Order.Status.PAID
    order.paid_at = now
    order.basket = False  # a basket paid at the régie's desk
    order.save(update_fields=["status", "paid_at", "basket"])
    order.payments.exclude(pk=payment.pk).filter(
        status__in=[Payment.Status.CREATED, Payment.Status.PENDING]
    ).update(status=Payment.Status.CANCELLED)
    credits = [(_line_account(line, order), -line.total_cents) for line in lines]
    ledger.post(
        kind=TxnKind.DESK if source is None else TxnKind.PAYMENT,
        entries=[*debit_entries(), *credits],
        order=order,
        payment=payment,
        regie=lines[0].regie if len({line.regie_id for line in lines}) == 1 else None,
        description=f"order {order.public_id}",
        reference=payment.provider_reference or "",
    )
    _issue_payment_documents(order, payment, lines)


def _line_account(line: OrderLine, order: Order) -> LedgerAccount:
    if line.handler == fulfilment.WALLET_TOPUP:
        return ledger.wallet_account(line.beneficiary_id or order.payer_id)
    return ledger.regie_account(Kind.REVENUE, line.regie)


def _after_payment(payment: Payment) -> None:
    """Queued after commit: fulfil the lines, mail the receipts."""
    order_id = payment.order_id
    payment_id = payment.pk
    transaction.on_commit(lambda: enqueue_fulfilment(order_id))
    transaction.on_commit(lambda: enqueue_receipt_email(payment_id))


def enqueue_fulfilment(order_id: int) -> None:
    from .tasks import fulfil_order_task  # tasks imports this module: a real cycle

    try:
        fulfil_order_task.enqueue(order_id=order_id)
    except Exception:  # the sweeper catches it up
        logger.exception("could not queue the fulfilment of order=%s", order_id)


def enqueue_receipt_email(payment_id: int) -> None:
    from .tasks import send_receipt_email_task

    try:
        send_receipt_email_task.enqueue(payment_id=payment_id)
    except Exception:
        logger.exception("could not queue the receipt email of payment=%s", payment_id)


def record_payment_failed(
    *, provider: str, provider_reference: str, reason: str, event_id: str | None = None
) -> Payment:
    """The provider declined or the resident gave up. A failure arriving after a success (out
    of order) changes nothing."""
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        if not _claim_event(provider, event_id, "payment_failed", payment):
            return payment
        if payment.status in (Payment.Status.CREATED, Payment.Status.PENDING):
            payment.status = Payment.Status.FAILED
            payment.failure_reason = (reason or "")[:300]
            payment.save(update_fields=["status", "failure_reason"])
    return payment


def record_payment_cancelled(
    *, provider: str, provider_reference: str, event_id: str | None = None
) -> Payment:
    """The resident abandoned the payment page."""
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        if not _claim_event(provider, event_id, "payment_cancelled", payment):
            return payment
        if payment.status in (Payment.Status.CREATED, Payment.Status.PENDING):
            payment.status = Payment.Status.CANCELLED
            payment.save(update_fields=["status"])
    return payment


# --- Refunds ---------------------------------------------------------------------------------


def _allocate(payment: Payment, amount: int, line_ids: list[int] | None) -> list[tuple]:
    """Spread a refund over the order's lines (the chosen ones, else in order): (line, cents)."""
    lines = list(
        OrderLine.objects.select_for_update().filter(order_id=payment.order_id).order_by("pk")
    )
    if line_ids:
        lines = [line for line in lines if line.pk in set(line_ids)]
        if not lines:
            raise DomainError(_("Choose lines of this order."), field="lines")
    allocation = []
    left = amount
    for line in lines:
        share = min(left, line.refundable_cents)
        if share > 0:
            allocation.append((line, share))
            left -= share
    if left > 0:
        raise RefundTooLarge(
            _("The refund is larger than what is left to refund on these lines."),
            field="amount_cents",
        )
    return allocation


def _refund_ledger(refund: Refund, payment: Payment, allocation: list[tuple]) -> None:
    """Post a refund: each line's revenue (or the topped-up wallet) gives back its share to
    the provider clearing, the payer's wallet, or the desk cash."""
    order = payment.order
    debits = []
    for line, share in allocation:
        if line.handler == fulfilment.WALLET_TOPUP:
            if refund.destination == Refund.Destination.WALLET:
                raise DomainError(
                    _("A wallet top-up is refunded to the card, not to the wallet."),
                    field="destination",
                )
            debits.append((ledger.wallet_account(line.beneficiary_id or order.payer_id), share))
        else:
            debits.append((ledger.regie_account(Kind.REFUNDS, line.regie), share))
    if refund.destination == Refund.Destination.WALLET:
        if order.payer_id is None:
            raise DomainError(_("This order has no payer with a wallet."), field="destination")
        credit = ledger.wallet_account(order.payer_id)
    elif refund.destination == Refund.Destination.CASH or payment.provider == "desk":
        credit = ledger.regie_account(Kind.CASH, allocation[0][0].regie)
    else:
        credit = ledger.provider_account(Kind.CLEARING, payment.provider)
    ledger.post(
        kind=TxnKind.REFUND,
        entries=[*debits, (credit, -refund.amount_cents)],
        order=order,
        payment=payment,
        refund=refund,
        description=f"refund of order {order.public_id}",
        reference=refund.provider_reference or "",
    )


def _book_refund(refund: Refund, payment: Payment, line_ids: list[int] | None) -> None:
    """In the caller's transaction, the payment locked: the ledger, the lines' and the order's
    refunded amounts. Raises (and the caller's transaction rolls back) when a topped-up wallet
    has already been spent: checked before the provider is ever asked."""
    allocation = _allocate(payment, refund.amount_cents, line_ids)
    _refund_ledger(refund, payment, allocation)
    for line, share in allocation:
        line.refunded_cents += share
        line.save(update_fields=["refunded_cents"])
    refund.allocation = {str(line.pk): share for line, share in allocation}
    refund.save(update_fields=["allocation"])
    refund.lines.set([line for line, _share in allocation])
    if not payment.duplicate:
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        order.refunded_cents = min(order.total_cents, order.refunded_cents + refund.amount_cents)
        order.status = _refund_status(order)
        order.save(update_fields=["refunded_cents", "status"])


def _refund_status(order: Order) -> str:
    if order.refunded_cents <= 0:
        return Order.Status.PAID
    if order.refunded_cents >= order.total_cents:
        return Order.Status.REFUNDED
    return Order.Status.PARTIALLY_REFUNDED


def _finish_refund(refund: Refund, payment: Payment) -> None:
    """The money is on its way back: the refund succeeded, fully refunded lines are to be
    undone (after commit), the credit note is numbered."""
    now = timezone.now()
    refund.status = Refund.Status.SUCCEEDED
    refund.completed_at = now
    refund.save(update_fields=["status", "completed_at", "provider_reference"])
    allocation = []
    for line in OrderLine.objects.select_for_update().filter(pk__in=refund.allocation.keys()):
        allocation.append((line, refund.allocation[str(line.pk)]))
        if line.refunded_cents >= line.total_cents and line.undo_requested_at is None:
            line.undo_requested_at = now
            fields = ["undo_requested_at"]
            if line.fulfilled_at is None:  # nothing was delivered (row locked): nothing to undo
                line.undone_at = now
                fields.append("undone_at")
            line.save(update_fields=fields)
    allocation.sort(key=lambda pair: pair[0].pk)
    _issue_credit_note(refund, payment, allocation)
    order_id = payment.order_id
    transaction.on_commit(lambda: enqueue_fulfilment(order_id))


def _unbook_refund(refund: Refund, payment: Payment, reason: str) -> None:
    """A refund the provider refused or reports failed: its postings are reversed and the
    amounts given back to the payment, the lines and the order."""
    for original in LedgerTransaction.objects.filter(refund=refund, kind=TxnKind.REFUND):
        ledger.post(
            kind=TxnKind.ADJUSTMENT,
            entries=[(e.account, -e.amount_cents) for e in original.entries.all()],
            order=payment.order,
            payment=payment,
            refund=refund,
            description=f"refund {refund.public_id} failed at the provider",
        )
    for line in OrderLine.objects.select_for_update().filter(pk__in=refund.allocation.keys()):
        line.refunded_cents = max(0, line.refunded_cents - refund.allocation[str(line.pk)])
        line.save(update_fields=["refunded_cents"])
    if not payment.duplicate:
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        order.refunded_cents = max(0, order.refunded_cents - refund.amount_cents)
        order.status = _refund_status(order)
        order.save(update_fields=["refunded_cents", "status"])
    payment.refunded_cents = max(0, payment.refunded_cents - refund.amount_cents)
    payment.save(update_fields=["refunded_cents"])
    refund.status = Refund.Status.FAILED
    refund.failure_reason = (reason or "")[:300]
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "failure_reason", "completed_at"])


def refund_payment(
    *,
    actor: User,
    payment: Payment,
    amount_cents: int,
    destination: str,
    reason: str = "",
    idempotency_key: str,
    line_ids: list[int] | None = None,
) -> Refund:
    """A régisseur gives back all or part of a payment, to the card (through the provider), to
    the payer's wallet, or in cash for a desk payment. More than what is left to refund is
    refused with a clear message; the same key twice returns the first refund."""
    if not has_capability(actor, Capability.REFUND_PAYMENTS):
        raise Forbidden(_("You may not refund payments."))
    _check_key(idempotency_key)
    if destination not in Refund.Destination.values:
        raise DomainError(_("Choose where the money goes back."), field="destination")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise DomainError(_("The amount must be greater than zero."), field="amount_cents")
    existing = _refund_replayed(idempotency_key, payment)
    if existing is not None:
        return existing
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("order").get(pk=payment.pk)
        # Again under the lock: a double click's second request waited for the first one.
        existing = _refund_replayed(idempotency_key, payment)
        if existing is not None:
            return existing
        if payment.status != Payment.Status.SUCCEEDED:
            raise Conflict(_("Only a succeeded payment can be refunded."), field="payment")
        if amount_cents > payment.refundable_cents:
            raise RefundTooLarge(
                _(
                    "You cannot refund %(asked)s: %(left)s is left to refund on this payment "
                    "of %(paid)s."
                )
                % {
                    "asked": ledger.format_cents(amount_cents),
                    "left": ledger.format_cents(payment.refundable_cents),
                    "paid": ledger.format_cents(payment.amount_cents),
                },
                field="amount_cents",
            )
        if destination == Refund.Destination.CASH and payment.provider != "desk":
            raise DomainError(_("Only a desk payment is refunded in cash."), field="destination")
        if destination == Refund.Destination.CARD and payment.provider == "desk":
            raise DomainError(_("A desk payment has no card to refund."), field="destination")
        refund = Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            destination=destination,
            idempotency_key=idempotency_key,
            reason=(reason or "")[:300],
            requested_by=actor,
        )
        # Reserve the amount now: two régisseurs refunding at once cannot exceed the payment.
        payment.refunded_cents += amount_cents
        payment.save(update_fields=["refunded_cents"])
        _audit_refund(actor, payment, refund)
        _book_refund(refund, payment, line_ids)
        if destination != Refund.Destination.CARD:
            _finish_refund(refund, payment)
            return refund
    return _refund_through_provider(refund)


def _refund_replayed(idempotency_key: str, payment: Payment) -> Refund | None:
    """The refund this key already made, or None; a key used for another payment is refused."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and existing.payment_id != payment.pk:
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return existing


def _refund_through_provider(refund: Refund) -> Refund:
    """Ask the provider (outside any transaction) for a refund already booked."""
    try:
        reference = get_provider(refund.payment.provider).refund(refund=refund)
    except ProviderError as error:
        if error.retryable:
            logger.warning("refund=%s provider error, left pending for a retry", refund.pk)
            raise DomainError(
                _("The payment provider could not be reached; the refund will be retried."),
                code="provider_unavailable",
            ) from error
        with transaction.atomic():
            payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
            refund = Refund.objects.select_for_update().get(pk=refund.pk)
            if refund.status == Refund.Status.PENDING:
                _unbook_refund(refund, payment, error.message)
        raise DomainError(
            _("The payment provider refused the refund: %(reason)s") % {"reason": error.message},
            code="provider_refused",
        ) from error
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == Refund.Status.PENDING:
            refund.provider_reference = reference
            _finish_refund(refund, payment)
    return refund


def retry_pending_refunds(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Card refunds left pending (provider unreachable, or a crash after its answer): ask the
    provider again with the same idempotency key (it answers the same refund)."""
    done = 0
    stale = Refund.objects.filter(
        status=Refund.Status.PENDING,
        destination=Refund.Destination.CARD,
        created_at__lt=timezone.now() - older_than,
    )
    for refund in stale:
        try:
            _refund_through_provider(refund)
            done += 1
        except DomainError:
            logger.warning("refund=%s still pending", refund.pk)
    return done


def record_provider_refund(
    *,
    provider: str,
    provider_reference: str,
    refund_reference: str,
    amount_cents: int,
    event_id: str | None = None,
) -> Refund:
    """A refund the provider reports (made from its dashboard, or the echo of one Sésame asked
    for). Known `refund_reference`: nothing more. A pending refund of Sésame with that amount
    (its answer not stored yet): completed with this reference. More than what is left to
    refund: `RefundTooLarge`, nothing written."""
    check_amount(amount_cents)
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        known = Refund.objects.filter(payment=payment, provider_reference=refund_reference).first()
        if known is not None:
            _claim_event(provider, event_id, "refund", payment)
            return known
        pending = (
            Refund.objects.select_for_update()
            .filter(
                payment=payment,
                status=Refund.Status.PENDING,
                destination=Refund.Destination.CARD,
                amount_cents=amount_cents,
                provider_reference__isnull=True,
            )
            .order_by("pk")
            .first()
        )
        if not _claim_event(provider, event_id, "refund", payment):
            return pending or payment.refunds.order_by("-pk").first()
        if pending is not None:
            pending.provider_reference = refund_reference
            _finish_refund(pending, payment)
            return pending
        if payment.status != Payment.Status.SUCCEEDED:
            raise Conflict(_("Only a succeeded payment can be refunded."), field="payment")
        if amount_cents > payment.refundable_cents:
            raise RefundTooLarge(
                _("The refund is larger than what is left to refund."), field="amount_cents"
            )
        refund = Refund.objects.create(
            payment=payment,
            amount_cents=amount_cents,
            destination=Refund.Destination.CARD,
            provider_reference=refund_reference,
            idempotency_key=f"{provider}:{refund_reference}"[:MAX_KEY],
            reason=_("Refund made from the provider's dashboard"),
        )
        payment.refunded_cents += amount_cents
        payment.save(update_fields=["refunded_cents"])
        _book_refund(refund, payment, None)
        _finish_refund(refund, payment)
    return refund


def record_refund_failed(
    *, provider: str, refund_reference: str, reason: str, event_id: str | None = None
) -> Refund:
    """A card refund the provider finally could not make: its postings are reversed and the
    amount is refundable again; lines already undone stay undone (the régisseur decides)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update()
            .filter(payment__provider=provider, provider_reference=refund_reference)
            .first()
        )
        if refund is None:
            raise NotFound(_("Unknown refund."), code="unknown_refund")
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        if not _claim_event(provider, event_id, "refund_failed", payment):
            return refund
        if refund.status != Refund.Status.FAILED:
            _unbook_refund(refund, payment, reason)
    return refund


def record_dispute(
    *, provider: str, provider_reference: str, amount_cents: int, event_id: str | None = None
) -> Payment:
    """The cardholder's bank disputes a payment: the provider takes the amount back from the
    clearing account (into the disputes account the régisseur follows up)."""
    check_amount(amount_cents)
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        if not _claim_event(provider, event_id, "dispute", payment):
            return payment
        if amount_cents > payment.amount_cents - payment.disputed_cents:
            raise RefundTooLarge(  # the event's row rolls back with the transaction
                _("The dispute is larger than the payment."), field="amount_cents"
            )
        ledger.post(
            kind=TxnKind.DISPUTE,
            entries=[
                (ledger.provider_account(Kind.DISPUTES, provider), amount_cents),
                (ledger.provider_account(Kind.CLEARING, provider), -amount_cents),
            ],
            order=payment.order,
            payment=payment,
            description=f"dispute on payment {payment.public_id}",
        )
        payment.disputed_cents += amount_cents
        payment.save(update_fields=["disputed_cents"])
    logger.warning("payment=%s disputed (%s cents)", payment.pk, amount_cents)
    return payment


def record_dispute_closed(
    *,
    provider: str,
    provider_reference: str,
    amount_cents: int,
    won: bool,
    event_id: str | None = None,
    dispute_reference: str | None = None,
) -> Payment:
    """The bank decided a dispute. Won: the provider gives the disputed money back, so it
    returns from the disputes account to the clearing account (one balanced posting, once:
    per event id, per `dispute_reference` when given, and never more than what is disputed on
    the payment). Lost: the money stays in the disputes account (the régisseur writes it off);
    nothing is posted. More than what is disputed: `RefundTooLarge`, nothing written."""
    check_amount(amount_cents)
    key = f"{provider}:dispute-won:{dispute_reference}"[:MAX_KEY] if dispute_reference else None
    with transaction.atomic():
        payment = _locked_payment(provider, provider_reference)
        if not _claim_event(provider, event_id, "dispute_won" if won else "dispute_lost", payment):
            return payment
        if not won:
            logger.warning("payment=%s dispute lost (%s cents)", payment.pk, amount_cents)
            return payment
        if key and LedgerTransaction.objects.filter(idempotency_key=key).exists():
            return payment
        if amount_cents > payment.disputed_cents:
            raise RefundTooLarge(  # the event's row rolls back with the transaction
                _("More than what is disputed on this payment."), field="amount_cents"
            )
        ledger.post(
            kind=TxnKind.DISPUTE,
            entries=[
                (ledger.provider_account(Kind.CLEARING, provider), amount_cents),
                (ledger.provider_account(Kind.DISPUTES, provider), -amount_cents),
            ],
            order=payment.order,
            payment=payment,
            idempotency_key=key,
            description=f"dispute won on payment {payment.public_id}",
            reference=(dispute_reference or "")[:120],
        )
        payment.disputed_cents -= amount_cents
        payment.save(update_fields=["disputed_cents"])
    logger.info("payment=%s dispute won (%s cents back)", payment.pk, amount_cents)
    return payment


def record_provider_payout(
    *,
    provider: str,
    payout_reference: str,
    amount_cents: int,
    arrival_date: date,
    fee_cents: int = 0,
    payment_references: list[str] | tuple = (),
    currency: str = CURRENCY,
    event_id: str | None = None,
) -> ProviderPayout:
    """The provider paid `amount_cents` (net of `fee_cents`) into the bank: clearing → bank and
    fees. `payment_references` (the payments it settles) are linked for reconciliation.
    Idempotent per payout reference."""
    check_currency(currency)
    if not isinstance(amount_cents, int) or amount_cents <= 0 or fee_cents < 0:
        raise DomainError(_("Invalid payout amount."), field="amount_cents")
    with transaction.atomic():
        existing = ProviderPayout.objects.filter(
            provider=provider, provider_reference=payout_reference
        ).first()
        if existing is not None:
            return existing
        if not _claim_event(provider, event_id, "payout"):
            return ProviderPayout.objects.get(
                provider=provider, provider_reference=payout_reference
            )
        payout = ProviderPayout.objects.create(
            provider=provider,
            provider_reference=payout_reference,
            amount_cents=amount_cents,
            fee_cents=fee_cents,
            currency=currency.upper(),
            arrival_date=arrival_date,
        )
        entries = [
            (ledger.provider_account(Kind.BANK, provider), amount_cents),
            (ledger.provider_account(Kind.CLEARING, provider), -(amount_cents + fee_cents)),
        ]
        if fee_cents:
            entries.append((ledger.provider_account(Kind.FEES, provider), fee_cents))
        ledger.post(
            kind=TxnKind.PAYOUT,
            entries=entries,
            payout=payout,
            description=f"payout {payout_reference}",
            reference=payout_reference,
        )
        if payment_references:
            Payment.objects.filter(
                provider=provider, provider_reference__in=list(payment_references)
            ).update(payout=payout)
    return payout


# --- Wallets -----------------------------------------------------------------------------------


def spend_from_wallet(
    *,
    person_id: int,
    amount_cents: int,
    regie: Regie,
    reference: str,
    idempotency_key: str,
) -> LedgerTransaction:
    """Pay `amount_cents` from the person's wallet to `regie` (pay-per-entry at a gate). Runs in
    the caller's transaction if there is one (services.catalog's), in its own otherwise; locks
    the wallet row; `InsufficientFunds` (code "insufficient_balance") when the balance is short,
    even with concurrent spending; the same `idempotency_key` returns the first transaction."""
    check_amount(amount_cents, maximum=MAX_TOPUP_CENTS)
    _check_key(idempotency_key)
    # No look-up of the key first (the gate's hot path): a replay fails inside the savepoint
    # (unique key, or a balance its first spending used up), which rolls it back.
    wallet = ledger.wallet_account(person_id)
    try:
        with transaction.atomic():
            return ledger.post(
                kind=TxnKind.WALLET_SPEND,
                entries=[
                    (wallet, amount_cents),
                    (ledger.regie_account(Kind.REVENUE, regie), -amount_cents),
                ],
                regie=regie,
                idempotency_key=idempotency_key,
                reference=reference[:120],
                description=reference[:200],
            )
    except (IntegrityError, InsufficientFunds):
        # A replay: its first spending may have left too little for a second one, or the
        # unique key refused the second. Either way, the first answer.
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing


# --- Desk payments ----------------------------------------------------------------------------


def record_desk_payment(
    *,
    actor: User,
    order: Order,
    method: str,
    amount_cents: int,
    idempotency_key: str,
    cheque_number: str = "",
) -> Payment:
    """Cash or a cheque handed to the régisseur for an order awaiting payment: the payment
    succeeds at once (cash/cheque accounts of the lines' régies) and gets its receipt."""
    if not has_capability(actor, Capability.REFUND_PAYMENTS):
        raise Forbidden(_("You may not record desk payments."))
    if method not in (Payment.Method.CASH, Payment.Method.CHEQUE):
        raise DomainError(_("Cash or cheque."), field="method")
    if method == Payment.Method.CHEQUE and not cheque_number.strip():
        raise DomainError(_("Enter the cheque number."), field="cheque_number")
    _check_key(idempotency_key)
    existing = _desk_payment_replayed(idempotency_key, order)
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        # Again under the lock: a double click's second request waited for the first one.
        existing = _desk_payment_replayed(idempotency_key, order)
        if existing is not None:
            return existing
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        if amount_cents != locked.total_cents:
            raise AmountMismatch(
                _("The amount received must be the order's total, %(total)s.")
                % {"total": ledger.format_cents(locked.total_cents)},
                field="amount_cents",
            )
        payment = Payment.objects.create(
            order=locked,
            provider="desk",
            method=method,
            provider_reference=f"desk-{secrets.token_hex(8)}"
            if method == Payment.Method.CASH
            else f"cheque-{cheque_number.strip()[:40]}-{secrets.token_hex(4)}",
            amount_cents=amount_cents,
            idempotency_key=idempotency_key,
            recorded_by=actor,
        )
        _settle(payment, source=None, by_regie_kind=method)
        record_audit_entry(
            actor=actor,
            action="payments.desk_payment",
            person=locked.payer,
            target=f"payment:{payment.public_id}",
            reason=AccessReason.PAYMENT,
            channel=AuditEntry.Channel.COUNTER,
        )
    _after_payment(payment)
    return payment


def _desk_payment_replayed(idempotency_key: str, order: Order) -> Payment | None:
    """The payment this key already recorded, or None; a key used for another order (or by a
    payment that is not a desk payment) is refused rather than passed off as this one."""
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and (existing.order_id != order.pk or existing.provider != "desk"):
        raise Conflict(_("This request was already used."), field="idempotency_key")
    return existing


def _audit_payer_data(*, actor: User, action: str, payer: Person | None, target: str) -> None:
    """Staff saw or acted on what names a payer: audited against them, so that it shows in
    their "who looked at my file"."""
    record_audit_entry(
        actor=actor, action=action, person=payer, target=target, reason=AccessReason.PAYMENT
    )


def _require_payments_view(actor: User) -> None:
    if not has_capability(actor, Capability.VIEW_PAYMENTS):
        raise Forbidden(_("You may not see payments."))


def _audit_refund(actor: User, payment: Payment, refund: Refund) -> None:
    _audit_payer_data(
        actor=actor,
        action="payments.refund",
        payer=payment.order.payer,
        target=f"payment:{payment.public_id}",
    )


def open_payment(*, actor: User, payment: Payment) -> Payment:
    """A régisseur opens a payment (the payer's name and orders): audited."""
    _require_payments_view(actor)
    _audit_payer_data(
        actor=actor,
        action="payments.open_payment",
        payer=payment.order.payer,
        target=f"payment:{payment.public_id}",
    )
    return payment


def open_document(*, actor: User, document: Document) -> Document:
    """A régisseur opens an invoice, receipt or credit note (the payer's name and address)."""
    _require_payments_view(actor)
    _audit_payer_data(
        actor=actor,
        action="payments.open_document",
        payer=document.order.payer,
        target=f"document:{document.reference}",
    )
    return document


def audit_payments_listing(*, actor: User, what: str) -> None:
    """Lists of payments show payers' names: each consultation is in the audit trail."""
    _require_payments_view(actor)
    record_audit_entry(actor=actor, action="payments.list", target=what[:120])


# --- Documents ---------------------------------------------------------------------------------


def _next_number(regie: Regie, kind: str, year: int) -> int:
    """The next number of the sequence, the sequence row locked until the caller commits: two
    documents never get the same number and a rolled-back one gives its number back."""
    DocumentSequence.objects.get_or_create(regie=regie, kind=kind, year=year)  # race-safe
    sequence = DocumentSequence.objects.select_for_update().get(regie=regie, kind=kind, year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def issue_document(
    *, kind: str, regie: Regie, order: Order, amount_cents: int, content: dict, **links
) -> Document:
    """A numbered document, in the caller's transaction."""
    now = timezone.now()
    year = timezone.localdate(now).year
    number = _next_number(regie, kind, year)
    return Document.objects.create(
        kind=kind,
        regie=regie,
        year=year,
        number=number,
        reference=f"{regie.code.upper()}-{year}-{Document.PREFIX[kind]}{number:06d}",
        order=order,
        amount_cents=amount_cents,
        issued_at=now,
        content=content,
        **links,
    )


def _regie_block(regie: Regie) -> dict:
    return {
        "name": regie.name,
        "collectivite": regie.collectivite,
        "address": regie.address,
        "siret": regie.siret,
        "email": regie.email,
        "regisseur": regie.regisseur_name,
        "vat_mention": regie.vat_mention,
        "legal_mentions": regie.legal_mentions,
    }


def _recipient(order: Order) -> dict:
    payer = order.payer
    if payer is None:
        return {"name": "", "address": ""}
    address = payer.household.addresses.filter(valid_until__isnull=True).first()
    return {
        "name": payer.full_name,
        "address": (
            f"{address.line1}\n{address.line2 + chr(10) if address.line2 else ''}"
            f"{address.postcode} {address.commune.name}"
            if address
            else ""
        ),
    }


def _line_block(line: OrderLine) -> dict:
    return {
        "label": line.label,
        "explanation": line.explanation,
        "beneficiary": line.beneficiary.first_name if line.beneficiary_id else "",
        "quantity": line.quantity,
        "unit_price_cents": line.unit_price_cents,
        "total_cents": line.total_cents,
    }


def _payment_block(payment: Payment) -> dict:
    return {
        "method": payment.method,
        "provider": payment.provider,
        "reference": payment.public_id,
        "at": (payment.succeeded_at or timezone.now()).isoformat(),
        "channel": payment.order.channel,
    }


def _issue_payment_documents(order: Order, payment: Payment, lines: list[OrderLine]) -> None:
    """One invoice (paid) and one receipt per régie of the order, in the payment's
    transaction."""
    by_regie: dict[Regie, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_regie[line.regie].append(line)
    for regie, regie_lines in sorted(by_regie.items(), key=lambda item: item[0].pk):
        total = sum(line.total_cents for line in regie_lines)
        content = {
            "regie": _regie_block(regie),
            "recipient": _recipient(order),
            "order": order.public_id,
            "lines": [_line_block(line) for line in regie_lines],
            "total_cents": total,
            "payment": _payment_block(payment),
        }
        invoice = issue_document(
            kind=Document.Kind.INVOICE,
            regie=regie,
            order=order,
            payment=payment,
            amount_cents=total,
            content=content,
        )
        issue_document(
            kind=Document.Kind.RECEIPT,
            regie=regie,
            order=order,
            payment=payment,
            amount_cents=total,
            content={**content, "invoice": invoice.reference},
        )


def _issue_credit_note(refund: Refund, payment: Payment, allocation: list[tuple]) -> None:
    by_regie: dict[Regie, list] = defaultdict(list)
    for line, share in allocation:
        by_regie[line.regie].append((line, share))
    for regie, shares in sorted(by_regie.items(), key=lambda item: item[0].pk):
        issue_document(
            kind=Document.Kind.CREDIT_NOTE,
            regie=regie,
            order=payment.order,
            payment=payment,
            refund=refund,
            amount_cents=sum(share for _line, share in shares),
            content={
                "regie": _regie_block(regie),
                "recipient": _recipient(payment.order),
                "order": payment.order.public_id,
                "lines": [
                    {
                        **_line_block(line),
                        "total_cents": share,
                        "quantity": 1,
                        "unit_price_cents": share,
                    }
                    for line, share in shares
                ],
                "total_cents": sum(share for _line, share in shares),
                "payment": _payment_block(payment),
                "refund": {
                    "destination": refund.destination,
                    "reason": refund.reason,
                },
            },
        )


# --- Fulfilment ------------------------------------------------------------------------------


def fulfil_order(order_id: int) -> int:
    """Fulfil the paid lines not fulfilled yet and undo the refunded ones not undone yet, each
    line in its own transaction with its row locked: exactly once each. A handler that raises
    leaves its line for the next try (the sweeper), except `fulfilment.CannotFulfil`: the line
    is then undeliverable, refunded and never tried again (`_mark_undeliverable`). Returns how
    many lines changed."""
    changed = 0
    line_ids = list(
        OrderLine.objects.filter(order_id=order_id)
        .filter(
            Q(
                fulfilled_at__isnull=True,
                undo_requested_at__isnull=True,
                undeliverable_at__isnull=True,
            )
            | Q(undo_requested_at__isnull=False, undone_at__isnull=True)
        )
        .values_list("pk", flat=True)
    )
    for line_id in line_ids:
        try:
            with transaction.atomic():
                changed += _apply_line(line_id)
        except fulfilment.CannotFulfil as error:  # never deliverable: refunded, not retried
            marked = _mark_undeliverable(line_id, error)
            if marked is None:
                _record_failed_attempt(line_id, error)
            else:
                changed += marked
        except Exception as error:  # a handler failed: retried later
            logger.exception("fulfilment of line=%s failed", line_id)
            _record_failed_attempt(line_id, error)
    return changed


def _record_failed_attempt(line_id: int, error: Exception) -> None:
    OrderLine.objects.filter(pk=line_id).update(
        attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:300]
    )


def _mark_undeliverable(line_id: int, error: fulfilment.CannotFulfil) -> int | None:
    """The handler says this paid line can never be delivered: mark it undeliverable (never
    retried), refund it automatically and tell the payer. Exactly once per line: the line row is
    locked and its mark checked, and the refund's idempotency key is derived from the line.

    The refund goes back to the card through the provider when the payment was by card online
    or at a kiosk, else (cash or cheque at the desk) to the payer's wallet; it gets its credit
    note like any refund. A card refund the provider cannot take now stays pending and the
    sweeper retries it. Returns 1 when marked, 0 when already handled, None when the line is
    not a paid line waiting for its fulfilment (the error is then a plain failed attempt)."""
    refund = None
    with transaction.atomic():
        order_id = OrderLine.objects.values_list("order_id", flat=True).get(pk=line_id)
        # The payment first, then the line: the order refund_payment takes its locks in.
        payment = (
            Payment.objects.select_for_update()
            .filter(order_id=order_id, status=Payment.Status.SUCCEEDED, duplicate=False)
            .order_by("pk")
            .first()
        )
        line = OrderLine.objects.select_for_update().select_related("order").get(pk=line_id)
        if line.undeliverable_at is not None:
            return 0
        if line.fulfilled_at is not None or line.undo_requested_at is not None:
            return None
        order = line.order
        line.undeliverable_at = timezone.now()
        line.undeliverable_reason = (error.reason or "")[:60]
        line.attempts += 1
        line.last_error = f"CannotFulfil: {error.reason}"[:300]
        line.save(
            update_fields=["undeliverable_at", "undeliverable_reason", "attempts", "last_error"]
        )
        record_audit_entry(
            actor=None,
            action="payments.line_undeliverable",
            person=order.payer,
            target=f"order:{order.public_id}",
            reason=AccessReason.PAYMENT,
            channel=AuditEntry.Channel.SYSTEM,
        )
        if payment is not None:
            refund = _refund_undeliverable_line(payment, line)
        logger.warning(
            "line=%s of order=%s undeliverable (%s): refund=%s",
            line.pk,
            order.pk,
            line.undeliverable_reason,
            refund.pk if refund else None,
        )
    if refund is not None and refund.status == Refund.Status.PENDING:
        try:
            _refund_through_provider(refund)
        except DomainError as refused:
            logger.warning(
                "refund=%s of line=%s not done yet: %s", refund.pk, line_id, refused.code
            )
    # Once the provider answered, so that the credit note goes with the email (at once outside
    # a transaction, after commit inside one).
    transaction.on_commit(lambda: enqueue_undeliverable_email(line_id))
    return 1


def _refund_undeliverable_line(payment: Payment, line: OrderLine) -> Refund | None:
    """Book the refund of an undeliverable line (payment and line locked by the caller)."""
    amount = min(line.refundable_cents, payment.refundable_cents)
    if amount <= 0:
        return None  # a régisseur already gave it back
    order = line.order
    if payment.method == Payment.Method.CARD and payment.provider != "desk":
        destination = Refund.Destination.CARD
    elif order.payer_id is not None and line.handler != fulfilment.WALLET_TOPUP:
        destination = Refund.Destination.WALLET
    else:
        logger.error(
            "line=%s undeliverable: no card nor wallet to refund, left to the régie", line.pk
        )
        return None
    with translation.override(settings.LANGUAGE_CODE):  # data, in the territory's language
        reason = _("Could not be delivered: refunded automatically")
    refund = Refund.objects.create(
        payment=payment,
        amount_cents=amount,
        destination=destination,
        idempotency_key=fulfilment.undeliverable_refund_key(line.pk),
        reason=reason,
    )
    payment.refunded_cents += amount
    payment.save(update_fields=["refunded_cents"])
    _book_refund(refund, payment, [line.pk])
    if destination != Refund.Destination.CARD:
        _finish_refund(refund, payment)
    return refund


def enqueue_undeliverable_email(line_id: int) -> None:
    from .tasks import send_undeliverable_email_task

    try:
        send_undeliverable_email_task.enqueue(line_id=line_id)
    except Exception:
        logger.exception("could not queue the undeliverable email of line=%s", line_id)


def _apply_line(line_id: int) -> int:
    line = OrderLine.objects.select_for_update().select_related("order").get(pk=line_id)
    now = timezone.now()
    paid = line.order.status in (
        Order.Status.PAID,
        Order.Status.PARTIALLY_REFUNDED,
        Order.Status.REFUNDED,
    )
    if line.undo_requested_at is not None:
        if line.undone_at is not None:
            return 0
        if line.fulfilled_at is not None:
            fulfilment.get_handler(line.handler).undo(line)
        line.undone_at = now
        line.attempts += 1
        line.save(update_fields=["undone_at", "attempts"])
        return 1
    if line.fulfilled_at is not None or line.undeliverable_at is not None or not paid:
        return 0
    fulfilment.get_handler(line.handler).fulfil(line)
    line.fulfilled_at = now
    line.attempts += 1
    line.last_error = ""
    line.save(update_fields=["fulfilled_at", "attempts", "last_error"])
    return 1


def orders_to_sweep(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Paid orders with a line still to fulfil or to undo, paid more than `older_than` ago."""
    cutoff = timezone.now() - older_than
    return list(
        OrderLine.objects.filter(order__paid_at__lt=cutoff)
        .filter(
            Q(
                fulfilled_at__isnull=True,
                undo_requested_at__isnull=True,
                undeliverable_at__isnull=True,
                order__status__in=[Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED],
            )
            | Q(undo_requested_at__isnull=False, undone_at__isnull=True)
        )
        .order_by()
        .values_list("order_id", flat=True)
        .distinct()
    )


def sweep(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """The recovery path (cron, `manage.py payments_sweep`): queue the fulfilment of every
    order a crash or a failing handler left behind, and retry stale card refunds."""
    orders = orders_to_sweep(older_than=older_than)
    for order_id in orders:
        enqueue_fulfilment(order_id)
    retry_pending_refunds()
    return orders
