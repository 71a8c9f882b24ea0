"""`{{ cents|euros }}`: an integer number of cents as the resident reads it (12,50 €)."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def euros(cents) -> str:
    if cents is None or cents == "":
        return ""
    return f"{number_format(Decimal(int(cents)) / 100, 2)} €"
