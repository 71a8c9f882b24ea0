from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import AddressInput
from .errors import DomainError
from .models import AccessReason, Commune, Person
from .queries import communes_for_selection


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put an action's refusal next to the field it names (or on top of the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class AddressFields(forms.Form):
    line1 = forms.CharField(label=_("Street address"), max_length=200)
    line2 = forms.CharField(label=_("Address (continued)"), max_length=200, required=False)
    postcode = forms.RegexField(
        label=_("Postcode"),
        regex=r"^\d{5}$",
        error_messages={"invalid": _("A postcode has five digits.")},
    )
    commune = forms.ModelChoiceField(label=_("Commune"), queryset=Commune.objects.none())
    moved_in = forms.DateField(label=_("Moving-in date"), widget=DateInput())

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


class MemberForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Who"),
        choices=[(Person.Role.CHILD, _("A child")), (Person.Role.ADULT, _("A partner (adult)"))],
        widget=forms.RadioSelect,
    )
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput())


class QuotientForm(forms.Form):
    amount = forms.IntegerField(
        label=_("Family quotient (€)"),
        min_value=0,
        help_text=_("It is on your CAF or MSA certificate."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())


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
