"""Two workers run the task of the same message at the same instant (a task queued twice, a
worker restarted mid-run): the row lock makes one of them send and the other find it sent.
The race is shown first with the lock switched off. PostgreSQL only."""

import pytest
from django.utils import timezone

from identity.notifications import delivery
from identity.notifications.models import Notification, SmsConsent
from tests.concurrency import line_up, run_at_once
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def queued_sms() -> Notification:
    user = UserFactory()
    SmsConsent.objects.create(user=user, mobile_number="+33612345678", consented_at=timezone.now())
    # Written as notify writes it, without its task (the test runs the two workers itself).
    return Notification.objects.create(
        recipient=user,
        channel=Notification.Channel.SMS,
        topic="appointments.reminder",
        subject="Rappel",
        body="RDV demain 9 h 30",
        address="+33612345678",
    )


def two_workers_at_once(monkeypatch, *, lock: bool) -> list[str]:
    sms = queued_sms()
    # Each worker has read the row (or waits for its lock) before either sends.
    line_up(monkeypatch, delivery, "locked", lock=lock)
    outcome = run_at_once(*(lambda: delivery.deliver(sms.pk).status for _ in range(2)))
    assert not outcome.errors, outcome.errors
    return outcome.answers


def test_without_the_lock_the_message_is_sent_twice(brevo, monkeypatch):
    assert two_workers_at_once(monkeypatch, lock=False) == ["sent", "sent"]
    assert len(brevo.received) == 2


def test_with_the_lock_it_is_sent_once(brevo, monkeypatch):
    assert two_workers_at_once(monkeypatch, lock=True) == ["sent", "sent"]
    assert len(brevo.received) == 1
    assert Notification.objects.get().attempts == 1
