"""The demo: the clerk of the Mairie de Cahors checks Camille's card at its desk and hands out
the Martin household's four rolls; loading the demo twice changes nothing."""

import pytest
from django.urls import reverse

from card import demo as card_demo
from card.models import Card, Tap
from identity import demo as identity_demo
from identity.models import Person, User
from services.catalog import demo as catalog_demo
from services.catalog.models import AccessPoint
from services.waste_bags import demo
from services.waste_bags.models import BagQuota

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

HX = {"HX-Request": "true"}


def test_the_demo_clerk_hands_out_the_martins_four_rolls(client):
    identity_demo.load()
    catalog_demo.load()
    card_demo.load()
    demo.load()
    demo.load()
    assert BagQuota.objects.count() == len(demo.QUOTAS)
    desk = AccessPoint.objects.get(facility__name="Mairie de Cahors", name="Guichet")
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    card = Card.objects.get(holder=camille, kind=Card.Kind.NFC)
    client.force_login(User.objects.get(email="accueil@demo.sesame.fr"))
    check = client.post(
        reverse("card:desk_check", args=[desk.public_id]), {"credential": card.number}, headers=HX
    )
    assert "4 rolls left this year (of 4)" in check.content.decode()
    url = reverse("card:desk_service", args=[desk.public_id, "waste_bags"])
    done = client.post(url, {"tap": Tap.objects.get().pk, "quantity": 4}, headers=HX)
    assert "4 rolls handed out; 0 left this year." in done.content.decode()
