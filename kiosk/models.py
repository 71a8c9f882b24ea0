"""What the kiosk app stores: the reader agents' reported state, the events they report
besides taps (a card removed, a card that is not a Sésame card), and the pairing of kiosk
screens with their reader."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from card.models import Reader
from identity.models import AppendOnlyModel, PublicIdField, User, short_date


def _at(reader: Reader, moment) -> dict:
    """A reader and a moment as an administrator reads them in a row's title (a row's public id
    is a code, not words)."""
    return {"reader": reader.name, "when": short_date(moment)}


class DeviceStatus(models.Model):
    """The last heartbeat of a reader's agent: one row per reader, overwritten each time."""

    class Printer(models.TextChoices):
        NONE = "", _("No printer")
        OK = "ok", _("Ready")
        PAPER_LOW = "paper_low", _("Paper low")
        PAPER_OUT = "paper_out", _("Out of paper")
        ERROR = "error", _("Printer error")
        UNKNOWN = "unknown", pgettext_lazy("printer status", "Unknown")

    reader = models.OneToOneField(Reader, on_delete=models.CASCADE, related_name="device_status")
    reported_at = models.DateTimeField()
    agent_version = models.CharField(max_length=32, blank=True)
    mode = models.CharField(max_length=10, choices=Reader.Kind.choices, blank=True)
    reader_connected = models.BooleanField(default=False)
    printer_status = models.CharField(
        max_length=12, choices=Printer.choices, blank=True, default=Printer.NONE
    )
    last_error = models.CharField(max_length=300, blank=True)
    queue_length = models.PositiveIntegerField(default=0)
    snapshot_version = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("device status")
        verbose_name_plural = _("device statuses")

    def __str__(self) -> str:
        return gettext("State of %(reader)s") % {"reader": self.reader.name}


class ReaderEvent(AppendOnlyModel):
    """Something a reader's agent saw besides a tap; it carries no personal data."""

    class Kind(models.TextChoices):
        CARD_REMOVED = "card_removed", _("Card removed")
        FOREIGN_CARD = "foreign_card", _("Not a Sésame card")

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    reader_time = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["reader", "-received_at"])]

    def __str__(self) -> str:
        return gettext("%(event)s at %(reader)s, %(when)s") % {
            "event": self.get_kind_display(),
            **_at(self.reader, self.received_at),
        }


class ScreenPairing(models.Model):
    """A kiosk screen paired with its reader. Staff create it and get a one-time link (its
    code is stored hashed, valid a few minutes); opening the link on the kiosk's browser
    spends it and sets a signed cookie naming this pairing. Revoking the pairing (or the
    reader) shuts the screen out at its next request."""

    public_id = PublicIdField()
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="screen_pairings")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("kiosk screen pairing")
        verbose_name_plural = _("kiosk screen pairings")

    def __str__(self) -> str:
        return gettext("Screen pairing of %(reader)s, %(when)s") % _at(self.reader, self.created_at)


class KioskSettings(models.Model):
    """What staff configure for a kiosk: the card terminal beside it (a Stripe Terminal reader
    id, `tmr_…`). Without one, a kiosk of a town using Stripe offers no payment; the demo
    provider simulates a terminal anyway."""

    reader = models.OneToOneField(Reader, on_delete=models.CASCADE, related_name="kiosk_settings")
    payment_terminal_id = models.CharField(
        _("payment terminal id"),
        max_length=64,
        blank=True,
        help_text=_("The card terminal beside this kiosk (Stripe Terminal: tmr_…)."),
    )

    class Meta:
        verbose_name = _("kiosk settings")
        verbose_name_plural = _("kiosk settings")

    def __str__(self) -> str:
        return gettext("Settings of %(reader)s") % {"reader": self.reader.name}


class KioskSession(models.Model):
    """A resident at a kiosk, from their tap to the end of what they do there: the screen's
    step, the purchase it started (one per session), its order and payment. Its public id binds
    the idempotency keys of the order and the payment: a retried request finds them again."""

    class Step(models.TextChoices):
        MENU = "menu", _("Menu")
        TOPUP = "topup", _("Choosing an amount")
        BUY = "buy", _("Choosing a product")
        PAYING = "paying", _("Paying at the terminal")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        ENDED = "ended", _("Ended")

    class Purchase(models.TextChoices):
        NONE = "", _("Nothing")
        TOPUP = "topup", _("Wallet top-up")
        PRODUCT = "product", _("Product")

    public_id = PublicIdField()
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="kiosk_sessions")
    tap = models.OneToOneField("card.Tap", on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey("identity.Person", on_delete=models.PROTECT, related_name="+")
    step = models.CharField(max_length=10, choices=Step.choices, default=Step.MENU)
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    purchase = models.CharField(
        max_length=10, choices=Purchase.choices, blank=True, default=Purchase.NONE
    )
    amount_cents = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explanation = models.CharField(max_length=200, blank=True)
    order = models.ForeignKey(
        "payments.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    terminal_id = models.CharField(max_length=64, blank=True)
    simulated_terminal = models.BooleanField(default=False)
    outcome = models.CharField(max_length=30, blank=True)  # declined, cancelled, timeout, error
    receipt_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["reader", "-started_at"])]
        verbose_name = _("kiosk session")
        verbose_name_plural = _("kiosk sessions")

    def __str__(self) -> str:
        return gettext("Session at %(reader)s, %(when)s") % _at(self.reader, self.started_at)


class PrintJob(models.Model):
    """A receipt to print on a kiosk's ticket printer: the agent beside the printer fetches the
    pending ones with its reader token, prints them (CUPS `lp`) and says how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the agent")
        DONE = "done", _("Printed")
        FAILED = "failed", _("Failed")

    public_id = PublicIdField()
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="print_jobs")
    document = models.ForeignKey("payments.Document", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    fetched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # One print of a receipt per kiosk: a double tap on "print" prints it once.
            models.UniqueConstraint(fields=["reader", "document"], name="one_print_per_receipt")
        ]
        verbose_name = _("print job")
        verbose_name_plural = _("print jobs")

    def __str__(self) -> str:
        return gettext("Receipt %(reference)s at %(reader)s") % {
            "reference": self.document.reference,
            "reader": self.reader.name,
        }
