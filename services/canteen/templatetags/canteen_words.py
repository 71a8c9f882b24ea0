"""How the canteen's pages say an instant: « lundi 7 septembre 2026 à 15 h 00 » in French."""

from datetime import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def instant_words(value: datetime | None) -> str:
    """A deadline as a date and a time in the reader's language, in Europe/Paris."""
    if value is None:
        return ""
    local = timezone.localtime(value, timezone.get_default_timezone())
    # Translators: the time of a canteen deadline, a Django date format (French: "G \h i").
    time_format = _("g:i A")
    return _("%(day)s at %(time)s") % {
        "day": day_words(local),
        "time": formats.date_format(local, time_format),
    }


@register.filter
def day_words(value) -> str:
    """« lundi 7 septembre 2026 », « mardi 1er décembre 2026 »."""
    if not (get_language() or "").startswith("fr"):
        return formats.date_format(value, "l j F Y")
    words = formats.date_format(value, "l j")
    if value.day == 1:
        words += "er"  # « 1er septembre »
    return f"{words} {formats.date_format(value, 'F Y')}"
