"""Reads of the payments floor shared by pages, API and tasks. No writes."""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from identity.models import Person, User
from identity.permissions import can_act_for, person_of

from . import fulfilment, labels
from .models import (
    BasketAddition,
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
from .money import format_cents

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


def can_cancel_order(user: User, order: Order) -> bool:
    """Its buyer gives up an order awaiting payment, unless an invoice was issued for it (a
    monthly bill: the régie corrects it by a credit note); as `orders.cancel_order` checks."""
    return (
        order.status == Order.Status.PENDING
        and order.buyer_id == user.pk
        and not order.documents.filter(kind=Document.Kind.INVOICE).exists()
    )


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
class LineRefund:
    refund: Refund
    amount_cents: int  # this line's share of the refund


@dataclass
class CheckoutLine:
    line: OrderLine
    notice: str = ""  # what the line's service says stands in the way (an expired hold)
    refunds: list[LineRefund] = field(default_factory=list)


def checkout_lines(order: Order) -> list[CheckoutLine]:
    """The lines of an order as its page shows them: while unpaid, each with its service's
    notice (`payments.fulfilment` `check` hook; a failing hook says nothing); once paid, each
    with its share of every refund made or under way (`Refund.allocation`)."""
    lines = list(order.lines.select_related("beneficiary"))
    refunds = (
        Refund.objects.filter(payment__order=order)
        .exclude(status=Refund.Status.FAILED)
        .order_by("created_at", "pk")
    )
    shares: dict[int, list[LineRefund]] = {}
    for refund in refunds:
        for pk, cents in refund.allocation.items():
            shares.setdefault(int(pk), []).append(LineRefund(refund=refund, amount_cents=cents))
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
        rows.append(CheckoutLine(line=line, notice=str(notice), refunds=shares.get(line.pk, [])))
    return rows


@dataclass(frozen=True)
class LineUsage:
    """A paid line some of whose entries were used, and what its unused part is worth."""

    line: OrderLine
    used: int
    total: int
    unused_cents: int


def line_usage(line: OrderLine) -> LineUsage | None:
    """How much of a delivered line was used, from its service (`usage` hook of
    `payments.fulfilment`), or None when none of it was (or nothing is countable).

    The unused part is the line's price pro rata of the entries not used, rounded down to the
    cent (what is given back never exceeds what was not used), less what was refunded on the
    line already: 10 entries for 36,00 € with 7 used → 10,80 €; 3 entries for 10,00 € with
    1 used → 6,66 €."""
    if line.fulfilled_at is None or line.undone_at is not None:
        return None
    if not fulfilment.is_registered(line.handler):
        return None
    usage_of = fulfilment.get_handler(line.handler).usage
    if usage_of is None:
        return None
    try:
        usage = usage_of(line)
    except Exception:
        logger.exception("usage of line=%s failed", line.pk)
        return None
    if usage is None or usage.total <= 0 or usage.used <= 0:
        return None
    used = min(usage.used, usage.total)
    pro_rata = line.total_cents * (usage.total - used) // usage.total
    return LineUsage(
        line=line,
        used=used,
        total=usage.total,
        unused_cents=max(0, pro_rata - line.refunded_cents),
    )


def documents_of(user: User):
    people = people_i_pay_for(user)
    return (
        Document.objects.filter(Q(order__buyer=user) | Q(order__payer__in=people))
        .select_related("regie", "order")
        .distinct()
        .order_by("-issued_at", "-pk")
    )


def invoices_of_order(order: Order, *, regie=None) -> list[Document]:
    """The invoices issued for an order (one per régie), oldest first."""
    qs = Document.objects.filter(order=order, kind=Document.Kind.INVOICE)
    if regie is not None:
        qs = qs.filter(regie=regie)
    return list(qs.select_related("regie").order_by("regie_id", "pk"))


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


# --- The daily reconciliation ------------------------------------------------------------------

# Its words, one home for the page, the PDF and the spreadsheet (each column and block title).
RECONCILIATION_LABELS = {
    "day": gettext_lazy("Date"),
    "time": gettext_lazy("Time"),
    "reference": gettext_lazy("Payment reference"),
    "order": gettext_lazy("Order reference"),
    "regies": gettext_lazy("Régie"),
    "channel": gettext_lazy("Channel"),
    "method": gettext_lazy("Means of payment"),
    "provider": gettext_lazy("Provider"),
    "provider_reference": gettext_lazy("Provider's reference"),
    "amount": gettext_lazy("Amount"),
    "refunded": gettext_lazy("Amount refunded"),
    "payout": gettext_lazy("Payout"),
    "by_regie": gettext_lazy("Totals by régie"),
    "by_channel": gettext_lazy("Receipts by channel"),
    "count": gettext_lazy("Payments"),
    "collected": gettext_lazy("Collected"),
    "net": gettext_lazy("Net"),
    "total": gettext_lazy("Total"),
    "refunds": gettext_lazy("Refunds"),
    "wallet_spend": gettext_lazy("Wallet spending (entries)"),
    "payouts": gettext_lazy("Provider payouts"),
    "fees": gettext_lazy("Fees"),
    "payments_settled": gettext_lazy("Payments settled"),
    "refunds_settled": gettext_lazy("Refunds deducted"),
    "check": pgettext_lazy("reconciliation", "Check"),
    "matched": gettext_lazy("matched"),
    "difference": gettext_lazy("difference"),
    "clearing": gettext_lazy("Collected, not paid out yet (end of day)"),
    "balance": gettext_lazy("Balance"),
    "details": gettext_lazy("Payment details"),
    "ledger_balanced": gettext_lazy("Ledger balanced"),
    "yes": gettext_lazy("yes"),
    "no": gettext_lazy("NO"),
}
# The columns of a payment's row, in the spreadsheet's order.
RECONCILIATION_COLUMNS = [
    "day",
    "time",
    "reference",
    "order",
    "regies",
    "channel",
    "method",
    "provider",
    "provider_reference",
    "amount",
    "refunded",
    "payout",
]
AMOUNT_COLUMNS = frozenset({"amount", "refunded"})


@dataclass
class Reconciliation:
    day: date
    rows: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)  # per channel bucket
    regies: list[dict] = field(default_factory=list)  # per régie, from the lines paid
    refunds_cents: int = 0
    wallet_spend_cents: int = 0
    payouts: list[dict] = field(default_factory=list)
    # per provider: collected and not paid out yet, derived from the ledger at the end of the day
    clearing: dict[str, int] = field(default_factory=dict)
    ledger_balanced: bool = True

    @property
    def regies_total(self) -> dict:
        """The régies' sums; its count is of payments (an order split between two régies
        counts once for each, once here)."""
        return {
            "count": len(self.rows),
            **{
                key: sum(regie[key] for regie in self.regies)
                for key in ("collected_cents", "refunds_cents", "net_cents")
            },
        }


def _bucket(payment: Payment) -> str:
    if payment.method in (Payment.Method.CASH, Payment.Method.CHEQUE):
        return f"desk_{payment.method}"
    return payment.order.channel


def _by_regie(payments: list[Payment], refunds: list[Refund]) -> list[dict]:
    """The day's money per régie: each payment shared out over its order's lines (a line
    belongs to one régie), each refund by the lines it gave back (`Refund.allocation`)."""
    totals: dict[int, dict] = {}

    def total_of(regie) -> dict:
        return totals.setdefault(
            regie.pk,
            {"name": regie.name, "count": 0, "collected_cents": 0, "refunds_cents": 0},
        )

    for payment in payments:
        shares: dict = {}
        for line in payment.order.lines.all():
            shares.setdefault(line.regie, 0)
            shares[line.regie] += line.total_cents
        for regie, cents in shares.items():
            total = total_of(regie)
            total["count"] += 1
            total["collected_cents"] += cents
    refunded_lines = {int(pk) for refund in refunds for pk in refund.allocation}
    lines = OrderLine.objects.select_related("regie").in_bulk(refunded_lines)
    for refund in refunds:
        for pk, cents in refund.allocation.items():
            if int(pk) in lines:
                total_of(lines[int(pk)].regie)["refunds_cents"] += cents
    rows = sorted(totals.values(), key=lambda total: total["name"])
    for total in rows:
        total["net_cents"] = total["collected_cents"] - total["refunds_cents"]
    return rows


def daily_reconciliation(day: date) -> Reconciliation:
    """The succeeded payments of a local day by channel (online, kiosk, desk cash and cheque)
    and by régie, the refunds, the wallet spending, and each provider payout arriving that day
    matched with the ledger: its amount plus fees must equal the payments minus the refunds it
    settles."""
    start, end = _start_of(day), _start_of(day + timedelta(days=1))
    report = Reconciliation(day=day)
    payments = list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end
        )
        .select_related("order", "payout")
        .prefetch_related("order__lines__regie")
        .order_by("succeeded_at", "pk")
    )
    sums: dict[str, list[int]] = {key: [0, 0] for key in labels.BUCKET_LABELS}
    for payment in payments:
        bucket = _bucket(payment)
        sums.setdefault(bucket, [0, 0])
        sums[bucket][0] += 1
        sums[bucket][1] += payment.amount_cents
        at = timezone.localtime(payment.succeeded_at)
        report.rows.append(
            {
                "day": at.date(),
                "time": at.strftime("%H:%M"),
                "reference": payment.public_id,
                "order": payment.order.public_id,
                "regies": ", ".join(
                    sorted({line.regie.name for line in payment.order.lines.all()})
                ),
                "provider": payment.provider,
                "provider_label": labels.provider_label(payment.provider),
                "provider_reference": payment.provider_reference or "",
                "bucket": bucket,
                "channel_label": labels.bucket_label(bucket),
                "method": payment.method,
                "method_label": labels.method_label(payment.method),
                "amount_cents": payment.amount_cents,
                "refunded_cents": payment.refunded_cents,
                "payout": payment.payout.provider_reference if payment.payout_id else "",
            }
        )
    report.totals = [
        {"key": key, "label": labels.bucket_label(key), "count": c, "amount_cents": a}
        for key, (c, a) in sums.items()
    ]
    refunds = list(
        Refund.objects.filter(
            status=Refund.Status.SUCCEEDED, completed_at__gte=start, completed_at__lt=end
        )
    )
    report.refunds_cents = sum(refund.amount_cents for refund in refunds)
    report.regies = _by_regie(payments, refunds)
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
                "provider_label": labels.provider_label(payout.provider),
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


def spreadsheet_euros(cents: int) -> Decimal:
    """Cents as a number of euros the spreadsheet adds up (written `12,50`)."""
    return Decimal(int(cents)).scaleb(-2)


def spreadsheet_day(day: date) -> str:
    """A day as French spreadsheets read one (31/03/2026)."""
    return day.strftime("%d/%m/%Y")


def reconciliation_header() -> list[str]:
    """The headings of RECONCILIATION_COLUMNS, amounts in euros."""
    return [_heading(column) for column in RECONCILIATION_COLUMNS]


def _heading(key: str, *, euros: bool = False) -> str:
    label = str(RECONCILIATION_LABELS[key])
    return f"{label} (€)" if euros or key in AMOUNT_COLUMNS else label


def reconciliation_csv_rows(report: Reconciliation) -> list[list]:
    """The daily reconciliation as the public accountant's spreadsheet reads it, under
    `reconciliation_header()`: one row per payment, then each block (totals by régie, by
    channel, the payouts matched against the payments they settle, each provider's clearing
    balance, the ledger check) under its title row and its headings.

    Amounts are numbers of euros (`spreadsheet_euros`: written with a decimal comma by
    `identity.spreadsheets`), days are 31/03/2026: what a French spreadsheet reads as numbers
    and dates. The file is `;`-separated, French Excel's list separator (the comma is its
    decimal mark), and starts with a UTF-8 BOM, without which Excel reads it as Windows-1252
    and garbles every accent (`csv_response`). Call it inside `labels.in_french()`."""
    label = _heading
    rows: list[list] = []
    for row in report.rows:
        cells = {
            **row,
            "day": spreadsheet_day(row["day"]),
            "channel": row["channel_label"],
            "method": row["method_label"],
            "provider": row["provider_label"],
            "amount": spreadsheet_euros(row["amount_cents"]),
            "refunded": spreadsheet_euros(row["refunded_cents"]),
        }
        rows.append([cells[column] for column in RECONCILIATION_COLUMNS])
    rows += [
        [],
        [label("by_regie")],
        [
            label("regies"),
            label("count"),
            label("collected", euros=True),
            label("refunds", euros=True),
            label("net", euros=True),
        ],
    ]
    for regie in [*report.regies, {"name": label("total"), **report.regies_total}]:
        rows.append(
            [
                regie["name"],
                regie["count"],
                spreadsheet_euros(regie["collected_cents"]),
                spreadsheet_euros(regie["refunds_cents"]),
                spreadsheet_euros(regie["net_cents"]),
            ]
        )
    rows += [
        [],
        [label("by_channel")],
        [label("channel"), label("count"), label("amount", euros=True)],
    ]
    rows += [[t["label"], t["count"], spreadsheet_euros(t["amount_cents"])] for t in report.totals]
    rows += [
        [label("refunds"), "", spreadsheet_euros(report.refunds_cents)],
        [label("wallet_spend"), "", spreadsheet_euros(report.wallet_spend_cents)],
        [],
        [label("payouts")],
        [
            label("payout"),
            label("provider"),
            label("amount", euros=True),
            label("fees", euros=True),
            label("payments_settled", euros=True),
            label("refunds_settled", euros=True),
            label("check"),
        ],
    ]
    rows += [
        [
            payout["reference"],
            payout["provider_label"],
            spreadsheet_euros(payout["amount_cents"]),
            spreadsheet_euros(payout["fee_cents"]),
            spreadsheet_euros(payout["payments_cents"]),
            spreadsheet_euros(payout["refunds_cents"]),
            label("matched" if payout["matched"] else "difference"),
        ]
        for payout in report.payouts
    ]
    rows += [[], [label("clearing")], [label("provider"), label("balance", euros=True)]]
    rows += [
        [labels.provider_label(provider), spreadsheet_euros(balance)]
        for provider, balance in report.clearing.items()
    ]
    rows += [[], [label("ledger_balanced"), label("yes" if report.ledger_balanced else "no")]]
    return rows
