"""One delivery attempt of one notification, under a lock on its row: a task run twice (a
worker restarted, a message queued twice) sends once."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import providers
from .models import Notification

logger = logging.getLogger(__name__)

# Attempts in all, the first one included; then the message is `failed`.
MAX_ATTEMPTS = 5
# The wait before the second attempt; it doubles at each one after (1, 2, 4, 8 minutes).
FIRST_BACKOFF = timedelta(minutes=1)

PENDING = (Notification.Status.QUEUED, Notification.Status.RETRYING)


@dataclass(frozen=True)
class Attempt:
    status: str
    retry_at: datetime | None = None


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return FIRST_BACKOFF * 2 ** (attempts - 1)


def deliver(notification_id: int) -> Attempt:
    """Try to send the notification once, if it is still to be sent and due. Returns what
    became of it; `retry_at` when another attempt is planned."""
    with transaction.atomic():
        notification = locked(notification_id)
        if notification is None or notification.status not in PENDING:
            return Attempt(status=notification.status if notification else "gone")
        now = timezone.now()
        if notification.next_attempt_at and notification.next_attempt_at > now:
            return Attempt(status=notification.status, retry_at=notification.next_attempt_at)
        notification.attempts += 1
        try:
            provider, message_id = _send(notification)
        except providers.TemporaryFailure as failure:
            notification.last_error = failure.reason
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = Notification.Status.FAILED
                notification.next_attempt_at = None
            else:
                notification.status = Notification.Status.RETRYING
                notification.next_attempt_at = now + backoff(notification.attempts)
        except providers.PermanentFailure as failure:
            notification.last_error = failure.reason
            notification.status = Notification.Status.FAILED
            notification.next_attempt_at = None
        else:
            notification.status = Notification.Status.SENT
            notification.provider = provider
            notification.provider_message_id = message_id
            notification.sent_at = now
            notification.next_attempt_at = None
            notification.last_error = ""
        notification.save(
            update_fields=[
                "attempts",
                "status",
                "last_error",
                "next_attempt_at",
                "provider",
                "provider_message_id",
                "sent_at",
            ]
        )
    logger.info(
        "notification=%s channel=%s attempt=%s status=%s %s",
        notification.pk,
        notification.channel,
        notification.attempts,
        notification.status,
        notification.last_error,
    )
    return Attempt(status=notification.status, retry_at=notification.next_attempt_at)


def locked(notification_id: int) -> Notification | None:
    """The row, locked until the attempt is recorded: a second run of the same task waits here,
    then finds it sent."""
    return Notification.objects.select_for_update().filter(pk=notification_id).first()


def _send(notification: Notification) -> tuple[str, str]:
    text = notification.body
    if notification.link:
        text = f"{text}\n\n{site_url(notification.link)}"
    if notification.channel == Notification.Channel.SMS:
        provider = providers.sms_provider()
        sms = providers.Sms(to=notification.address, text=text, tag=notification.topic)
        return provider.name, provider.send(sms)
    email_provider = providers.email_provider()
    email = providers.Email(
        to=notification.address,
        # Signed like the account mails: "[Sésame Grand Cahors] …".
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + notification.subject,
        body=text,
        attachments=[
            (a.filename, bytes(a.content), a.mimetype) for a in notification.attachments.all()
        ],
    )
    return email_provider.name, email_provider.send(email)


def site_url(path: str) -> str:
    return settings.SESAME_SITE_URL.rstrip("/") + path


def due_notifications(*, now: datetime | None = None) -> list[int]:
    """The messages waiting for an attempt whose time has come (the sweeper's list)."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(status__in=PENDING)
        .exclude(next_attempt_at__gt=now)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
