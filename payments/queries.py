"""Reads of the payments floor shared by pages, API and tasks. No writes."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from identity.models import Person, User
from identity.permissions import can_act_for, person_of

from . import fulfilment
from .ledger import format_cents
from .models import (
    BasketAddition,
    Channel,
    Document,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Order,
    OrderLine,
    Payment,
    ProviderPayout,
    Refund,
)

logger = logging.getLogger(__name__)


def wallet_balance(person_id: int) -> int:
    """The balance of a person's wallet in cents, derived from its entries (0 without one)."""
    total = LedgerEntry.objects.filter(
        account__kind=LedgerAccount.Kind.WALLET, account__person_id=person_id
    ).aggregate(total=Sum("amount_cents"))["total"]
    return -(total or 0)


def wallet_blocks_removal(person: Person, day: date) -> str | None:
    """identity's removal check: money left on a member's wallet is spent or refunded first."""
    balance = wallet_balance(person.pk)
    if balance <= 0:
        return None
    return _("%(amount)s remain on the wallet") % {"amount": format_cents(balance)}


def account_balance(account: LedgerAccount) -> int:
    """An account's balance in its normal direction, derived from the entries."""
    total = account.entries.aggregate(total=Sum("amount_cents"))["total"] or 0
    return -total if account.credit_normal else total


@dataclass
class WalletLine:
    at: datetime
    label: str
    amount_cents: int  # + credited to the wallet, - spent


def wallet_history(person_id: int, *, limit: int = 50) -> list[WalletLine]:
    entries = (
        LedgerEntry.objects.filter(
            account__kind=LedgerAccount.Kind.WALLET, account__person_id=person_id
        )
        .select_related("transaction")
        .order_by("-transaction__at", "-pk")[:limit]
    )
    labels = {
        LedgerTransaction.Kind.PAYMENT: _("Top-up"),
        LedgerTransaction.Kind.DESK: _("Top-up at the desk"),
        LedgerTransaction.Kind.WALLET_SPEND: _("Spent"),
        LedgerTransaction.Kind.REFUND: _("Refund"),
        LedgerTransaction.Kind.ADJUSTMENT: _("Adjustment"),
    }
    history = []
    for entry in entries:
        txn = entry.transaction
        label = str(labels.get(txn.kind, txn.get_kind_display()))
        if txn.kind == LedgerTransaction.Kind.WALLET_SPEND and txn.reference:
            label = f"{label} — {txn.reference}"
        history.append(WalletLine(at=txn.at, label=label, amount_cents=-entry.amount_cents))
    return history


def ledger_discrepancies() -> list[tuple[str, int, int]]:
    """Wallets whose cached balance differs from the sum of their entries: (code, cached,
    derived). Empty when the books are right (checked by tests and the reconciliation)."""
    derived = dict(
        LedgerEntry.objects.filter(account__kind=LedgerAccount.Kind.WALLET)
        .values_list("account_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account_id", "total")
    )
    wrong = []
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.WALLET):
        expected = -(derived.get(account.pk) or 0)
        if account.balance_cents != expected:
            wrong.append((account.code, account.balance_cents, expected))
    return wrong


def unbalanced_transactions() -> list[int]:
    """Transactions whose entries do not sum to zero (must always be empty)."""
    return list(
        LedgerEntry.objects.values("transaction_id")
        .annotate(total=Sum("amount_cents"))
        .exclude(total=0)
        .values_list("transaction_id", flat=True)
    )


# --- What a resident sees ------------------------------------------------------------------


def people_i_pay_for(user: User) -> list[Person]:
    """The user's person and the children they are a guardian of (their wallets)."""
    own = person_of(user)
    if own is None:
        return []
    children = Person.objects.filter(guardians__guardian=own).order_by("birth_date", "pk")
    return [own, *children]


def can_see_order(user: User, order: Order) -> bool:
    """The buyer, the payer, or a guardian of the payer sees an order and its documents."""
    if not user.is_authenticated:
        return False
    if order.buyer_id == user.pk:
        return True
    return order.payer is not None and can_act_for(user, order.payer)


def orders_of(user: User):
    people = people_i_pay_for(user)
    return (
        Order.objects.filter(Q(buyer=user) | Q(payer__in=people))
        .exclude(status=Order.Status.CANCELLED)
        .prefetch_related("lines__beneficiary", "documents")
        .distinct()
        .order_by("-created_at", "-pk")
    )


def basket_of(user: User) -> Order | None:
    """The user's open basket (a web order no payment attempt has started), or None."""
    if not user.is_authenticated:
        return None
    return Order.objects.filter(buyer=user, basket=True).first()


def basket_addition(*, buyer: User, idempotency_key: str) -> Order | None:
    """The order an `add_to_basket` with this key already filled, or None."""
    addition = (
        BasketAddition.objects.filter(buyer=buyer, idempotency_key=idempotency_key)
        .select_related("order")
        .first()
    )
    return addition.order if addition is not None else None


def basket_size(user: User) -> int:
    """How many lines the user's basket holds (0 without one): one query, for the header."""
    if not user.is_authenticated:
        return 0
    return OrderLine.objects.filter(order__buyer=user, order__basket=True).count()


@dataclass
class CheckoutLine:
    line: OrderLine
    notice: str = ""  # what the line's service says stands in the way (an expired hold)


def checkout_lines(order: Order) -> list[CheckoutLine]:
    """The lines of an order as the checkout page shows them, each with its service's notice
    while the order is unpaid (`payments.fulfilment` `check` hook; a failing hook says
    nothing)."""
    lines = list(order.lines.select_related("beneficiary"))
    rows = []
    for line in lines:
        notice = ""
        if order.status == Order.Status.PENDING and fulfilment.is_registered(line.handler):
            check = fulfilment.get_handler(line.handler).check
            if check is not None:
                try:
                    notice = check(line) or ""
                except Exception:
                    logger.exception("check of line=%s failed", line.pk)
        rows.append(CheckoutLine(line=line, notice=str(notice)))
    return rows


def documents_of(user: User):
    people = people_i_pay_for(user)
    return (
        Document.objects.filter(Q(order__buyer=user) | Q(order__payer__in=people))
        .select_related("regie", "order")
        .distinct()
        .order_by("-issued_at", "-pk")
    )


# --- What a régisseur sees -------------------------------------------------------------------


def payments_list(
    *,
    status: str = "",
    provider: str = "",
    channel: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
    search: str = "",
):
    qs = Payment.objects.select_related("order", "order__payer").order_by("-created_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    if provider:
        qs = qs.filter(provider=provider)
    if channel:
        qs = qs.filter(order__channel=channel)
    if day_from:
        qs = qs.filter(created_at__gte=_start_of(day_from))
    if day_to:
        qs = qs.filter(created_at__lt=_start_of(day_to + timedelta(days=1)))
    if search:
        qs = qs.filter(
            Q(public_id=search)
            | Q(order__public_id=search)
            | Q(provider_reference=search)
            | Q(order__payer__last_name__icontains=search)
        )
    return qs


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Reconciliation:
    day: date
    rows: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    refunds_cents: int = 0
    wallet_spend_cents: int = 0
    payouts: list[dict] = field(default_factory=list)
    # per provider: collected and not paid out yet, derived from the ledger at the end of the day
    clearing: dict[str, int] = field(default_factory=dict)
    ledger_balanced: bool = True


def _bucket(payment: Payment) -> str:
    if payment.method in (Payment.Method.CASH, Payment.Method.CHEQUE):
        return f"desk_{payment.method}"
    return payment.order.channel


BUCKET_LABELS = {
    Channel.WEB: gettext_lazy("Online"),
    Channel.KIOSK: gettext_lazy("Kiosk"),
    "desk_cash": gettext_lazy("Desk — cash"),
    "desk_cheque": gettext_lazy("Desk — cheque"),
    Channel.DESK: gettext_lazy("Desk — card"),
}


def daily_reconciliation(day: date) -> Reconciliation:
    """The succeeded payments of a local day by channel (online, kiosk, desk cash and cheque),
    the refunds, the wallet spending, and each provider payout arriving that day matched with
    the ledger: its amount plus fees must equal the payments minus the refunds it settles."""
    start, end = _start_of(day), _start_of(day + timedelta(days=1))
    report = Reconciliation(day=day)
    payments = (
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end
        )
        .select_related("order")
        .order_by("succeeded_at", "pk")
    )
    sums: dict[str, list[int]] = {key: [0, 0] for key in BUCKET_LABELS}
    for payment in payments:
        bucket = _bucket(payment)
        sums.setdefault(bucket, [0, 0])
        sums[bucket][0] += 1
        sums[bucket][1] += payment.amount_cents
        report.rows.append(
            {
                "time": timezone.localtime(payment.succeeded_at).strftime("%H:%M"),
                "reference": payment.public_id,
                "order": payment.order.public_id,
                "provider": payment.provider,
                "provider_reference": payment.provider_reference or "",
                "channel": payment.order.channel,
                "bucket": bucket,
                "channel_label": str(BUCKET_LABELS.get(bucket, bucket)),
                "method": payment.method,
                "method_label": str(Payment.Method(payment.method).label),
                "amount_cents": payment.amount_cents,
                "refunded_cents": payment.refunded_cents,
                "payout": payment.payout.provider_reference if payment.payout_id else "",
            }
        )
    report.totals = [
        {"key": key, "label": str(BUCKET_LABELS.get(key, key)), "count": c, "amount_cents": a}
        for key, (c, a) in sums.items()
    ]
    report.refunds_cents = (
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED, completed_at__gte=start, completed_at__lt=end
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    report.wallet_spend_cents = (
        LedgerEntry.objects.filter(
            transaction__kind=LedgerTransaction.Kind.WALLET_SPEND,
            transaction__at__gte=start,
            transaction__at__lt=end,
            amount_cents__gt=0,
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    for payout in ProviderPayout.objects.filter(arrival_date=day).prefetch_related("payments"):
        settled = list(payout.payments.all())
        paid = sum(p.amount_cents for p in settled)
        refunded = (
            Refund.objects.filter(payment__in=settled, status=Refund.Status.SUCCEEDED).aggregate(
                total=Sum("amount_cents")
            )["total"]
            or 0
        )
        report.payouts.append(
            {
                "provider": payout.provider,
                "reference": payout.provider_reference,
                "amount_cents": payout.amount_cents,
                "fee_cents": payout.fee_cents,
                "payments_cents": paid,
                "refunds_cents": refunded,
                "payments": len(settled),
                "matched": payout.amount_cents + payout.fee_cents == paid - refunded,
            }
        )
    for account in LedgerAccount.objects.filter(kind=LedgerAccount.Kind.CLEARING):
        report.clearing[account.provider] = (
            account.entries.filter(transaction__at__lt=end).aggregate(total=Sum("amount_cents"))[
                "total"
            ]
            or 0
        )
    report.ledger_balanced = not unbalanced_transactions() and not ledger_discrepancies()
    return report


RECONCILIATION_COLUMNS = [
    "time",
    "reference",
    "order",
    "channel",
    "method",
    "provider",
    "provider_reference",
    "amount_cents",
    "refunded_cents",
    "payout",
]


def reconciliation_csv_rows(report) -> list[list]:
    """The daily reconciliation as spreadsheet rows under RECONCILIATION_COLUMNS: one row per
    movement, then the totals per channel, the payouts matched against the payments they
    settle, and each provider's clearing balance, each block under its own title row."""
    rows: list[list] = [[row[column] for column in RECONCILIATION_COLUMNS] for row in report.rows]
    rows += [[], ["total", "channel", "count", "amount_cents"]]
    rows += [["total", t["key"], t["count"], t["amount_cents"]] for t in report.totals]
    rows += [
        ["refunds", "", "", report.refunds_cents],
        ["wallet_spend", "", "", report.wallet_spend_cents],
        [],
        [
            "payout",
            "provider",
            "amount_cents",
            "fee_cents",
            "payments_cents",
            "refunds_cents",
            "matched",
        ],
    ]
    rows += [
        [
            payout["reference"],
            payout["provider"],
            payout["amount_cents"],
            payout["fee_cents"],
            payout["payments_cents"],
            payout["refunds_cents"],
            "yes" if payout["matched"] else "no",
        ]
        for payout in report.payouts
    ]
    rows += [[], ["clearing", "provider", "", "balance_cents"]]
    rows += [["clearing", provider, "", balance] for provider, balance in report.clearing.items()]
    return rows
