"""The canteen's demo: Camille's children enrolled at the École Lucie-Aubrac's restaurant with
its four services, the month ahead booked, diets (Tom's allergy resting on his PAI from the
safe), the week's menus published; Camille reads Léa's month, the canteen agent a kitchen list
with the diets counted. Loading it twice changes nothing."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from documents_vault import demo as vault_demo
from identity import demo as identity_demo
from identity.models import Person, User
from services.canteen import demo
from services.canteen.kitchen import kitchen_list
from services.canteen.models import Booking, Diet, Menu, Service

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
# Monday 30 November 2026, 9:00.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


@pytest.fixture
def canteen():
    with time_machine.travel(NOW, tick=False):
        identity_demo.load()
        vault_demo.load()
        demo.load()
        demo.load()


def test_camilles_children_are_booked_with_their_diets(canteen, client):
    lea = Person.objects.get(first_name="Léa", last_name="Martin")
    tom = Person.objects.get(first_name="Tom", last_name="Martin")
    lunch = Service.objects.get(site__name=demo.SITE_NAME, kind="lunch")
    assert set(Service.objects.filter(site=lunch.site).values_list("kind", flat=True)) == {
        "lunch",
        "morning_care",
        "evening_care",
        "wednesday_centre",
    }
    days = set(Booking.objects.filter(child=lea, service=lunch).values_list("day", flat=True))
    # From tomorrow (today's deadline passed yesterday) to the Christmas holidays.
    assert min(days) == date(2026, 12, 1)
    assert max(days) == date(2026, 12, 18)
    assert len(days) == 11
    plan = Diet.objects.get(child=tom, kind="allergy_pai").care_plan
    assert plan.kind == "care_plan"
    assert plan.household_id == tom.household_id
    assert Menu.objects.filter(site=lunch.site, published=True).count() == 8

    with time_machine.travel(NOW, tick=False):
        client.force_login(User.objects.get(email=identity_demo.RESIDENT_EMAIL))
        html = client.get(
            reverse("canteen:month", args=[lea.public_id, lunch.public_id]) + "?mois=2026-12"
        ).content.decode()
    assert html.count("checked") == 11


def test_the_canteen_agent_reads_a_kitchen_list_with_the_diets_counted(canteen):
    lunch = Service.objects.get(site__name=demo.SITE_NAME, kind="lunch")
    agent = User.objects.get(email="cantine@demo.sesame.fr")
    thursday = date(2026, 12, 3)
    with time_machine.travel(NOW + timedelta(days=2, hours=7), tick=False):
        sheet = kitchen_list(actor=agent, service=lunch, day=thursday)
    assert sheet.count >= 2
    assert dict(sheet.diet_counts)["Allergie avec PAI"] == 1
