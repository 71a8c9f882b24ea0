"""Two callers notify the same recipient with the same dedupe key at the same instant (the
reminder job run twice, a double click): one message goes out. The unique constraint does it;
the race is shown first without it. PostgreSQL only."""

import pytest
from django.core import mail
from django.db import connection

from identity.notifications import sending
from identity.notifications.models import Notification
from tests.concurrency import line_up, run_at_once
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENT_ONCE = next(
    c for c in Notification._meta.constraints if c.name == "notification_sent_once_per_key"
)


@pytest.fixture
def without_the_constraint():
    with connection.schema_editor() as editor:
        editor.remove_constraint(Notification, SENT_ONCE)
    yield
    Notification.objects.all().delete()
    with connection.schema_editor() as editor:
        editor.add_constraint(Notification, SENT_ONCE)


def remind_twice_at_once(monkeypatch) -> list[int]:
    user = UserFactory()
    # Both callers have found the key unused before either writes.
    line_up(monkeypatch, sending, "used_before", lock=True)

    def remind():
        return len(
            sending.notify(
                recipient=user,
                topic="appointments.reminder",
                subject="Rappel : rendez-vous demain",
                body="Votre rendez-vous est demain à 9 h 30.",
                dedupe_key="appointment:42:reminder",
            )
        )

    outcome = run_at_once(remind, remind)
    assert not outcome.errors, outcome.errors
    return sorted(outcome.answers)


def test_without_the_constraint_the_reminder_goes_twice(without_the_constraint, monkeypatch):
    assert remind_twice_at_once(monkeypatch) == [1, 1]
    assert len(mail.outbox) == 2


def test_with_the_constraint_it_goes_once(monkeypatch):
    assert remind_twice_at_once(monkeypatch) == [0, 1]
    assert len(mail.outbox) == 1
