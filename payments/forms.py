"""Forms of the payment pages. Amounts are typed in euros ("20", "12,50") and become cents."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from identity.api_types import FIRST_DAY, LAST_DAY

from .actions.checkout import MAX_ATTEMPT
from .actions.inputs import MAX_TOPUP_CENTS
from .models import Channel, Payment, Refund
from .money import format_cents

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
    refund_used = forms.BooleanField(
        label=_("Also refund the entries already used"),
        required=False,
        help_text=_("Only when the lines refunded were partly used."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, payment: Payment, usages: dict | None = None, **kwargs):
        """`usages`: {line id: `queries.LineUsage`} of the payment's lines partly used."""
        super().__init__(*args, **kwargs)
        self.order_lines = list(payment.order.lines.all())
        self.usages = usages or {}
        self.fields["lines"].choices = [
            (str(line.pk), f"{line.label} — {format_cents(line.refundable_cents)}")
            for line in self.order_lines
        ]
        if not self.usages:
            del self.fields["refund_used"]

    def clean(self):
        """Refunding more than the unused part of lines already used needs saying so: the
        error names how many entries were used and what the unused part is worth."""
        data = super().clean()
        amount = data.get("amount")
        if amount is None or not self.usages or data.get("refund_used"):
            return data
        chosen = {int(pk) for pk in data.get("lines") or []}
        lines = [line for line in self.order_lines if not chosen or line.pk in chosen]
        used = [self.usages[line.pk] for line in lines if line.pk in self.usages]
        if not used:
            return data
        limit = sum(
            self.usages[line.pk].unused_cents if line.pk in self.usages else line.refundable_cents
            for line in lines
        )
        if amount > limit:
            self.add_error(
                "amount",
                " ".join(str(used_warning(usage)) for usage in used)
                + " "
                + _("Refund at most %(limit)s, or tick “Also refund the entries already used”.")
                % {"limit": format_cents(limit)},
            )
        return data


def used_warning(usage) -> str:
    """A line partly used, in words: how many entries, and its unused part."""
    return ngettext(
        "%(used)d of the %(total)d entries of “%(label)s” was already used: its unused part is "
        "%(unused)s (pro rata of the entries, rounded down to the cent).",
        "%(used)d of the %(total)d entries of “%(label)s” were already used: its unused part "
        "is %(unused)s (pro rata of the entries, rounded down to the cent).",
        usage.used,
    ) % {
        "used": usage.used,
        "total": usage.total,
        "label": usage.line.label,
        "unused": format_cents(usage.unused_cents),
    }


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
        choices=[("", "—"), *Channel.choices],
    )
    day_from = DayField(label=_("From (day)"), required=False)
    day_to = DayField(label=_("To (day)"), required=False)
    q = forms.CharField(label=_("Reference or name"), required=False, max_length=100)
