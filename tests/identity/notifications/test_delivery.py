"""Delivery against a fake Brevo started by the tests: the request Brevo documents, bounded
retries with a doubling wait on temporary failures (5xx, timeouts, no credits), none on
permanent ones (an invalid number, a wrong key), every attempt counted, nothing personal in the
error kept or in the logs."""

import logging
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from identity.notifications import delivery, notify
from identity.notifications.models import Notification, SmsConsent
from identity.notifications.tasks import deliver_notification, send_due_notifications
from tests.factories import UserFactory

from .fake_smtp import start_refusing_smtp

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
NINE = datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)


@pytest.fixture
def clock():
    with time_machine.travel(NINE, tick=False) as traveller:
        yield traveller


def sms_to(number="+33612345678", **extra) -> Notification:
    user = UserFactory()
    SmsConsent.objects.create(user=user, mobile_number=number, consented_at=timezone.now())
    rows = notify(
        recipient=user,
        topic="appointments.reminder",
        subject="Rappel",
        body="Rappel : rendez-vous demain.",
        sms="Rappel : RDV demain 9 h 30, mairie de Cahors.",
        **extra,
    )
    [sms] = [n for n in rows if n.channel == "sms"]
    sms.refresh_from_db()
    return sms


def test_an_sms_is_the_request_brevo_documents(brevo, clock):
    sms = sms_to(link="/mon-espace/")
    assert brevo.received == [
        {
            "sender": "GrandCahors",
            "recipient": "33612345678",
            "content": "Rappel : RDV demain 9 h 30, mairie de Cahors.\n\n"
            "http://127.0.0.1:8000/mon-espace/",
            "type": "transactional",
            "unicodeEnabled": False,
            "tag": "appointments.reminder",
        }
    ]
    assert (sms.status, sms.attempts, sms.provider) == ("sent", 1, "brevo")
    assert sms.provider_message_id == str(brevo.next_id)
    assert sms.sent_at == NINE


def test_accents_ask_brevo_for_unicode(brevo, clock):
    user = UserFactory()
    SmsConsent.objects.create(user=user, mobile_number="+33612345678", consented_at=NINE)
    notify(
        recipient=user,
        topic="procedures.state_changed",
        subject="s",
        body="b",
        sms="Demande acceptée",
    )
    assert brevo.received[0]["unicodeEnabled"] is True


def test_a_temporary_failure_is_tried_again_after_a_minute(brevo, clock):
    brevo.fail_next(503)
    sms = sms_to()
    assert (sms.status, sms.attempts, sms.last_error) == ("retrying", 1, "brevo: HTTP 503 failure")
    assert sms.next_attempt_at == NINE + timedelta(minutes=1)
    clock.shift(timedelta(seconds=59))
    assert send_due_notifications.call() == 0  # not yet
    clock.shift(timedelta(seconds=1))
    assert send_due_notifications.call() == 1
    sms.refresh_from_db()
    assert (sms.status, sms.attempts, sms.last_error) == ("sent", 2, "")
    assert len(brevo.received) == 1


def test_retries_are_bounded_and_the_wait_doubles(brevo, clock):
    brevo.fail_next(500, 502, "stall", 429, 402)
    sms = sms_to()
    waits = []
    while sms.status == Notification.Status.RETRYING:
        waits.append(sms.next_attempt_at - timezone.now())
        clock.move_to(sms.next_attempt_at)
        send_due_notifications.call()
        sms.refresh_from_db()
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert (sms.status, sms.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert sms.last_error == "brevo: HTTP 402 failure"
    assert brevo.received == []
    clock.shift(timedelta(days=1))
    assert send_due_notifications.call() == 0  # failed is final


def test_a_timeout_is_a_temporary_failure(brevo, clock):
    brevo.fail_next("stall")
    sms = sms_to()
    assert (sms.status, sms.last_error) == ("retrying", "brevo: timeout")


def test_an_invalid_number_fails_at_once_without_naming_it(brevo, clock, caplog):
    caplog.set_level(logging.DEBUG)
    sms = sms_to(number="+3361")
    assert (sms.status, sms.attempts) == ("failed", 1)
    assert sms.last_error == "brevo: HTTP 400 invalid_parameter"
    assert sms.next_attempt_at is None
    assert "3361" not in caplog.text
    clock.shift(timedelta(hours=1))
    assert send_due_notifications.call() == 0


def test_a_wrong_key_is_not_retried(brevo, clock, settings):
    settings.BREVO_API_KEY = "xkeysib-revoked"
    sms = sms_to()
    assert (sms.status, sms.last_error) == ("failed", "brevo: HTTP 401 unauthorized")


def test_a_message_delivered_twice_is_sent_once(brevo, clock):
    sms = sms_to()
    assert delivery.deliver(sms.pk).status == "sent"
    assert deliver_notification.call(notification_id=sms.pk) == "sent"
    sms.refresh_from_db()
    assert sms.attempts == 1
    assert len(brevo.received) == 1


def test_the_database_queue_waits_for_the_next_attempt(brevo, clock, settings):
    """With the worker of `make run`: the failed attempt queues the next one for its time."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    brevo.fail_next(503)
    sms = sms_to()

    def work():
        call_command("db_worker", batch=True, no_startup_delay=True, reload=False, verbosity=0)
        sms.refresh_from_db()

    work()
    assert (sms.status, sms.attempts) == ("retrying", 1)
    work()  # the next attempt is not due: the worker leaves it
    assert (sms.status, sms.attempts) == ("retrying", 1)
    clock.shift(timedelta(minutes=1))
    work()
    assert (sms.status, sms.attempts) == ("sent", 2)
    assert len(brevo.received) == 1


def test_an_unreachable_mail_server_is_tried_again(clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    [email] = notify(
        recipient=UserFactory(), topic="procedures.state_changed", subject="s", body="b"
    )
    email.refresh_from_db()
    assert (email.status, email.last_error) == ("retrying", "email backend: ConnectionRefusedError")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.shift(timedelta(minutes=1))
    send_due_notifications.call()
    email.refresh_from_db()
    assert email.status == "sent"
    assert len(mail.outbox) == 1


def test_the_sweep_command_catches_up_what_was_never_queued(brevo, clock, settings):
    """A queue that was down when the caller committed: cron's sweep sends the message."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    sms = sms_to()
    assert sms.status == "queued"
    out = StringIO()
    call_command("notifications_sweep", stdout=out)
    assert out.getvalue().strip() == "2 notification(s) tried"
    sms.refresh_from_db()
    assert sms.status == "sent"


def test_an_address_the_mail_server_refuses_is_not_retried(clock, settings):
    port, server = start_refusing_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    [email] = notify(
        recipient=UserFactory(), topic="procedures.state_changed", subject="s", body="b"
    )
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.last_error == "email backend: SMTPRecipientsRefused"
    server.close()
