"""Who reaches what: a resident only their household's wallets, orders, basket lines, payment
results and documents (by public id, pages and API); only the régisseur the régie's pages and
refunds; each staff opening of personal data in the audit trail, against the person."""

import pytest
from django.urls import reverse

from identity.models import AuditEntry, StaffRole
from payments.actions.basket import add_to_basket
from payments.actions.orders import LineInput
from payments.models import Refund
from tests.card.factories import logged_in
from tests.factories import ResidentFactory, UserFactory, staff_user
from tests.payments.factories import (
    Recorder,
    RegieFactory,
    order_for,
    pay,
    regisseur,
    resident_with_child,
    topped_up,
    wallet_regie,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("django_capture_on_commit_callbacks")]


@pytest.fixture
def household():
    """A parent who bought for themself, with a child, a paid order, a receipt and a basket."""
    Recorder()
    wallet_regie()
    parent, child = resident_with_child()
    topped_up(child, 1000, actor=parent)
    payment = pay(order_for(parent, 1500))
    basket = add_to_basket(
        buyer=parent.user,
        lines=[
            LineInput(
                regie=RegieFactory(), label="Entrée", handler="test.thing", unit_price_cents=300
            )
        ],
        idempotency_key="b",
    )
    return {
        "parent": parent,
        "child": child,
        "payment": payment,
        "receipt": payment.documents.get(kind="receipt"),
        "basket": basket,
        "line": basket.lines.get(),
    }


def resident_urls(h) -> list[tuple[str, str]]:
    """(method, url) of every resident page addressed by a public id of the household."""
    return [
        ("get", reverse("payments:wallet", args=[h["parent"].public_id])),
        ("post", reverse("payments:wallet", args=[h["child"].public_id])),
        ("get", reverse("payments:wallet", args=[h["child"].public_id])),
        ("get", reverse("payments:checkout", args=[h["payment"].order.public_id])),
        ("post", reverse("payments:checkout", args=[h["basket"].public_id])),
        ("post", reverse("payments:cancel", args=[h["basket"].public_id])),
        ("post", reverse("payments:remove_line", args=[h["line"].public_id])),
        ("get", reverse("payments:result", args=[h["payment"].public_id])),
        ("post", reverse("payments:demo_checkout", args=[h["payment"].public_id])),
        ("get", reverse("payments:document", args=[h["receipt"].public_id])),
    ]


def test_another_household_reaches_nothing_by_public_id(household):
    stranger = logged_in(ResidentFactory().user)
    for method, url in resident_urls(household):
        response = getattr(stranger, method)(url, {"outcome": "pay", "amount": "5"})
        assert response.status_code == 404, url
    household["basket"].refresh_from_db()
    assert household["basket"].lines.count() == 1
    assert household["basket"].status == "pending"


def test_another_household_reaches_nothing_through_the_api(household):
    stranger = logged_in(ResidentFactory().user)
    for path in (
        f"/api/v1/payments/wallets/{household['child'].public_id}",
        f"/api/v1/payments/wallets/{household['parent'].public_id}",
        f"/api/v1/payments/orders/{household['payment'].order.public_id}",
    ):
        assert stranger.get(path).status_code == 404, path
    top_up = stranger.post(
        "/api/v1/payments/top-ups",
        {"person_id": household["child"].public_id, "amount_cents": 100},
        content_type="application/json",
    )
    assert top_up.status_code == 404
    assert stranger.get("/api/v1/payments/orders").json() == []
    assert stranger.get("/api/v1/payments/receipts").json() == []
    assert [w["person_id"] for w in stranger.get("/api/v1/payments/wallets").json()] != [
        household["child"].public_id
    ]


def test_a_child_of_another_guardian_is_not_among_my_wallets(household):
    """A guardian sees their own children's wallets, not a neighbour's child's."""
    _other_parent, other_child = resident_with_child()
    client = logged_in(household["parent"].user)
    ids = {w["person_id"] for w in client.get("/api/v1/payments/wallets").json()}
    assert ids == {household["parent"].public_id, household["child"].public_id}
    assert client.get(reverse("payments:wallet", args=[other_child.public_id])).status_code == 404


def test_the_child_cannot_see_the_parents_orders(household):
    """A child with their own login is not their guardian's guardian."""
    child = household["child"]
    child_user = UserFactory()
    child.user = child_user
    child.save(update_fields=["user"])
    client = logged_in(child_user)
    assert (
        client.get(reverse("payments:wallet", args=[household["parent"].public_id])).status_code
        == 404
    )
    assert (
        client.get(reverse("payments:result", args=[household["payment"].public_id])).status_code
        == 404
    )


OTHER_ROLES = [
    StaffRole.Role.POOL_AGENT,
    StaffRole.Role.LIBRARIAN,
    StaffRole.Role.CANTEEN_AGENT,
    StaffRole.Role.CLERK,
    StaffRole.Role.ADMIN,
]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_staff_reach_no_regie_page_and_refund_nothing(role, household):
    client = logged_in(staff_user(role))
    payment = household["payment"]
    for url in (
        reverse("payments:staff_payments"),
        reverse("payments:staff_payments") + "?q=x",
        reverse("payments:reconciliation") + "?format=csv",
        reverse("payments:reconciliation") + "?format=pdf",
        reverse("payments:staff_desk"),
        reverse("payments:staff_payment", args=[payment.public_id]),
        reverse("payments:staff_document", args=[household["receipt"].public_id]),
    ):
        assert client.get(url).status_code == 403, url
    refund = client.post(
        reverse("payments:staff_payment", args=[payment.public_id]),
        {"amount": "5", "destination": "card", "reason": "x", "idempotency_key": "r"},
    )
    assert refund.status_code == 403
    desk = client.post(
        reverse("payments:staff_desk"),
        {
            "order": household["basket"].public_id,
            "method": "cash",
            "amount": "3",
            "idempotency_key": "d",
        },
    )
    assert desk.status_code == 403
    assert not Refund.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="payments.", actor__isnull=False)


def test_a_resident_reaches_no_regie_page(household):
    client = logged_in(household["parent"].user)
    for url in (
        reverse("payments:staff_payments"),
        reverse("payments:reconciliation"),
        reverse("payments:staff_payment", args=[household["payment"].public_id]),
        reverse("payments:staff_document", args=[household["receipt"].public_id]),
    ):
        assert client.get(url).status_code == 403, url


def test_every_regie_opening_of_personal_data_is_audited(household):
    officer = regisseur()
    client = logged_in(officer)
    payer = household["payment"].order.payer
    client.get(reverse("payments:staff_payments"), {"q": payer.last_name})
    assert AuditEntry.objects.filter(action="payments.list", actor=officer).exists()
    client.get(reverse("payments:staff_payment", args=[household["payment"].public_id]))
    assert AuditEntry.objects.filter(
        action="payments.open_payment", actor=officer, person=payer
    ).exists()


def test_opening_a_document_pdf_is_audited_against_the_payer(household):
    """The PDF carries the payer's name and postal address: the opening shows in their access
    log (before: a list entry with no person)."""
    officer = regisseur()
    receipt = household["receipt"]
    response = logged_in(officer).get(reverse("payments:staff_document", args=[receipt.public_id]))
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="payments.open_document", actor=officer)
    assert entry.person == household["parent"]
    assert entry.target == f"document:{receipt.reference}"
