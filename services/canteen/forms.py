"""The parents' forms: a pattern of weeks, the child's diets."""

from datetime import date

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from .models import Diet, Service


def weekday_choices(service: Service) -> list[tuple[str, str]]:
    # 5 January 2026 is a Monday: its week names the days in the reader's language.
    return [
        (str(d), formats.date_format(date(2026, 1, 5 + d), "l").capitalize())
        for d in sorted(service.runs_on_weekdays)
    ]


class PatternForm(forms.Form):
    weekdays = forms.MultipleChoiceField(
        label=_("Days of the week"), widget=forms.CheckboxSelectMultiple
    )
    every_weeks = forms.TypedChoiceField(
        label=_("How often"),
        choices=[(1, _("Every week")), (2, _("Every other week"))],
        coerce=int,
        initial=1,
        widget=forms.RadioSelect,
    )
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weekdays"].choices = weekday_choices(service)


class DietForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=_("Diets"),
        choices=Diet.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    details_allergy_pai = forms.CharField(
        label=_("Allergies of the care plan"),
        required=False,
        max_length=200,
        help_text=_("For example: peanuts, nuts."),
    )
    details_texture = forms.CharField(
        label=_("Texture"),
        required=False,
        max_length=200,
        help_text=_("For example: mixed, cut small."),
    )
    packed_meal = forms.BooleanField(
        label=_("Brings a packed meal from home"),
        required=False,
        help_text=_(
            "When the care plan (PAI) says so: the kitchen does not cook their lunch and the "
            "packed-meal price is billed."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("packed_meal") and Diet.Kind.ALLERGY_PAI not in data.get("kinds", []):
            self.add_error(
                "packed_meal", _("Only a child with a care plan (PAI) brings a packed meal.")
            )
        return data
