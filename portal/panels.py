"""The panels of Mon espace. Each later service fills its own; until then a panel says what
it will hold, so a resident knows where things will appear."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Panel:
    key: str
    title: Promise
    empty_text: Promise


PANELS = [
    Panel("cards", _("My cards"), _("You have no card yet.")),
    Panel("services", _("My services"), _("You are not registered with any service yet.")),
    Panel("bookings", _("My bookings"), _("You have no booking.")),
    Panel("procedures", _("My procedures"), _("You have no procedure in progress.")),
    Panel("documents", _("My documents"), _("You have no document yet.")),
    Panel("payments", _("My payments"), _("You have no payment or invoice.")),
]
