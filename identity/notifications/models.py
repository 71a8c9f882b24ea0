"""The notifications' tables: one row per message and channel, its delivery status and the
attempts made, the attachments kept for the retries, and each account's SMS consent.

This module imports nothing of identity (the user is named by `settings.AUTH_USER_MODEL`):
`identity.apps` loads it beside `identity.models`, so the rest of the package may import
`identity.models` without an import cycle."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to an account holder on one channel. Written `queued` inside the caller's
    transaction, delivered by a background task once it commits."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        RETRYING = "retrying", _("Will be tried again")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # A code such as "procedures.state_changed", for the statistics; never shown raw.
    topic = models.CharField(max_length=80)
    subject = models.CharField(max_length=255)
    body = models.TextField()
    link = models.CharField(max_length=500, blank=True)
    # The email address or the E.164 number at the time of sending: a retry goes where the
    # first attempt went. Personal data: never logged.
    address = models.CharField(max_length=254)
    # The same recipient and key is sent once, ever (reminders, a caller's retries).
    dedupe_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # What went wrong, in the provider's terms (an HTTP status, an error code): no personal data.
    last_error = models.CharField(max_length=255, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="notification_sent_once_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["topic", "status"], name="notification_topic_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} — {self.subject or self.topic}"


class NotificationAttachment(models.Model):
    """A file joined to an email, kept with it so that a retry sends the same mail."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=200)
    content = models.BinaryField()
    mimetype = models.CharField(max_length=100)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class SmsConsent(models.Model):
    """An account holder's mobile number and their consent to receive SMS. Withdrawing keeps
    the row (the number, for next time) with `consented_at` emptied."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_consent"
    )
    mobile_number = models.CharField(_("mobile number"), max_length=16, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return gettext("SMS consent of %(name)s") % {"name": self.user.display_name}

    @property
    def active(self) -> bool:
        return bool(self.mobile_number) and self.consented_at is not None
