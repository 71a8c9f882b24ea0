"""`notify`: what the other floors call to tell an account holder something.

It writes one `Notification` row per channel used (status `queued`) inside the caller's
transaction and queues their delivery once that transaction commits: a caller that rolls back
sends nothing."""

from collections.abc import Sequence
from functools import partial

from django.db import IntegrityError, transaction

from ..models import Person, User
from . import tasks
from .models import Notification, NotificationAttachment, SmsConsent
from .topics import TOPIC_LABELS


def notify(
    *,
    recipient: User,
    topic: str,
    subject: str,
    body: str,
    sms: str = "",
    link: str = "",
    attachments: Sequence[tuple[str, bytes, str]] = (),
    dedupe_key: str = "",
) -> list[Notification]:
    """Send `subject`/`body` by email, and `sms` by SMS where the recipient has opted in.
    Returns the rows written, one per channel used; none when `dedupe_key` was used before for
    this recipient (the same recipient and key is sent once, ever)."""
    if topic not in TOPIC_LABELS:
        raise ValueError(f"unknown topic {topic!r}: add it to identity.notifications.topics")
    if link and not link.startswith("/"):
        raise ValueError("link is a path in the site, starting with /")
    with transaction.atomic():
        if dedupe_key and used_before(recipient, dedupe_key):
            return []
        channels: list[tuple[str, str, str]] = []
        if recipient.email and not recipient.is_application:
            channels.append((Notification.Channel.EMAIL, recipient.email, body))
        consent = SmsConsent.objects.filter(user=recipient).first()
        if sms and consent is not None and consent.active:
            channels.append((Notification.Channel.SMS, consent.mobile_number, sms))
        written = []
        for channel, address, text in channels:
            try:
                # A savepoint: a concurrent call with the same key loses here, cleanly.
                with transaction.atomic():
                    notification = Notification.objects.create(
                        recipient=recipient,
                        channel=channel,
                        topic=topic,
                        subject=subject,
                        body=text,
                        link=link,
                        address=address,
                        dedupe_key=dedupe_key,
                    )
            except IntegrityError:
                if not dedupe_key:
                    raise
                continue
            if channel == Notification.Channel.EMAIL:
                NotificationAttachment.objects.bulk_create(
                    NotificationAttachment(
                        notification=notification,
                        filename=filename,
                        content=bytes(content),
                        mimetype=mimetype,
                    )
                    for filename, content, mimetype in attachments
                )
            transaction.on_commit(partial(tasks.enqueue_delivery, notification.pk))
            written.append(notification)
    return written


def notify_household(*, household_id: int, **message) -> None:
    """`notify` each adult of the household who has an account (the parents, not a child's
    login): what a service tells a family (a move, a school closed)."""
    adults = Person.objects.filter(
        household_id=household_id, role=Person.Role.ADULT, user__isnull=False
    ).select_related("user")
    for adult in adults:
        notify(recipient=adult.user, **message)


def used_before(recipient: User, dedupe_key: str) -> bool:
    """The quick answer; two calls at once both pass it, and the unique constraint on
    (recipient, channel, dedupe_key) lets only the first one write."""
    return Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).exists()
