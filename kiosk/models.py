"""What the kiosk app stores: the reader agents' reported state, the events they report
besides taps (a card removed, a card that is not a Sésame card), and the pairing of kiosk
screens with their reader."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from card.models import Reader
from identity.models import AppendOnlyModel, PublicIdField, User


class DeviceStatus(models.Model):
    """The last heartbeat of a reader's agent: one row per reader, overwritten each time."""

    class Printer(models.TextChoices):
        NONE = "", _("No printer")
        OK = "ok", _("Ready")
        PAPER_LOW = "paper_low", _("Paper low")
        PAPER_OUT = "paper_out", _("Out of paper")
        ERROR = "error", _("Printer error")
        UNKNOWN = "unknown", _("Unknown")

    reader = models.OneToOneField(Reader, on_delete=models.CASCADE, related_name="device_status")
    reported_at = models.DateTimeField()
    agent_version = models.CharField(max_length=32, blank=True)
    mode = models.CharField(max_length=10, blank=True)
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
        return f"status of reader {self.reader_id}"


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
        return f"{self.kind} at reader {self.reader_id}"


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
        return f"pairing {self.public_id}"
