"""The forms of the appointment pages: a week to show, a slot to take (with the
pre-application number at the passport desk), a resident found at the counter."""

from datetime import UTC, date, datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from identity.api_types import FIRST_DAY, LAST_DAY


def parse_instant(value: str) -> datetime | None:
    """A slot's start as the pages send it: seconds since the epoch (UTC), never a local time
    that could be ambiguous on the night clocks go back."""
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def week_start(raw: str | None, *, default: date) -> date:
    """The first day of the week asked in the page's address (?du=YYYY-MM-DD), else `default`."""
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return default
    return day if FIRST_DAY <= day <= LAST_DAY else default


class PreApplicationForm(forms.Form):
    pre_application_number = forms.CharField(
        label=_("Pre-application number (ANTS)"),
        max_length=14,
        required=False,
        help_text=_("10 letters or digits, given at the end of your online pre-application."),
    )


class FindResidentForm(forms.Form):
    """At the counter or on the phone: the resident by last name and birth date."""

    last_name = forms.CharField(label=_("Last name"), max_length=80)
    birth_date = forms.DateField(
        label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    channel = forms.ChoiceField(
        label=_("The resident is"),
        choices=[("counter", _("At the counter")), ("phone", _("On the phone"))],
        widget=forms.RadioSelect,
        initial="counter",
    )
