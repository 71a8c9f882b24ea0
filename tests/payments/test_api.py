"""The payments API: wallets, top-up orders, orders and receipts; bad input named."""

import pytest
from django.test import Client

from payments.models import Order
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, resident_with_child, topped_up

pytestmark = pytest.mark.django_db


def api_client(resident) -> Client:
    client = Client()
    client.force_login(resident.user)
    return client


def test_wallets_of_me_and_my_children():
    parent, child = resident_with_child()
    topped_up(child, 1200, actor=parent)
    body = api_client(parent).get("/api/v1/payments/wallets").json()
    assert {(w["first_name"], w["balance_cents"]) for w in body} == {
        (parent.first_name, 0),
        ("Léa", 1200),
    }
    detail = api_client(parent).get(f"/api/v1/payments/wallets/{child.public_id}").json()
    assert detail["history"][0]["amount_cents"] == 1200
    stranger = api_client(ResidentFactory())
    assert stranger.get(f"/api/v1/payments/wallets/{child.public_id}").status_code == 404


def test_top_up_order_is_created_once_per_key():
    parent, child = resident_with_child()
    topped_up(parent, 100)  # creates the wallet régie
    client = api_client(parent)
    payload = {"person_id": child.public_id, "amount_cents": 2500, "idempotency_key": "t-1"}
    first = client.post("/api/v1/payments/top-ups", payload, content_type="application/json")
    again = client.post("/api/v1/payments/top-ups", payload, content_type="application/json")
    assert first.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["checkout_url"].startswith("/mon-espace/paiements/commande/")
    assert Order.objects.filter(buyer=parent.user, total_cents=2500).count() == 1


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"amount_cents": 0}, 422, "amount_cents"),
        ({"amount_cents": -100}, 422, "amount_cents"),
        ({"amount_cents": 10_000_000}, 422, "amount_cents"),
        ({"currency": "USD"}, 400, "currency"),
        ({"person_id": "nobody"}, 404, "person_id"),
    ],
)
def test_bad_top_ups_are_refused_naming_the_field(change, status, field):
    resident = ResidentFactory()
    topped_up(resident, 100)
    before = Order.objects.count()
    payload = {"person_id": resident.public_id, "amount_cents": 1000, **change}
    response = api_client(resident).post(
        "/api/v1/payments/top-ups", payload, content_type="application/json"
    )
    assert response.status_code == status
    assert field in response.content.decode()
    assert Order.objects.count() == before


def test_orders_and_receipts():
    Recorder()
    resident = ResidentFactory()
    payment = pay(order_for(resident, 1500))
    client = api_client(resident)
    orders = client.get("/api/v1/payments/orders").json()
    assert orders[0]["status"] == "paid"
    assert orders[0]["lines"][0]["explanation"] == "Tarif résident"
    receipts = client.get("/api/v1/payments/receipts").json()
    assert {r["kind"] for r in receipts} == {"invoice", "receipt"}
    pdf = client.get(receipts[0]["pdf_url"])
    assert pdf["Content-Type"] == "application/pdf"
    stranger = api_client(ResidentFactory())
    assert stranger.get(f"/api/v1/payments/orders/{payment.order.public_id}").status_code == 404
    assert stranger.get("/api/v1/payments/receipts").json() == []


def test_anonymous_callers_are_refused():
    assert Client().get("/api/v1/payments/wallets").status_code == 401
