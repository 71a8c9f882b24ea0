"""Forms of the payment pages. Amounts are typed in euros ("20", "12,50") and become cents."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from identity.api_types import FIRST_DAY, LAST_DAY

from .actions.checkout import MAX_ATTEMPT
from .actions.inputs import MAX_TOPUP_CENTS
from .ledger import format_cents
from .models import Payment, Refund

EUROS = re.compile(r"^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*(?:€)?\s*$")


def euros_to_cents(text: str) -> int | None:
    """ "12,5" → 1250; None when it is not an amount in euros."""
    match = EUROS.match(text or "")
    if not match:
        return None
    euros, cents = match.groups()
    return int(euros) * 100 + int((cents or "0").ljust(2, "0"))


class EurosField(forms.CharField):
    default_error_messages = {
        "invalid": _("Enter an amount in euros, such as 20 or 12,50."),
        "not_positive": _("The amount must be greater than zero."),
        "too_large": _("The amount may not exceed %(max)s."),
    }

    def __init__(self, *, maximum: int | None = None, **kwargs):
        self.maximum = maximum
        kwargs.setdefault("max_length", 14)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        cents = euros_to_cents(value)
        if cents is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if cents <= 0:
            raise forms.ValidationError(self.error_messages["not_positive"], code="not_positive")
        if self.maximum is not None and cents > self.maximum:
            raise forms.ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"max": format_cents(self.maximum)},
            )
        return cents


class TopUpForm(forms.Form):
    amount = EurosField(
        label=_("Amount (€)"),
        maximum=MAX_TOPUP_CENTS,
        help_text=_("From 0,01 € to %(max)s.") % {"max": format_cents(MAX_TOPUP_CENTS)},
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class PayForm(forms.Form):
    # The attempt the page was drawn for; the payment's key is made from it by the server
    # (payments.actions.checkout.checkout_key), bound to the account and the order.
    attempt = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=MAX_ATTEMPT)
    # The total the resident saw: a basket changed meanwhile (another tab) is not charged.
    total = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class RefundForm(forms.Form):
    amount = EurosField(label=_("Amount to refund (€)"))
    destination = forms.ChoiceField(label=_("Refund to"), choices=Refund.Destination.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    lines = forms.MultipleChoiceField(
        label=_("Lines to cancel (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Chosen lines are refunded first; a fully refunded line is cancelled."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, payment: Payment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [
            (str(line.pk), f"{line.label} — {format_cents(line.refundable_cents)}")
            for line in payment.order.lines.all()
        ]


class DeskPaymentForm(forms.Form):
    order = forms.CharField(label=_("Order reference"), max_length=24)
    method = forms.ChoiceField(
        label=_("Means of payment"),
        choices=[(Payment.Method.CASH, _("Cash")), (Payment.Method.CHEQUE, _("Cheque"))],
    )
    amount = EurosField(label=_("Amount received (€)"))
    cheque_number = forms.CharField(label=_("Cheque number"), max_length=40, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)


class DayField(forms.DateField):
    """A day a search can start or end on (the day after it must exist too)."""

    FIRST, LAST = FIRST_DAY, LAST_DAY  # the API's range (identity.api_types)

    def clean(self, value):
        day = super().clean(value)
        if day is not None and not self.FIRST <= day <= self.LAST:
            raise forms.ValidationError(
                _("Enter a date between %(first)s and %(last)s."),
                code="out_of_range",
                params={"first": self.FIRST.year, "last": self.LAST.year},
            )
        return day


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", "—"), *Payment.Status.choices]
    )
    provider = forms.CharField(label=_("Provider"), required=False, max_length=20)
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", "—"), ("web", _("Online")), ("kiosk", _("Kiosk")), ("desk", _("Desk"))],
    )
    day_from = DayField(label=_("From (day)"), required=False)
    day_to = DayField(label=_("To (day)"), required=False)
    q = forms.CharField(label=_("Reference or name"), required=False, max_length=100)
