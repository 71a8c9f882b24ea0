"""Reads: the messages sent to an account holder, and the delivery statistics per topic."""

import re
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from ..models import User
from .models import Notification, SmsConsent
from .topics import topic_label

Status = Notification.Status


def messages_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def sms_consent_of(user: User) -> SmsConsent | None:
    return SmsConsent.objects.filter(user=user).first()


@dataclass(frozen=True)
class TopicDelivery:
    topic_label: str
    channel_label: str
    total: int
    sent: int
    pending: int
    failed: int
    retried: int  # sent or failed after more than one attempt


def delivery_by_topic() -> list[TopicDelivery]:
    """Counts per topic and channel, without a word of the messages."""
    rows = (
        Notification.objects.values("topic", "channel")
        .annotate(
            total=Count("pk"),
            sent=Count("pk", filter=Q(status=Status.SENT)),
            pending=Count("pk", filter=Q(status__in=(Status.QUEUED, Status.RETRYING))),
            failed=Count("pk", filter=Q(status=Status.FAILED)),
            retried=Count("pk", filter=Q(attempts__gt=1)),
        )
        .order_by("topic", "channel")
    )
    return [
        TopicDelivery(
            topic_label=topic_label(row.pop("topic")),
            channel_label=str(Notification.Channel(row.pop("channel")).label),
            **row,
        )
        for row in rows
    ]


def recent_failures(*, limit: int = 50) -> list[Notification]:
    """The last messages that could not be delivered: when, topic, channel, the provider's error;
    the page shows neither the recipient's address nor the text."""
    failures = list(
        Notification.objects.filter(status=Status.FAILED)
        .only("pk", "topic", "channel", "attempts", "last_error", "created_at", "provider")
        .order_by("-created_at", "-pk")[:limit]
    )
    for failure in failures:
        failure.topic_label = topic_label(failure.topic)
        failure.reason = failure_reason(failure.last_error)
    return failures


_HTTP_STATUS = re.compile(r"HTTP (\d{3})")


def failure_reason(last_error: str) -> str:
    """A provider's answer (`brevo: HTTP 400 invalid_parameter`) in words."""
    if last_error.startswith("email backend"):
        return _("The mail server could not be reached.")
    if last_error.endswith("timeout"):
        return _("The SMS provider did not answer in time.")
    match = _HTTP_STATUS.search(last_error)
    status = int(match.group(1)) if match else 0
    if status == 400:
        return _("The SMS provider refused the number or the message.")
    if status in (401, 403):
        return _("The SMS provider refused our key or our sender name.")
    if status == 402:
        return _("No SMS credits left.")
    if status == 429:
        return _("Too many SMS at once: the provider asked us to slow down.")
    if status >= 500:
        return _("The SMS provider was unavailable.")
    return _("Unknown error.")
