"""The demo data: régies, Camille's wallets and receipts (idempotent); Mon espace shows them."""

import pytest
from django.urls import reverse

from identity import demo as identity_demo
from identity.models import Person
from payments import demo, queries
from payments.models import Document, Regie
from tests.card.factories import logged_in

pytestmark = pytest.mark.django_db


def test_demo_payments_load_once_and_show_in_mon_espace(in_english):
    identity_demo.load()
    demo.load()
    demo.load()
    assert Regie.objects.count() == 4
    assert Regie.objects.get(holds_wallets=True).code == "porte-monnaie"
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    lea = Person.objects.get(first_name="Léa")
    tom = Person.objects.get(first_name="Tom")
    assert queries.wallet_balance(camille.pk) == 2650
    assert queries.wallet_balance(lea.pk) == 1500
    assert queries.wallet_balance(tom.pk) == 1000
    assert Document.objects.filter(kind="receipt").count() == 3
    assert queries.unbalanced_transactions() == []
    client = logged_in(camille.user)
    home = client.get(reverse("portal:home")).content.decode()
    assert "26.50" in home or "26,50" in home
    assert reverse("payments:mine") in home
    mine = client.get(reverse("payments:mine")).content.decode()
    assert "Tom" in mine
    assert mine.count("PORTE-MONNAIE-2") >= 3
