"""The contract other floors code against: `notify` writes one row per channel used inside the
caller's transaction and sends once that transaction commits; a rollback sends nothing; the
same recipient and dedupe key is sent once, ever; SMS only to those who opted in."""

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from identity.notifications import notify
from identity.notifications.models import Notification, SmsConsent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def tell(user, **extra):
    arguments = {
        "recipient": user,
        "topic": "procedures.state_changed",
        "subject": "Votre demande est acceptée",
        "body": "Bonjour,\n\nVotre demande d’acte de naissance est acceptée.",
    }
    return notify(**arguments | extra)


def opted_in(user, number="+33612345678"):
    SmsConsent.objects.create(user=user, mobile_number=number, consented_at=timezone.now())
    return user


def test_an_email_is_sent_once_the_callers_transaction_commits():
    user = UserFactory(email="camille@example.org")
    with transaction.atomic():
        [notification] = tell(user, link="/espace/demarches/abc/")
        assert notification.status == Notification.Status.QUEUED
        assert mail.outbox == []  # nothing leaves before the commit
    assert [m.to for m in mail.outbox] == [["camille@example.org"]]
    assert mail.outbox[0].subject == "[Sésame Grand Cahors] Votre demande est acceptée"
    assert mail.outbox[0].body.endswith("\n\nhttp://127.0.0.1:8000/espace/demarches/abc/")
    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert notification.provider_message_id == mail.outbox[0].extra_headers["Message-ID"]


def test_a_rollback_sends_nothing_and_leaves_no_row():
    user = UserFactory()

    def transition_that_fails():
        with transaction.atomic():
            tell(user)
            raise RuntimeError("the caller's transition failed")

    with pytest.raises(RuntimeError):
        transition_that_fails()
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_the_same_dedupe_key_is_sent_once_ever():
    user = opted_in(UserFactory())
    first = tell(user, sms="RDV demain 9 h", dedupe_key="appointment:42:reminder")
    again = tell(user, sms="RDV demain 9 h", dedupe_key="appointment:42:reminder")
    assert [n.channel for n in first] == ["email", "sms"]
    assert again == []
    assert len(mail.outbox) == 1
    # Another recipient, or another key, is another message.
    assert tell(UserFactory(), dedupe_key="appointment:42:reminder")
    assert tell(user, dedupe_key="appointment:43:reminder")


def test_sms_only_to_who_opted_in_and_only_when_the_caller_wrote_one(capsys):
    without_consent = UserFactory()
    SmsConsent.objects.create(user=without_consent, mobile_number="+33612345678")
    withdrawn = UserFactory()
    assert [n.channel for n in tell(without_consent, sms="Acceptée")] == ["email"]
    assert [n.channel for n in tell(withdrawn, sms="Acceptée")] == ["email"]
    consenting = opted_in(UserFactory())
    assert [n.channel for n in tell(consenting)] == ["email"]  # no SMS text: email only
    [_, sms] = tell(consenting, sms="Votre demande est acceptée.", link="/espace/")
    sms.refresh_from_db()
    assert (sms.channel, sms.status, sms.address) == ("sms", "sent", "+33612345678")
    printed = capsys.readouterr().out
    assert "Votre demande est acceptée.\n\nhttp://127.0.0.1:8000/espace/" in printed
    assert "+33612345678" not in printed  # the console provider never prints the number


def test_attachments_reach_the_outbox_with_the_email_only():
    user = opted_in(UserFactory())
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    email, sms = tell(user, sms="RDV confirmé", attachments=[("rdv.ics", ics, "text/calendar")])
    assert [(a.filename, bytes(a.content)) for a in email.attachments.all()] == [("rdv.ics", ics)]
    assert not sms.attachments.exists()
    [(filename, content, mimetype)] = mail.outbox[0].attachments
    assert (filename, mimetype) == ("rdv.ics", "text/calendar")
    assert (content.encode() if isinstance(content, str) else content) == ics


def test_a_link_must_be_a_path_in_the_site():
    with pytest.raises(ValueError, match="path"):
        tell(UserFactory(), link="https://elsewhere.example/")


def test_a_topic_needs_its_words():
    with pytest.raises(ValueError, match="topics"):
        tell(UserFactory(), topic="procedures.unheard_of")
