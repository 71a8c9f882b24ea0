"""Forms of the card pages. They only shape the input: every rule (photo format, reasons,
transitions, chip UIDs, card numbers) is checked by card.actions, whose refusals the views put
next to the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from documents_vault.forms import PickOrUploadForm


class PhotoForm(PickOrUploadForm):
    """The card request's identity photo: one of the holder's photos from their documents,
    or a new one that goes into them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].label = _("Identity photo")
        self.fields["file"].help_text = _(
            "A recent photo of the face, from the front, on a plain background: "
            "JPEG or PNG, 5 MB at most."
        )
        self.fields["file"].widget.attrs["accept"] = "image/jpeg,image/png"


class ReportLossForm(forms.Form):
    """A resident reports a card or a phone lost or stolen."""

    reason = forms.ChoiceField(
        label=_("What happened?"),
        choices=[("lost", _("It is lost")), ("stolen", _("It was stolen"))],
        widget=forms.RadioSelect,
        initial="lost",
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Validate the request")), ("reject", _("Reject the request"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (required to reject; the resident sees it)"),
        max_length=200,
        required=False,
    )


class UidForm(forms.Form):
    uid = forms.CharField(
        label=_("Chip UID read by the encoding station"),
        help_text=_("7 bytes in hexadecimal, e.g. 04A1B2C3D4E5F6 or 04:A1:B2:C3:D4:E5:F6."),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class CardNumberForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        help_text=_("The 16 digits printed on the card."),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_number(self) -> str:
        # Typed in groups as printed: spaces and dashes are not part of the number.
        return "".join(self.cleaned_data["number"].replace("-", " ").split())


class StaffSuspendForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is the card suspended?"),
        choices=[
            ("lost", _("Lost")),
            ("stolen", _("Stolen")),
            ("damaged", _("Damaged")),
            ("staff", _("Blocked by the town hall")),
        ],
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Why is the card revoked?"), max_length=200)


class AttendancePeriodForm(forms.Form):
    """The period of the attendance page: two local days, both included."""

    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To (included)"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_days = max_days

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end of the period is before its start."))
            elif (end - start).days + 1 > self.max_days:
                self.add_error(
                    "end",
                    _("Choose a period of %(days)s days at most.") % {"days": self.max_days},
                )
        return data
