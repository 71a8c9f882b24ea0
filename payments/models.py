"""Régies, the double-entry ledger, wallets, orders, payments, refunds, provider events and
payouts, and the numbered documents (invoices and receipts).

Money is an integer number of cents (EUR). The ledger is append-only: a `LedgerTransaction`
holds `LedgerEntry` rows whose signed amounts sum to zero (debit positive, credit negative);
only `payments.ledger.post` writes them, and on PostgreSQL a deferred constraint trigger
refuses an unbalanced transaction at commit (migration 0001). Balances are derived from the
entries; a wallet also keeps a row-locked cached balance (never below zero, a CHECK constraint)
that `payments.queries.ledger_discrepancies` compares with the sum of its entries."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from identity.models import AppendOnlyModel, Person, PublicIdField, User, short_date

from .money import format_cents

CURRENCY = "EUR"


class Regie(models.Model):
    """A collection office (régie de recettes): it collects the money of one or more services
    and numbers its own invoices and receipts. Holds what a French public invoice must say."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    collectivite = models.CharField(_("public body"), max_length=120)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=5)
    city = models.CharField(_("city"), max_length=100)
    siret = models.CharField(_("SIRET"), max_length=14)
    email = models.EmailField(_("email"), blank=True)
    regisseur_name = models.CharField(_("régisseur"), max_length=120, blank=True)
    # The régie that holds residents' prepaid wallets (top-ups are paid to it).
    holds_wallets = models.BooleanField(_("holds the wallets"), default=False)
    vat_mention = models.CharField(
        _("VAT mention"), max_length=200, default="TVA non applicable, article 293 B du CGI"
    )
    legal_mentions = models.TextField(
        _("other legal mentions"),
        blank=True,
        default=(
            "Régie de recettes instituée par arrêté de la collectivité. "
            "Paiement reçu pour le compte du comptable public."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("régie")
        verbose_name_plural = _("régies")

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, f"{self.postcode} {self.city}"]
        return "\n".join(part for part in parts if part)


# --- The ledger ------------------------------------------------------------------------------


class LedgerAccount(models.Model):
    """An account of the double-entry ledger. Assets (clearing, cash, cheque, bank, fees,
    disputes, refunds) are debit-normal; wallets, revenue and suspense are credit-normal.
    `balance` is in the account's normal direction."""

    class Kind(models.TextChoices):
        WALLET = "wallet", _("Wallet")
        CLEARING = "clearing", _("Provider clearing")
        REVENUE = "revenue", _("Revenue")
        REFUNDS = "refunds", _("Refunds")
        CASH = "cash", _("Cash at the desk")
        CHEQUE = "cheque", _("Cheques at the desk")
        BANK = "bank", _("Bank (payouts)")
        FEES = "fees", _("Provider fees")
        DISPUTES = "disputes", _("Disputes")
        SUSPENSE = "suspense", _("Unallocated receipts")

    CREDIT_NORMAL = frozenset({Kind.WALLET, Kind.REVENUE, Kind.SUSPENSE})

    code = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    person = models.OneToOneField(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="wallet_account"
    )
    regie = models.ForeignKey(
        Regie, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    provider = models.CharField(max_length=20, blank=True)
    # Cached for wallets only (row-locked by every posting touching it); the sum of the entries
    # is the truth and `queries.ledger_discrepancies` checks the two agree.
    balance_cents = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(balance_cents__gte=0),
                name="wallet_never_below_zero",
            ),
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(person__isnull=False),
                name="wallet_has_a_person",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def credit_normal(self) -> bool:
        return self.kind in self.CREDIT_NORMAL


class LedgerTransaction(AppendOnlyModel):
    """One balanced movement of money. Written only by `payments.ledger.post`."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        WALLET_SPEND = "wallet_spend", _("Wallet spending")
        REFUND = "refund", _("Refund")
        DISPUTE = "dispute", _("Dispute")
        DESK = "desk", _("Desk payment")
        PAYOUT = "payout", _("Provider payout")
        ADJUSTMENT = "adjustment", _("Adjustment")

    public_id = PublicIdField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    description = models.CharField(max_length=200, blank=True)
    regie = models.ForeignKey(
        Regie, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.ForeignKey(
        "Order", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    payment = models.ForeignKey(
        "Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    refund = models.ForeignKey(
        "Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    payout = models.ForeignKey(
        "ProviderPayout",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    # A retried gate or kiosk request carries the same key and gets the first transaction back.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    reference = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, {short_date(self.at)}"


class LedgerEntry(AppendOnlyModel):
    """One line of a transaction: a signed amount on one account (debit > 0, credit < 0)."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_cents = models.BigIntegerField()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["account", "transaction"])]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="entry_is_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account.get_kind_display()} — {format_cents(self.amount_cents)}"


# --- Orders ------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    WEB = "web", _("Online")
    KIOSK = "kiosk", _("Kiosk")
    DESK = "desk", pgettext_lazy("payment channel", "Desk")  # "Accueil": not a facility's desk


class Order(models.Model):
    """Lines of one or several régies, paid at once.

    Online, a resident's purchases gather in their basket (`basket` true: a web order awaiting
    payment on which no payment attempt has started; at most one per buyer): lines are added
    (`payments.actions.basket.add_to_basket`) and removed (`remove_from_basket`) until the first
    payment attempt closes it (`start_payment`); later purchases open a new basket. Kiosks and
    desks pay at once: their orders are never baskets. An emptied basket is cancelled with a
    total of zero."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    public_id = PublicIdField()
    buyer = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    # The person paying (wallet refunds go back to them); a kiosk order has no login.
    payer = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    total_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=CURRENCY)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_cents = models.PositiveIntegerField(default=0)
    # The buyer's open basket: lines may still be added or removed (no payment attempt yet).
    basket = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            # Only an emptied basket, cancelled, is left with nothing to pay.
            models.CheckConstraint(
                condition=Q(total_cents__gt=0) | Q(status="cancelled"),
                name="order_total_positive",
            ),
            models.CheckConstraint(
                condition=Q(basket=False) | Q(status="pending", channel="web"),
                name="basket_is_a_pending_web_order",
            ),
            models.UniqueConstraint(
                fields=["buyer"], condition=Q(basket=True), name="one_basket_per_buyer"
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("total_cents")),
                name="order_refund_within_total",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Order of %(when)s, %(amount)s") % {
            "when": short_date(self.created_at),
            "amount": format_cents(self.total_cents),
        }


class OrderLine(models.Model):
    """What is bought. `handler` names the fulfilment handler a service registered
    (`payments.fulfilment`); `payload` is for that handler only."""

    public_id = PublicIdField()  # a basket's "Remove" button names it
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    regie = models.ForeignKey(Regie, on_delete=models.PROTECT, related_name="order_lines")
    label = models.CharField(max_length=200)
    explanation = models.CharField(max_length=200, blank=True)  # "Tarif résident, enfant, QF 1"
    handler = models.CharField(max_length=80)
    payload = models.JSONField(default=dict, blank=True)
    beneficiary = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(default=1)
    unit_price_cents = models.PositiveIntegerField()
    refunded_cents = models.PositiveIntegerField(default=0)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    undo_requested_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    # The service said it can never deliver this line (payments.fulfilment.CannotFulfil): it is
    # not retried and is refunded automatically, once.
    undeliverable_at = models.DateTimeField(null=True, blank=True)
    undeliverable_reason = models.CharField(max_length=60, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price_cents__gt=0), name="line_unit_price_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def total_cents(self) -> int:
        return self.quantity * self.unit_price_cents

    @property
    def refundable_cents(self) -> int:
        return self.total_cents - self.refunded_cents


class BasketAddition(models.Model):
    """An `add_to_basket` request already applied, by its key: a form submitted twice adds its
    lines once. Kept when the lines are later removed or paid."""

    buyer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("basket addition")
        verbose_name_plural = _("basket additions")
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"], name="one_basket_addition_per_key"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Added to the basket: %(order)s") % {"order": self.order}


# --- Payments ----------------------------------------------------------------------------------


class Payment(models.Model):
    """One attempt to pay an order through a provider (`demo`, `stripe`, `desk`)."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        PENDING = "pending", _("Awaiting the provider")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Abandoned")

    class Method(models.TextChoices):
        CARD = "card", _("Bank card")
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        WALLET = "wallet", _("Wallet")

    public_id = PublicIdField()
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=255, null=True, blank=True)
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.CARD)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default=CURRENCY)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    idempotency_key = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    refunded_cents = models.PositiveIntegerField(default=0)
    disputed_cents = models.PositiveIntegerField(default=0)
    # Paid for an order another payment had already paid: the money waits in suspense.
    duplicate = models.BooleanField(default=False)
    payout = models.ForeignKey(
        "ProviderPayout", on_delete=models.SET_NULL, null=True, blank=True, related_name="payments"
    )
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="unique_provider_reference"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Payment of %(amount)s, %(when)s") % {
            "amount": format_cents(self.amount_cents),
            "when": short_date(self.created_at),
        }

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


class Refund(models.Model):
    """Money given back: to the card through the provider, or to the payer's wallet."""

    class Destination(models.TextChoices):
        CARD = "card", _("To the card (provider)")
        WALLET = "wallet", _("To the wallet")
        CASH = "cash", _("In cash at the desk")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    public_id = PublicIdField()
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    destination = models.CharField(max_length=10, choices=Destination.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider_reference = models.CharField(max_length=255, null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=300, blank=True)
    lines = models.ManyToManyField(OrderLine, blank=True, related_name="refunds")
    allocation = models.JSONField(default=dict, blank=True)  # {line id: cents} it gives back
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_positive"),
        ]

    def __str__(self) -> str:
        return gettext("Refund of %(amount)s, %(when)s") % {
            "amount": format_cents(self.amount_cents),
            "when": short_date(self.created_at),
        }

    @property
    def provider(self) -> str:
        return self.payment.provider


class ProviderEvent(models.Model):
    """A provider event (webhook) already acted upon: each event id is processed once. Written
    in the same transaction as its effect."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=60, blank=True)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="unique_provider_event"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class ProviderPayout(models.Model):
    """Money the provider transferred to the public treasury's bank account: the sum of the
    payments it settles, minus refunds and fees. Reconciliation matches it to ledger entries."""

    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=255)
    amount_cents = models.BigIntegerField()
    fee_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default=CURRENCY)
    arrival_date = models.DateField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("provider payout")
        verbose_name_plural = _("provider payouts")
        ordering = ["-arrival_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="unique_payout_reference"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Payout of %(amount)s, %(when)s") % {
            "amount": format_cents(self.amount_cents),
            "when": short_date(self.arrival_date),
        }


# --- Numbered documents ------------------------------------------------------------------------


class DocumentSequence(models.Model):
    """The next number of a régie's invoices or receipts for a year. Row-locked while a number
    is taken, in the transaction that writes the document: numbers never skip."""

    regie = models.ForeignKey(Regie, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("document number sequence")
        verbose_name_plural = _("document number sequences")
        constraints = [
            models.UniqueConstraint(fields=["regie", "kind", "year"], name="one_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.regie_id}:{self.kind}:{self.year}"


class Document(AppendOnlyModel):
    """An invoice or a receipt: its content is frozen when issued (the PDF is drawn from it)."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        RECEIPT = "receipt", _("Receipt")
        CREDIT_NOTE = "credit", _("Credit note")

    PREFIX = {Kind.INVOICE: "F", Kind.RECEIPT: "R", Kind.CREDIT_NOTE: "A"}

    public_id = PublicIdField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    regie = models.ForeignKey(Regie, on_delete=models.PROTECT, related_name="documents")
    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=40, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="documents")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    amount_cents = models.PositiveIntegerField()
    issued_at = models.DateTimeField(default=timezone.now)
    content = models.JSONField()  # recipient, lines, payment method, régie mentions, frozen

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["regie", "kind", "year", "number"], name="unique_document_number"
            ),
        ]

    def __str__(self) -> str:
        return self.reference
