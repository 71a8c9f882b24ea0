"""An account holder gives a mobile number and agrees to SMS in Mon compte, and can stop them.
Numbers typed the French ways become E.164; anything else is refused next to the field. Every
change is audited, never with the number, and the first SMS proves the number."""

import logging

import pytest
from django.core import mail
from django.urls import reverse

from identity.errors import DomainError
from identity.models import AuditEntry
from identity.notifications.actions import give_sms_consent, withdraw_sms_consent
from identity.notifications.models import Notification, SmsConsent
from identity.notifications.phones import InvalidNumber, normalise_mobile
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

SMS = reverse("identity:sms")


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("07-81-23-45-67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("+32 470 12 34 56", "+32470123456"),  # a Belgian mobile
    ],
)
def test_french_ways_of_typing_a_mobile_number(typed, e164):
    assert normalise_mobile(typed) == e164


@pytest.mark.parametrize(
    "typed", ["05 65 20 87 87", "+33 1 23 45 67 89", "06 12 34", "bonjour", "+33 6 12 34 56 7", ""]
)
def test_what_is_not_a_mobile_number_is_refused(typed):
    with pytest.raises(InvalidNumber):
        normalise_mobile(typed)


def test_consent_is_recorded_with_its_date_audited_and_confirmed(
    caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    person = ResidentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        consent = give_sms_consent(actor=person.user, mobile_number="06 12 34 56 78")
    assert consent.active
    assert consent.mobile_number == "+33612345678"
    assert consent.consented_at is not None
    entry = AuditEntry.objects.get(action="account.sms_consent_given")
    assert (entry.actor, entry.person) == (person.user, person)
    assert "612345678" not in str(entry.changes) + entry.target + entry.reason
    # The confirmation: an email, and an SMS to the new number.
    channels = dict(
        Notification.objects.filter(recipient=person.user).values_list("channel", "status")
    )
    assert channels == {"email": "sent", "sms": "sent"}
    assert mail.outbox[0].to == [person.user.email]
    assert "612345678" not in caplog.text


def test_an_invalid_number_is_refused_naming_the_field_and_nothing_is_written():
    user = UserFactory()
    with pytest.raises(DomainError) as refused:
        give_sms_consent(actor=user, mobile_number="05 65 20 87 87")
    assert refused.value.field == "mobile_number"
    assert not SmsConsent.objects.filter(mobile_number__gt="").exists()
    assert not AuditEntry.objects.exists()


def test_withdrawing_stops_the_sms_forgets_the_number_and_is_audited():
    user = UserFactory()
    give_sms_consent(actor=user, mobile_number="0612345678")
    consent = withdraw_sms_consent(actor=user)
    assert not consent.active
    assert consent.mobile_number == ""
    assert consent.withdrawn_at is not None
    assert AuditEntry.objects.filter(action="account.sms_consent_withdrawn", actor=user).exists()
    with pytest.raises(DomainError):
        withdraw_sms_consent(actor=user)


def test_the_page_in_mon_compte(client):
    user = UserFactory()
    client.force_login(user)
    account = client.get(reverse("portal:account")).content.decode()
    assert SMS in account
    assert "Non configurée" in account

    refused = client.post(SMS, {"mobile_number": "05 65 20 87 87", "consent": "on"})
    assert refused.status_code == 400
    assert "06 12 34 56 78" in refused.context["form"].errors["mobile_number"][0]

    unticked = client.post(SMS, {"mobile_number": "06 12 34 56 78"})
    assert unticked.status_code == 400
    assert "consent" in unticked.context["form"].errors

    done = client.post(SMS, {"mobile_number": "06 12 34 56 78", "consent": "on"}, follow=True)
    assert done.status_code == 200
    assert "+33612345678" in done.content.decode()
    assert SmsConsent.objects.get(user=user).active

    stopped = client.post(reverse("identity:stop_sms"), follow=True)
    assert stopped.status_code == 200
    assert not SmsConsent.objects.get(user=user).active


def test_the_pages_need_a_login(client):
    for url in (SMS, reverse("identity:my_messages")):
        assert client.get(url).status_code == 302
    assert client.post(reverse("identity:stop_sms")).status_code == 302
