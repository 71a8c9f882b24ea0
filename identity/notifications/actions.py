"""The account holder's SMS consent: give it with a mobile number, or withdraw it. Each change
is in the audit trail, never with the number."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..actions.audit import record_audit_entry
from ..errors import DomainError
from ..models import User
from ..permissions import person_of
from .models import SmsConsent
from .phones import InvalidNumber, normalise_mobile
from .sending import notify


def _locked_consent(user: User) -> SmsConsent:
    SmsConsent.objects.get_or_create(user=user)
    return SmsConsent.objects.select_for_update().get(user=user)


def give_sms_consent(*, actor: User, mobile_number: str) -> SmsConsent:
    """The account holder agrees to receive SMS at this number (typed in any French format)."""
    try:
        number = normalise_mobile(mobile_number)
    except InvalidNumber:
        raise DomainError(
            _("Enter a mobile number, such as 06 12 34 56 78 or +33 6 12 34 56 78."),
            field="mobile_number",
        ) from None
    with transaction.atomic():
        consent = _locked_consent(actor)
        consent.mobile_number = number
        consent.consented_at = timezone.now()
        consent.withdrawn_at = None
        consent.save()
        record_audit_entry(
            actor=actor,
            action="account.sms_consent_given",
            person=person_of(actor),
        )
        # The first SMS proves the number; the email warns the holder if it was not them.
        notify(
            recipient=actor,
            topic="account.sms_confirmed",
            subject=_("You will receive SMS from Sésame"),
            body=_(
                "Hello,\n\nFrom now on, Sésame also sends you an SMS when one of your "
                "procedures or appointments changes. You can stop this at any time in My "
                "account.\n\nIf you did not ask for this, change your password and stop the "
                "SMS in My account."
            ),
            sms=_("Sésame: you will now receive SMS about your procedures and appointments."),
            link=reverse("identity:sms"),
        )
    return consent


def withdraw_sms_consent(*, actor: User) -> SmsConsent:
    """No more SMS; the number is forgotten too."""
    with transaction.atomic():
        consent = _locked_consent(actor)
        if not consent.active:
            raise DomainError(_("You do not receive SMS."), code="not_subscribed")
        consent.mobile_number = ""
        consent.consented_at = None
        consent.withdrawn_at = timezone.now()
        consent.save()
        record_audit_entry(
            actor=actor,
            action="account.sms_consent_withdrawn",
            person=person_of(actor),
        )
    return consent
