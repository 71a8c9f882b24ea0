"""Payments' codes in words: one home for the pages (the `provider` filter), the PDFs and the
spreadsheets. Source strings in English, the French catalogue gives the régie's words; a PDF or
a spreadsheet for the public accountant is drawn in the territory's language (`in_french`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Channel, Payment

PROVIDER_LABELS = {
    "demo": _("Demo, no real payment"),
    "stripe": "Stripe",
    "desk": _("Régie desk"),
    "wallet": _("Wallet"),
}


def provider_label(code: str) -> str:
    """A payment provider's code in words ("desk" → "Guichet de la régie")."""
    label = PROVIDER_LABELS.get(code)
    return str(label) if label is not None else str(code).capitalize()


# The reconciliation counts a desk payment by its means (cash and cheques go to the régie's
# safe, a card to the provider): each of these buckets is a line of its totals.
BUCKET_LABELS = {
    Channel.WEB: _("Online"),
    Channel.KIOSK: _("Kiosk"),
    "desk_cash": pgettext_lazy("payment channel", "Desk — cash"),
    "desk_cheque": pgettext_lazy("payment channel", "Desk — cheque"),
    Channel.DESK: pgettext_lazy("payment channel", "Desk — card"),
}


def bucket_label(code: str) -> str:
    return str(BUCKET_LABELS.get(code, code))


def method_label(code: str) -> str:
    return str(Payment.Method(code).label) if code in Payment.Method.values else code


@contextmanager
def in_french() -> Iterator[None]:
    """Documents for the régie and the public accountant speak the territory's language,
    whatever the reader's."""
    with translation.override(settings.LANGUAGE_CODE):
        yield
