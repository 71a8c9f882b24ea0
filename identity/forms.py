from django import forms
from django.utils.translation import gettext_lazy as _

from . import vocabulary
from .actions.household import AddressInput
from .errors import DomainError
from .models import (
    AccessReason,
    AuditEntry,
    Commune,
    Facility,
    Person,
    ReducedRateStatus,
    StaffRole,
)
from .queries import AuditFilters, communes_for_selection


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put an action's refusal next to the field it names (or on top of the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class AddressLines(forms.Form):
    line1 = forms.CharField(label=_("Street address"), max_length=200)
    line2 = forms.CharField(label=_("Address (continued)"), max_length=200, required=False)
    postcode = forms.RegexField(
        label=_("Postcode"),
        regex=r"^\d{5}$",
        error_messages={"invalid": _("A postcode has five digits.")},
    )
    commune = forms.ModelChoiceField(label=_("Commune"), queryset=Commune.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes_for_selection()

    def address(self) -> AddressInput:
        data = self.cleaned_data
        return AddressInput(
            line1=data["line1"],
            line2=data["line2"],
            postcode=data["postcode"],
            commune=data["commune"],
        )


class AddressFields(AddressLines):
    moved_in = forms.DateField(label=_("Moving-in date"), widget=DateInput())


class ProfileForm(AddressFields):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())

    field_order = [
        "first_name",
        "last_name",
        "birth_date",
        "line1",
        "line2",
        "postcode",
        "commune",
        "moved_in",
    ]


class AddressForm(AddressFields):
    pass


class MemberCorrectionForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())


class MemberForm(MemberCorrectionForm):
    role = forms.ChoiceField(
        label=_("Who"),
        choices=[(Person.Role.CHILD, _("A child")), (Person.Role.ADULT, _("A partner (adult)"))],
        widget=forms.RadioSelect,
    )
    field_order = ["role", "first_name", "last_name", "birth_date"]


class QuotientForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Family quotient (€)"),
        min_value=0,
        help_text=_("It is on your CAF or MSA certificate."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())


class QuotientFetchForm(forms.Form):
    """What API Particulier needs besides the person's names and date of birth, and consent."""

    sex = forms.ChoiceField(
        label=_("Sex on the civil status"),
        choices=[("F", _("Female")), ("M", _("Male"))],
        widget=forms.RadioSelect,
    )
    birth_country = forms.CharField(
        label=_("Country of birth (INSEE code)"),
        initial="99100",
        max_length=5,
        help_text=_("99100 for France; for another country, its INSEE code (99127 for Italy)."),
    )
    birth_commune = forms.CharField(
        label=_("Commune of birth (INSEE code)"),
        max_length=5,
        required=False,
        help_text=_("When born in France: the INSEE code of the commune (46042 for Cahors)."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the town hall asks the CAF or the MSA for my family quotient "
            "(API Particulier)."
        ),
        required=False,
    )


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=AccessReason.choices)


class ResidentSearchForm(ReasonForm):
    q = forms.CharField(label=_("Name or email"), min_length=2, max_length=100)
    field_order = ["q", "reason"]


class SignupNamesForm(forms.Form):
    """What sign-up asks besides the email and password (allauth's ACCOUNT_SIGNUP_FORM_CLASS):
    the person's names. allauth's adapter keeps them on the login (User.first_name and
    last_name, its save_user); the profile form starts from them."""

    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    field_order = ["first_name", "last_name", "email", "password1", "password2"]

    def signup(self, request, user) -> None:
        """allauth's hook after the login is saved: nothing more to do, the names are on it."""


class AuditFilterForm(forms.Form):
    """The audit trail's filters (all optional); `filters()` once valid."""

    actor = forms.CharField(
        label=_("Who (staff member or resident)"),
        max_length=100,
        required=False,
        help_text=_("A name, or an email address."),
    )
    resident = forms.CharField(label=_("Whose data"), max_length=100, required=False)
    action = forms.ChoiceField(label=_("What"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["action"].choices = everything + vocabulary.action_choices()
        self.fields["channel"].choices = everything + list(AuditEntry.Channel.choices)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor=data["actor"],
            resident=data["resident"],
            action=data["action"],
            channel=data["channel"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class ApplicationTokenForm(forms.Form):
    """A staff application's token: its name and its scope (a role at facilities)."""

    name = forms.CharField(
        label=_("Application name"),
        max_length=100,
        help_text=_("For example: the médiathèque's library system."),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (role.value, role.label) for role in StaffRole.Role if role != StaffRole.Role.ADMIN
        ],
        help_text=_("What the application may do, as a staff member of that role."),
    )
    facilities = forms.ModelMultipleChoiceField(
        label=_("Facilities"),
        queryset=Facility.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the whole territory (town-hall clerk, finance officer)."),
    )

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilities"].queryset = facilities


# --- A clerk's corrections of a resident's file ------------------------------------------------


class CorrectionForm(forms.Form):
    """Every correction carries the clerk's reason, which the resident reads."""

    reason = forms.CharField(
        label=_("Reason for the correction"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The resident reads it in Who looked at my file."),
        error_messages={"required": _("Give the reason for this correction.")},
    )


class IdentityCorrectionForm(CorrectionForm):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())
    field_order = ["first_name", "last_name", "birth_date", "reason"]


class AddressCorrectionForm(CorrectionForm, AddressLines):
    valid_from = forms.DateField(label=_("From"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty for the current address. The day of a move belongs to the next one."),
    )
    field_order = ["line1", "line2", "postcode", "commune", "valid_from", "valid_until", "reason"]


class QuotientCorrectionForm(CorrectionForm, QuotientForm):
    field_order = ["amount", "valid_from", "valid_until", "reason"]


class GuardianForm(CorrectionForm):
    guardian = forms.ModelChoiceField(label=_("Legal guardian"), queryset=Person.objects.none())
    field_order = ["guardian", "reason"]

    def __init__(self, *args, adults, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["guardian"].queryset = adults
        self.fields["guardian"].label_from_instance = lambda person: person.full_name


class ReducedRateForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), choices=ReducedRateStatus.Category.choices)
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(
        label=_("Valid until"),
        widget=DateInput(),
        help_text=_("The last day the proof covers (student card, certificate, disability card)."),
    )


class EndReducedRateForm(CorrectionForm):
    last_day = forms.DateField(label=_("Last day covered"), widget=DateInput())
    field_order = ["last_day", "reason"]
