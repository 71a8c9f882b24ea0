"""The canteen's words for a day and an instant, as template filters (services/canteen/words.py)."""

from django import template

from services.canteen import words

register = template.Library()
register.filter("instant_words", words.instant_words)
register.filter("day_words", words.day_words)
