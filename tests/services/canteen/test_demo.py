"""The canteen's demo: Camille's children enrolled at the École Lucie-Aubrac's restaurant with
its four services, the month ahead booked, diets (Tom's allergy resting on his PAI from the
safe), the week's menus published; Camille reads Léa's month, the canteen agent a kitchen list
with the diets counted. Loading it twice changes nothing."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from documents_vault import demo as vault_demo
from identity import demo as identity_demo
from identity.models import Person, User
from payments import demo as payments_demo
from payments.models import Document, Order
from services.canteen import billing, demo, demo_invoices
from services.canteen.kitchen import kitchen_list
from services.canteen.models import AbsenceReport, Booking, Diet, Menu, Service

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
    ahead = Booking.objects.filter(child=lea, service=lunch, day__gte=NOW.date())
    days = set(ahead.values_list("day", flat=True))
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
    assert sheet.packed_meals == 1  # Tom brings his packed meal
    assert sheet.meals_to_cook == sheet.count - 1


# --- Last month: imported, served, billed ----------------------------------------------------


@pytest.fixture
def billed():
    """The demo loaded twice on 30 November 2026 with its invoices: October's school days (1
    to 16, the Toussaint holidays after) imported, served, and billed."""
    with time_machine.travel(NOW, tick=False):
        identity_demo.load()
        payments_demo.load()
        vault_demo.load()
        for _twice in range(2):
            demo.load()
            demo_invoices.load()


def camilles_order() -> Order:
    camille = Person.objects.get(user__email=identity_demo.RESIDENT_EMAIL)
    return billing.month_order(camille.household, 2026, 10)


def test_last_month_is_attended_as_the_canteen_marked_it(billed):
    lea = Person.objects.get(first_name="Léa", last_name="Martin")
    tom = Person.objects.get(first_name="Tom", last_name="Martin")
    lunch = Service.objects.get(site__name=demo.SITE_NAME, kind="lunch")
    october = {"service": lunch, "day__lt": date(2026, 11, 1)}
    states = dict(Booking.objects.filter(child=lea, **october).values_list("day", "state"))
    # Ten lunches from Thursday 1 to Friday 16 October (the Toussaint holidays after).
    assert len(states) == 10
    assert states[date(2026, 10, 16)] == "absent"
    assert Booking.objects.get(child=lea, day=date(2026, 10, 5)).without_booking
    assert AbsenceReport.objects.get(booking__child=lea).state == "accepted"
    tom_days = Booking.objects.filter(child=tom, **october).order_by("day")
    assert [b.packed_meal for b in tom_days] == [False] * 5 + [True] * 5
    assert tom_days.get(day=date(2026, 10, 15)).state == "absent"  # not justified: billed
    # His lunches ahead follow his diet: he brings a packed meal.
    assert set(
        Booking.objects.filter(child=tom, service=lunch, day__gte=NOW.date()).values_list(
            "packed_meal", flat=True
        )
    ) == {True}
    assert Diet.objects.get(child=tom, kind="allergy_pai").packed_meal


def test_camille_has_one_canteen_invoice_for_october_explained(billed):
    order = camilles_order()
    lines = {(line.label, line.beneficiary.first_name): line for line in order.lines.all()}
    assert {key: line.quantity for key, line in lines.items()} == {
        ("Repas au restaurant scolaire", "Léa"): 8,
        ("Repas majoré (sans réservation)", "Léa"): 1,
        ("Repas au restaurant scolaire", "Tom"): 5,
        ("Accueil du midi (panier-repas apporté, PAI)", "Tom"): 5,
    }
    assert all(line.explanation for line in lines.values())
    assert order.total_cents == sum(
        line.quantity * line.unit_price_cents for line in lines.values()
    )
    assert order.status == "pending"
    assert Document.objects.filter(order=order, kind="invoice").count() == 1
    # Loaded twice: nothing issued twice.
    assert Order.objects.filter(lines__handler=billing.HANDLER).distinct().count() == len(
        billing.households_to_bill(2026, 10)
    )


def test_camille_reads_and_can_pay_it_in_mes_paiements(billed, client):
    order = camilles_order()
    invoice = order.documents.get(kind="invoice")
    with time_machine.travel(NOW, tick=False):
        client.force_login(User.objects.get(email=identity_demo.RESIDENT_EMAIL))
        assert invoice.reference in client.get(reverse("payments:mine")).content.decode()
        pdf = client.get(reverse("payments:document", args=[invoice.public_id]))
        checkout = client.get(reverse("payments:checkout", args=[order.public_id]))
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Facture à régler" in text
    assert "panier-repas" in text
    assert "data-pay-with-wallet" in checkout.content.decode()


@pytest.mark.parametrize(
    "today",
    [datetime(2027, 9, 3, 9, tzinfo=PARIS), datetime(2027, 8, 10, 9, tzinfo=PARIS)],
    ids=["early September", "August"],
)
def test_loaded_after_the_summer_holidays_there_is_no_invoice_to_show(today):
    with time_machine.travel(today, tick=False):
        identity_demo.load()
        payments_demo.load()
        vault_demo.load()
        demo.load()
        assert demo_invoices.load() == 0
    assert not Order.objects.filter(lines__handler=billing.HANDLER).exists()
