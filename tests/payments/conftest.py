"""Fixtures of the payments tests shared by several modules."""

import pytest

from services.catalog import actions
from services.catalog.models import Entitlement
from tests.factories import ResidentFactory, collection_office, priced_product
from tests.payments.factories import pay


@pytest.fixture
def book_with_seven_entries_used(django_capture_on_commit_callbacks):
    """A book of 10 pool entries bought online for 36,00 €, 7 of them used at the gate."""
    collection_office("piscines")
    product = priced_product(
        price_cents=3600, regie_code="piscines", kind="entry_book", entries=10, validity_days=365
    )
    resident = ResidentFactory()
    order = actions.buy_product(actor=resident.user, person=resident, product=product).order
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(order)
    Entitlement.objects.filter(holder=resident).update(entries_left=3)
    return payment
