"""Idempotency keys are scoped to the account that sends them and to what they protect: the same
key sent by another account is another request, which neither replays the first account's answer
nor blocks it. The key of a basket's payment is made by the server, bound to the buyer and the
order (it was `pay-<order id>-<attempt>`, chosen by the page: anyone knowing an order's id could
make that basket unpayable)."""

import pytest
from django.test import Client
from django.urls import reverse

from payments.actions.desk import record_desk_payment
from payments.actions.refunds import refund_payment
from payments.models import Order, Payment, Refund
from tests.card.factories import logged_in
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur, topped_up

pytestmark = pytest.mark.django_db


def pay_button(client, order) -> str:
    """Press the pay button of `order`'s checkout page as drawn: where it leads."""
    checkout = reverse("payments:checkout", args=[order.public_id])
    form = client.get(checkout).context["form"]
    data = {name: form[name].value() for name in form.fields}
    return client.post(checkout, data).url


def test_another_resident_cannot_make_my_basket_unpayable(in_english):
    Recorder()
    owner, intruder = ResidentFactory(), ResidentFactory()
    mine, theirs = order_for(owner, 1500), order_for(intruder, 800)
    # The intruder pays their own basket with every key the owner's page could carry.
    intruder_client = logged_in(intruder.user)
    for attempt in range(3):
        intruder_client.post(
            reverse("payments:checkout", args=[theirs.public_id]),
            {
                "idempotency_key": f"pay-{mine.public_id}-{attempt}",
                "attempt": attempt,
                "total": 800,
            },
        )
    demo_page = pay_button(logged_in(owner.user), mine)
    payment = Payment.objects.get(order=mine)
    assert demo_page == reverse("payments:demo_checkout", args=[payment.public_id])
    assert payment.amount_cents == 1500


def api_top_up(resident, key: str, amount_cents: int = 2500):
    client = Client()
    client.force_login(resident.user)
    return client.post(
        "/api/v1/payments/top-ups",
        {"person_id": resident.public_id, "amount_cents": amount_cents, "idempotency_key": key},
        content_type="application/json",
    )


def test_a_top_up_key_of_another_account_neither_replays_nor_blocks():
    first, second = ResidentFactory(), ResidentFactory()
    topped_up(first, 100)  # the wallet régie
    mine = api_top_up(first, "top-up-1")
    theirs = api_top_up(second, "top-up-1", amount_cents=4000)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert Order.objects.get(public_id=theirs.json()["id"]).buyer == second.user
    assert api_top_up(first, "top-up-1").json()["id"] == mine.json()["id"]  # still a replay


def test_the_same_refund_key_from_two_regisseurs_is_two_refunds():
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    first_officer, second_officer = regisseur(), regisseur()

    def refund(officer):
        return refund_payment(
            actor=officer,
            payment=payment,
            amount_cents=1000,
            destination="wallet",
            reason="Annulation",
            idempotency_key="refund-1",
        )

    first, second = refund(first_officer), refund(second_officer)
    assert first.pk != second.pk
    assert second.requested_by == second_officer
    assert refund(first_officer).pk == first.pk  # the same officer's retry: the first refund
    assert Refund.objects.count() == 2


def test_the_same_desk_key_from_two_regisseurs_records_both_payments():
    Recorder()
    resident = ResidentFactory()
    one, other = (order_for(resident, 1000, channel="desk") for _ in range(2))
    first_officer, second_officer = regisseur(), regisseur()

    def record(officer, order):
        return record_desk_payment(
            actor=officer, order=order, method="cash", amount_cents=1000, idempotency_key="d-1"
        )

    assert record(first_officer, one).order_id == one.pk
    assert record(second_officer, other).order_id == other.pk
    assert Order.objects.filter(status=Order.Status.PAID).count() == 2
