"""Bad input on every payments page and API endpoint: a message on the page or a 4xx naming the
field, never a 500, never a write; replayed or borrowed idempotency keys never pass for another
purchase, refund or desk payment."""

import pytest
from django.urls import Resolver404, resolve, reverse

from identity.models import AuditEntry
from payments.actions.checkout import start_payment
from payments.actions.desk import record_desk_payment
from payments.actions.refunds import refund_payment
from payments.models import Order, Payment, Refund
from tests.card.factories import logged_in
from tests.factories import ResidentFactory
from tests.payments.factories import Recorder, order_for, pay, regisseur, topped_up, wallet_regie

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("django_capture_on_commit_callbacks")]


def quiet(client):
    """A client that answers a crash with its 500 rather than raising it in the test."""
    client.raise_request_exception = False
    return client


# --- The régisseur's dates ----------------------------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("fmt", ["", "csv", "pdf"])
def test_reconciliation_of_an_absurd_day_is_today_with_a_word(day, fmt, in_english):
    client = quiet(logged_in(regisseur()))
    response = client.get(reverse("payments:reconciliation"), {"day": day, "format": fmt})
    assert response.status_code == 200
    if not fmt:
        assert "Enter a day such as 2026-03-31" in response.content.decode()


@pytest.mark.parametrize(
    "filters",
    [{"day_to": "9999-12-31"}, {"day_from": "0001-01-01"}, {"day_from": "9999-12-31"}],
)
def test_payment_search_with_an_absurd_day_names_the_field(filters, in_english):
    client = quiet(logged_in(regisseur()))
    response = client.get(reverse("payments:staff_payments"), filters)
    assert response.status_code == 200
    field = next(iter(filters))
    assert response.context["form"].errors[field] == ["Enter a date between 1900 and 9998."]


# --- Public ids that cannot be one ----------------------------------------------------------


URL_NAMES = ["wallet", "checkout", "result", "document", "demo_checkout", "remove_line", "cancel"]


@pytest.mark.parametrize("name", URL_NAMES)
def test_a_nul_in_a_public_id_is_not_found(name):
    """PostgreSQL refuses a NUL in a query: it must never get that far."""
    resident = ResidentFactory()
    client = quiet(logged_in(resident.user))
    url = reverse(f"payments:{name}", args=["ABCD"]).replace("ABCD", "ab%00cd")
    with pytest.raises(Resolver404):
        resolve(url.replace("%00", "\x00"))
    assert client.get(url).status_code in (404, 405)
    assert client.post(url).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/api/v1/payments/wallets/ab%00cd", "/api/v1/payments/orders/ab%00cd"],
)
def test_api_a_nul_in_a_path_id_is_not_found(path):
    client = quiet(logged_in(ResidentFactory().user))
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"person_id": "ab\x00cd"}, 400, "person_id"),
        ({"idempotency_key": "k\x00"}, 400, "idempotency_key"),
        ({"idempotency_key": "k\n"}, 400, "idempotency_key"),
        ({"amount_cents": 10.5}, 422, "amount_cents"),
        ({"amount_cents": None}, 422, "amount_cents"),
        ({"amount_cents": 10**30}, 422, "amount_cents"),
        ({"person_id": None}, 422, "person_id"),
    ],
)
def test_api_hostile_top_ups_are_refused_naming_the_field(change, status, field):
    resident = ResidentFactory()
    topped_up(resident, 100)
    before = Order.objects.count()
    payload = {"person_id": resident.public_id, "amount_cents": 1000, **change}
    response = quiet(logged_in(resident.user)).post(
        "/api/v1/payments/top-ups", payload, content_type="application/json"
    )
    assert response.status_code == status
    assert field in response.content.decode()
    assert Order.objects.count() == before


def test_api_a_key_replayed_for_another_amount_is_a_conflict():
    resident = ResidentFactory()
    topped_up(resident, 100)
    client = logged_in(resident.user)
    url = "/api/v1/payments/top-ups"
    payload = {"person_id": resident.public_id, "amount_cents": 1000, "idempotency_key": "t"}
    first = client.post(url, payload, content_type="application/json")
    assert first.status_code == 201
    again = client.post(url, {**payload, "amount_cents": 2000}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["field"] == "idempotency_key"
    assert Order.objects.get(public_id=first.json()["id"]).total_cents == 1000
    assert not Order.objects.filter(total_cents=2000).exists()


# --- Money pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["-5", "0", "1e3", "99999999999", "12.345", "NaN", ""])
def test_hostile_top_up_amounts_are_a_message(amount):
    wallet_regie()
    resident = ResidentFactory()
    client = quiet(logged_in(resident.user))
    response = client.post(
        reverse("payments:wallet", args=[resident.public_id]),
        {"amount": amount, "idempotency_key": "w"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"attempt": "0", "total": "-1"},
        {"attempt": "0", "total": "abc"},
        {"attempt": "-1", "total": "1000"},
        {"attempt": "abc", "total": "1000"},
        {"attempt": "99999999999", "total": "1000"},
        {"total": "1000"},
    ],
)
def test_a_tampered_checkout_form_is_a_message(form):
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1000)
    client = quiet(logged_in(resident.user))
    response = client.post(reverse("payments:checkout", args=[order.public_id]), form)
    assert response.status_code == 200
    assert not Payment.objects.exists()


def test_a_desk_payment_key_of_another_order_records_nothing_and_says_so(in_english):
    """Before: the régisseur was told "recorded" and sent to another order's payment, while the
    cash received for this order was recorded nowhere."""
    Recorder()
    resident = ResidentFactory()
    officer = regisseur()
    other = order_for(resident, 3000, channel="desk")
    record_desk_payment(
        actor=officer, order=other, method="cash", amount_cents=3000, idempotency_key="d-1"
    )
    order = order_for(resident, 1000, channel="desk")
    client = logged_in(officer)
    response = client.post(
        reverse("payments:staff_desk"),
        {"order": order.public_id, "method": "cash", "amount": "10", "idempotency_key": "d-1"},
    )
    assert response.status_code == 200
    assert "This request was already used." in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Payment.objects.filter(order=order).count() == 0


def test_a_desk_payment_double_submit_is_one_payment():
    Recorder()
    order = order_for(ResidentFactory(), 1000, channel="desk")
    client = logged_in(regisseur())
    data = {"order": order.public_id, "method": "cash", "amount": "10", "idempotency_key": "d"}
    first = client.post(reverse("payments:staff_desk"), data)
    second = client.post(reverse("payments:staff_desk"), data)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert Payment.objects.filter(order=order).count() == 1


def test_a_refund_key_of_another_payment_is_refused(in_english):
    """Before: the refund of payment A was shown as "recorded" for payment B, which was not
    refunded."""
    Recorder()
    resident = ResidentFactory()
    first, second = pay(order_for(resident, 3000)), pay(order_for(resident, 2000))
    officer = regisseur()
    refund_payment(
        actor=officer,
        payment=first,
        amount_cents=500,
        destination="card",
        idempotency_key="r",
    )
    client = logged_in(officer)
    response = client.post(
        reverse("payments:staff_payment", args=[second.public_id]),
        {"amount": "5", "destination": "card", "reason": "x", "idempotency_key": "r"},
    )
    assert response.status_code == 200
    assert "This request was already used." in response.content.decode()
    second.refresh_from_db()
    assert second.refunded_cents == 0
    assert Refund.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"amount": "1e5", "destination": "card", "reason": "x", "idempotency_key": "a"},
        {"amount": "5", "destination": "moon", "reason": "x", "idempotency_key": "a"},
        {"amount": "5", "destination": "card", "reason": "x", "idempotency_key": "a", "lines": "9"},
        {"amount": "99999,99", "destination": "card", "reason": "x", "idempotency_key": "a"},
    ],
)
def test_hostile_refund_forms_are_a_message(data):
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    client = quiet(logged_in(regisseur()))
    response = client.post(reverse("payments:staff_payment", args=[payment.public_id]), data)
    assert response.status_code == 200
    assert not Refund.objects.exists()


@pytest.mark.parametrize("outcome", ["", "steal"])  # a NUL: tests/portal/test_site.py
def test_demo_page_unknown_outcome_is_not_found(outcome):
    Recorder()
    resident = ResidentFactory()
    order = order_for(resident, 1000)
    payment, _start = start_payment(order=order, provider="demo", return_url="/")
    client = quiet(logged_in(resident.user))
    response = client.post(
        reverse("payments:demo_checkout", args=[payment.public_id]), {"outcome": outcome}
    )
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.parametrize("name", ["remove_line", "cancel", "stripe_webhook"])
def test_wrong_methods_are_405(name):
    client = quiet(logged_in(ResidentFactory().user))
    args = [] if name == "stripe_webhook" else ["abcd"]
    assert client.get(reverse(f"payments:{name}", args=args)).status_code == 405


def test_a_failed_refund_post_still_audits_the_opening():
    Recorder()
    payment = pay(order_for(ResidentFactory(), 3000))
    officer = regisseur()
    client = logged_in(officer)
    response = client.post(
        reverse("payments:staff_payment", args=[payment.public_id]),
        {"amount": "", "destination": "card", "reason": "x", "idempotency_key": "a"},
    )
    assert response.status_code == 200
    assert AuditEntry.objects.filter(
        action="payments.open_payment", actor=officer, person=payment.order.payer
    ).exists()
