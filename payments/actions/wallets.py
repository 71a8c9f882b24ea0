"""Wallets: top-ups (an order, or a line in the basket), spending at a gate, and paying an
order (a monthly invoice, a basket) from the wallet."""

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from identity.actions.audit import record_audit_entry
from identity.errors import Conflict, DomainError, Forbidden
from identity.models import AccessReason, Person, User
from identity.permissions import can_act_for, person_of
from payments import fulfilment, ledger, queries
from payments.errors import InsufficientFunds
from payments.models import Channel, LedgerAccount, LedgerTransaction, Order, Payment, Regie

from .basket import add_to_basket
from .checkout import close_basket
from .inputs import MAX_TOPUP_CENTS, check_amount, check_key
from .orders import LineInput, create_order
from .settlement import after_payment, settle

Kind = LedgerAccount.Kind
TxnKind = LedgerTransaction.Kind


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
    check_key(idempotency_key)
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


def refund_wallet_spending(
    *, spending_key: str, amount_cents: int, refund_key: str
) -> LedgerTransaction:
    """Give back to the wallet `amount_cents` of what the spending `spending_key` took (a
    prepaid day cancelled before its deadline: one day of a spending that paid several), from
    the régie's refunds account, in the caller's transaction. The same `refund_key` returns
    the first refund; never more than the spending took."""
    check_key(refund_key)
    existing = LedgerTransaction.objects.filter(idempotency_key=refund_key).first()
    if existing is not None:
        return existing
    spending = (
        LedgerTransaction.objects.filter(idempotency_key=spending_key, kind=TxnKind.WALLET_SPEND)
        .select_related("regie")
        .first()
    )
    if spending is None:
        raise DomainError(_("Nothing was paid from the wallet for this."), code="no_spending")
    wallet_entry = spending.entries.select_related("account").get(account__kind=Kind.WALLET)
    if not 0 < amount_cents <= wallet_entry.amount_cents:  # the wallet was debited: positive
        raise DomainError(_("Invalid amount."), field="amount_cents")
    return ledger.post(
        kind=TxnKind.REFUND,
        entries=[
            (ledger.regie_account(Kind.REFUNDS, spending.regie), amount_cents),
            (wallet_entry.account, -amount_cents),
        ],
        regie=spending.regie,
        idempotency_key=refund_key,
        reference=spending.reference,
        description=f"refund of {spending.reference}"[:200],
    )


def wallet_payment_key(*, payer: User, order: Order, attempt: int) -> str:
    """The key of a payment from the wallet started from an order's page: made by the server
    from the account, the order and the attempt the page was drawn for (a double click: one
    payment), like `checkout.checkout_key`."""
    return f"wallet:{payer.pk}:{order.public_id}:{attempt}"


def pay_order_from_wallet(
    *,
    actor: User,
    order: Order,
    idempotency_key: str,
    expected_total_cents: int | None = None,
) -> Payment:
    """Pay the whole of an order awaiting payment (a monthly invoice, a basket) from the
    actor's own wallet: the payment succeeds at once, like a desk payment, through `settle`
    (the wallet row locked by the ledger: two payments at once never spend the same euros),
    and gets its receipt. A basket is closed by it as by a card payment (`close_basket`, with
    the total the resident saw). `InsufficientFunds` (field "amount_cents") when the balance is
    short: nothing is written, the basket stays open. The same key returns the first payment."""
    if not queries.can_see_order(actor, order):
        raise Forbidden(_("This order is not yours."))
    person = person_of(actor)
    if person is None:
        raise Forbidden(_("Only a resident pays from their wallet."))
    check_key(idempotency_key)
    existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise Conflict(_("This request was already used."), field="idempotency_key")
        return existing
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING:
            raise Conflict(_("This order is not awaiting payment."), code="order_not_payable")
        if locked.lines.filter(handler=fulfilment.WALLET_TOPUP).exists():
            raise DomainError(
                _("A wallet top-up is not paid from the wallet."), field="amount_cents"
            )
        close_basket(locked, expected_total_cents=expected_total_cents)
        payment = Payment.objects.create(
            order=locked,
            provider="wallet",
            method=Payment.Method.WALLET,
            provider_reference=f"wallet-{secrets.token_hex(8)}",
            amount_cents=locked.total_cents,
            idempotency_key=idempotency_key,
            recorded_by=actor,
        )
        settle(payment, source=ledger.wallet_account(person))
        record_audit_entry(
            actor=actor,
            action="payments.wallet_payment",
            person=person,
            target=f"payment:{payment.public_id}",
            reason=AccessReason.PAYMENT,
        )
    after_payment(payment)
    return payment
