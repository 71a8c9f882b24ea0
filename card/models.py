"""Cards (NFC SUN cards and phone passes), the readers that see them, and every tap."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.models import AppendOnlyModel, Person, PublicIdField, User, short_date
from services.catalog.models import AccessPoint


class Card(models.Model):
    """A resident's credential. Its keys are derived from the master key and its UID, never
    stored; what is stored is the last tap counter accepted, so an older message is a replay."""

    class Kind(models.TextChoices):
        NFC = "nfc", _("Card")
        PHONE = "phone", _("Phone pass")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        VALIDATED = "validated", _("Validated")
        PRODUCED = "produced", _("Produced")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        REPLACED = "replaced", _("Replaced")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        REJECTED = "rejected", _("Rejected")

    # A holder has at most one card of a kind in these states at a time.
    LIVE_STATUSES = (
        Status.REQUESTED,
        Status.VALIDATED,
        Status.PRODUCED,
        Status.ACTIVE,
        Status.SUSPENDED,
    )

    public_id = PublicIdField()
    number = models.CharField(_("card number"), max_length=16, unique=True)
    holder = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cards")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    uid = models.CharField(_("chip UID"), max_length=14, unique=True, null=True, blank=True)
    key_version = models.PositiveSmallIntegerField(default=1)
    last_counter = models.IntegerField(default=-1)
    # The counter accepted before the last one: set in the same UPDATE as last_counter, so a
    # tap learns how far the counter jumped without another query.
    previous_counter = models.IntegerField(default=-1)
    photo = models.ImageField(_("photo"), upload_to="card-photos/", blank=True)
    # The request's photo stays in the holder's documents, shared with the request (this
    # share) until a clerk decides; validation copies it into `photo`.
    photo_share_id = models.CharField(max_length=24, blank=True, editable=False)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    validated_at = models.DateTimeField(null=True, blank=True)
    produced_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=20, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "kind"],
                condition=Q(
                    status__in=["requested", "validated", "produced", "active", "suspended"]
                ),
                name="one_live_card_per_holder_and_kind",
            ),
            models.CheckConstraint(
                # A request can be rejected, or revoked, before any chip was encoded.
                condition=Q(kind="phone")
                | Q(status__in=["requested", "validated", "rejected", "revoked"])
                | Q(uid__isnull=False),
                name="produced_cards_have_a_uid",
            ),
        ]

    def __str__(self) -> str:
        return f"card {self.number}"


class Reader(models.Model):
    """A registered device at an access point: a gate reader, a staff desk, a kiosk.

    It authenticates with a bearer token whose hash only is stored; rotating it invalidates
    the old one at once, revoking it shuts the device out."""

    class Kind(models.TextChoices):
        GATE = "gate", _("Gate")
        DESK = "desk", _("Staff desk")
        KIOSK = "kiosk", _("Kiosk")

    public_id = PublicIdField()
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    access_point = models.ForeignKey(AccessPoint, on_delete=models.PROTECT, related_name="readers")
    token_prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("reader")
        verbose_name_plural = _("readers")

    def __str__(self) -> str:
        return self.name


class Tap(AppendOnlyModel):
    """One presentation of a credential, granted or refused, with the answer first given.

    Refusals are kept too, with their reason code (pretix's check-in log). A retried tap id
    from the same reader gets this row's `response` back and consumes nothing more."""

    class Credential(models.TextChoices):
        SUN = "sun", _("NFC card")
        PHONE = "phone", _("Phone pass")
        NUMBER = "number", _("Card number typed by staff")
        MANUAL = "manual", _("Manual entry by staff")

    reader = models.ForeignKey(Reader, on_delete=models.PROTECT, null=True, related_name="taps")
    client_tap_id = models.CharField(max_length=64)
    access_point = models.ForeignKey(AccessPoint, on_delete=models.PROTECT, related_name="taps")
    card = models.ForeignKey(Card, on_delete=models.PROTECT, null=True, related_name="taps")
    holder = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, related_name="+")
    credential = models.CharField(max_length=10, choices=Credential.choices)
    counter = models.IntegerField(null=True)
    reader_time = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    granted = models.BooleanField()
    reason = models.CharField(max_length=32)
    counter_jump = models.BooleanField(default=False)
    offline = models.BooleanField(default=False)
    not_honoured = models.BooleanField(default=False)
    staff = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    staff_reason = models.CharField(max_length=200, blank=True)
    response = models.JSONField()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reader", "client_tap_id"], name="one_tap_per_id"),
        ]
        indexes = [
            models.Index(fields=["access_point", "-received_at"]),
            models.Index(fields=["card", "-received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.reader} — {short_date(self.received_at)}"
