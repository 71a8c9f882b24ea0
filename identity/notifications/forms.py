from django import forms
from django.utils.translation import gettext_lazy as _


class SmsConsentForm(forms.Form):
    mobile_number = forms.CharField(
        label=_("Mobile number"),
        max_length=30,
        help_text=_("For example 06 12 34 56 78, or +32 470 12 34 56 from abroad."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    consent = forms.BooleanField(
        label=_("I agree to receive an SMS when one of my procedures or appointments changes."),
        error_messages={"required": _("Tick the box to receive SMS.")},
    )
