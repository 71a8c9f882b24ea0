"""Mon espace: the panels services register (services.catalog.registry), the products page
with each person's price and its explanation, buying (into payments' basket) and lessons."""

import pytest
from django.urls import reverse

from payments.models import Order
from services.catalog import registry
from services.catalog.models import Entitlement
from services.pools.models import LessonBooking
from tests.factories import (
    EntitlementFactory,
    LessonCourseFactory,
    ResidentFactory,
    collection_office,
    guardian_and_child,
    priced_product,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def test_services_register_what_they_offer():
    keys = [s.key for s in registry.services()]
    assert {"catalog", "waste_bags", "pools"} <= set(keys)
    pools = registry.service("pools")
    assert registry.service_for_product("piscine-carnet-10") is pools
    assert pools in registry.services_for_facility_kind("pool")
    assert ("pools", "swimming_lessons") in [(s.key, p.key) for s, p in registry.procedures()]
    assert reverse("pools:lessons") == next(
        p.href() for s, p in registry.procedures() if p.key == "swimming_lessons"
    )
    assert [a.key for a in registry.desk_actions_for("town_hall")] == ["waste_bags"]
    assert {"services", "bookings"} <= {panel.key for panel in registry.panels()}


def test_registering_a_product_twice_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    intruder = registry.MunicipalService(
        key="intruder", name="x", product_codes=frozenset({"piscine-entree"})
    )
    with pytest.raises(ImproperlyConfigured):
        registry.register_service(intruder)
    assert registry.service("intruder") is None


def test_mon_espace_renders_the_registered_panels(client):
    adult, child = guardian_and_child()
    EntitlementFactory(holder=child, label="Carnet de Léa")
    client.force_login(adult.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert 'id="panel-services"' in page
    assert "Carnet de Léa" in page
    assert reverse("catalog:products") in page
    assert reverse("pools:lessons") in page
    assert "No swimming lesson booked." in page


def test_the_products_page_shows_each_persons_price_and_why(client):
    adult, child = guardian_and_child()
    priced_product(price_cents=1250, name="Carnet test", kind="entry_book", entries=10)
    client.force_login(adult.user)
    page = client.get(reverse("catalog:products")).content.decode()
    assert page.count("Carnet test") == 2  # for the adult and for the child
    assert "12,50\u00a0€" in page  # payments.money.format_cents, as every page writes it
    assert "Full rate" in page


def test_buying_adds_to_the_basket_then_its_page(client):
    resident = ResidentFactory()
    collection_office("piscines")
    product = priced_product(price_cents=1250, regie_code="piscines")
    client.force_login(resident.user)
    response = client.post(
        reverse("catalog:buy"),
        {"product": product.public_id, "person": resident.public_id, "quantity": "2"},
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:basket")
    assert order.basket
    assert order.total_cents == 2500
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Added to your basket." in page
    assert "Basket (1)" in page


def test_buying_for_someone_else_is_not_found(client):
    resident, stranger = ResidentFactory(), ResidentFactory()
    product = priced_product()
    client.force_login(resident.user)
    response = client.post(
        reverse("catalog:buy"), {"product": product.public_id, "person": stranger.public_id}
    )
    assert response.status_code == 404
    assert not Order.objects.exists()


def test_a_negative_quantity_typed_is_refused_with_a_message(client):
    resident = ResidentFactory()
    product = priced_product()
    client.force_login(resident.user)
    response = client.post(
        reverse("catalog:buy"),
        {"product": product.public_id, "person": resident.public_id, "quantity": "-2"},
        follow=True,
    )
    assert "Enter a whole number." in response.content.decode()
    assert not Order.objects.exists()
    assert not Entitlement.objects.exists()


def test_lessons_page_and_booking_a_place(client):
    resident = ResidentFactory()
    collection_office("piscines")
    course = LessonCourseFactory(places=1, product__regie_code="piscines")
    client.force_login(resident.user)
    page = client.get(reverse("pools:lessons")).content.decode()
    assert course.name in page
    assert "1 place left" in page
    response = client.post(
        reverse("pools:book", args=[course.public_id]), {"person": resident.public_id}
    )
    order = Order.objects.get()
    assert response["Location"] == reverse("payments:basket")
    assert order.basket
    booking = LessonBooking.objects.get()
    assert booking.status == "held"
    assert order.lines.get().payload == {
        "booking": booking.public_id,
        "product": course.product.code,
    }
    page = client.get(reverse("pools:lessons")).content.decode()
    assert "Full" in page
    other = ResidentFactory()
    client.force_login(other.user)
    response = client.post(
        reverse("pools:book", args=[course.public_id]), {"person": other.public_id}, follow=True
    )
    assert "No place left" in response.content.decode()
    assert LessonBooking.objects.count() == 1


def test_a_held_place_shows_in_my_bookings(client):
    from services.pools import actions as pools

    adult, child = guardian_and_child()
    course = LessonCourseFactory()
    pools.hold_place(actor=adult.user, person=child, course=course)
    client.force_login(adult.user)
    page = client.get(reverse("portal:home")).content.decode()
    assert course.name in page
    assert "awaiting payment" in page


@pytest.mark.parametrize("quantity", ["9" * 5000, "99999999999999999999", "0011"])
def test_a_huge_quantity_typed_is_refused_with_a_message(client, quantity):
    resident = ResidentFactory()
    collection_office("piscines")
    product = priced_product(price_cents=1250, regie_code="piscines")
    client.force_login(resident.user)
    response = client.post(
        reverse("catalog:buy"),
        {"product": product.public_id, "person": resident.public_id, "quantity": quantity},
        follow=True,
    )
    assert response.status_code == 200
    assert "At most 10 at once." in response.content.decode()
    assert not Order.objects.exists()


def test_a_product_taken_off_sale_since_the_page_says_so(client):
    resident = ResidentFactory()
    collection_office("piscines")
    product = priced_product(price_cents=1250, regie_code="piscines", active=False)
    client.force_login(resident.user)
    response = client.post(
        reverse("catalog:buy"),
        {"product": product.public_id, "person": resident.public_id, "quantity": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "This product is not on sale." in response.content.decode()
    assert not Order.objects.exists()
