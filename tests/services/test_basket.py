"""One basket for several services (issue #5): a pool pass for a child, a swimming lesson and a
wallet top-up, paid once through the demo provider; a lesson removed from the basket frees its
place at once; an expired hold is shown at checkout; the purchase forms add once."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from payments import queries as payments_queries
from payments.actions.fulfilment import fulfil_order
from payments.actions.wallets import add_topup_to_basket
from payments.models import Document, Order, OrderLine
from services.catalog import actions as catalog
from services.catalog.models import Entitlement
from services.pools import actions as pools
from services.pools import queries as pool_queries
from services.pools.models import LessonBooking
from tests.card.factories import logged_in
from tests.factories import (
    LessonCourseFactory,
    ResidentFactory,
    collection_office,
    guardian_and_child,
    priced_product,
)
from tests.payments.factories import pay, wallet_regie

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def pool_pass():
    collection_office("piscines")
    return priced_product(
        price_cents=9000, regie_code="piscines", kind="pass", validity_days=365, name="Pass"
    )


def test_a_pass_a_lesson_and_a_top_up_in_one_basket_paid_once(django_capture_on_commit_callbacks):
    wallet_regie()
    adult, child = guardian_and_child()
    product = pool_pass()
    course = LessonCourseFactory(places=2, product__regie_code="piscines")
    basket = catalog.buy_product(
        actor=adult.user, person=child, product=product, idempotency_key="f-1"
    ).order
    assert (
        pools.book_lesson(actor=adult.user, person=adult, course=course, idempotency_key="f-2")
        == basket
    )
    assert (
        add_topup_to_basket(
            actor=adult.user, person=adult, amount_cents=2000, idempotency_key="f-3"
        )
        == basket
    )
    basket.refresh_from_db()
    assert basket.lines.count() == 3
    assert basket.total_cents == 9000 + 6000 + 2000
    assert LessonBooking.objects.get().status == "held"

    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(basket)
    basket.refresh_from_db()
    assert basket.status == "paid"
    assert payment.amount_cents == 17000
    assert all(line.fulfilled_at for line in basket.lines.all())
    assert Entitlement.objects.filter(holder=child, kind="pass").count() == 1
    assert LessonBooking.objects.get().status == "confirmed"
    assert Entitlement.objects.filter(holder=adult, kind="booking").count() == 1
    assert payments_queries.wallet_balance(adult.pk) == 2000
    receipts = Document.objects.filter(order=basket, kind="receipt")
    assert sorted(r.regie.code for r in receipts) == ["piscines", "pm"]
    assert sorted(r.amount_cents for r in receipts) == [2000, 15000]
    assert payments_queries.unbalanced_transactions() == []
    assert payments_queries.ledger_discrepancies() == []
    # exactly once: fulfilling again changes nothing
    assert fulfil_order(basket.pk) == 0
    assert Entitlement.objects.filter(holder=child, kind="pass").count() == 1
    assert Entitlement.objects.filter(holder=adult, kind="booking").count() == 1
    assert payments_queries.basket_of(adult.user) is None


def test_removing_the_lesson_from_the_basket_frees_its_place_at_once():
    collection_office("piscines")
    course = LessonCourseFactory(places=1, product__regie_code="piscines")
    buyer = ResidentFactory()
    basket = pools.book_lesson(actor=buyer.user, person=buyer, course=course)
    assert pool_queries.places_left(course) == 0
    client = logged_in(buyer.user)
    line = basket.lines.get()
    response = client.post(reverse("payments:remove_line", args=[line.public_id]))
    assert response.url == reverse("payments:basket")
    assert LessonBooking.objects.get().status == "released"
    assert pool_queries.places_left(course) == 1
    basket.refresh_from_db()
    assert (basket.status, basket.total_cents) == ("cancelled", 0)
    # someone else gets the place now, not in 20 minutes
    other = ResidentFactory()
    assert pools.book_lesson(actor=other.user, person=other, course=course) is not None


def test_an_expired_hold_is_shown_at_checkout_and_can_be_removed():
    collection_office("piscines")
    course = LessonCourseFactory(places=3, product__regie_code="piscines")
    product = pool_pass()
    buyer = ResidentFactory()
    pools.book_lesson(actor=buyer.user, person=buyer, course=course)
    basket = catalog.buy_product(actor=buyer.user, person=buyer, product=product).order
    client = logged_in(buyer.user)
    checkout = reverse("payments:checkout", args=[basket.public_id])
    assert "expired" not in client.get(checkout).content.decode()
    later = timezone.now() + timedelta(minutes=pools.HOLD_MINUTES, seconds=5)
    with time_machine.travel(later, tick=False):
        pools.release_expired_holds()
        page = client.get(checkout).content.decode()
        assert "The place held for you expired" in page
        lesson = basket.lines.get(handler="pools.lesson")
        client.post(reverse("payments:remove_line", args=[lesson.public_id]))
    basket.refresh_from_db()
    assert basket.total_cents == 9000
    assert list(basket.lines.values_list("handler", flat=True)) == ["catalog.product"]
    assert LessonBooking.objects.get().status == "expired"


def test_a_double_submitted_purchase_form_adds_once(client):
    product = pool_pass()
    collection_office("piscines")
    course = LessonCourseFactory(places=3, product__regie_code="piscines")
    resident = ResidentFactory()
    client.force_login(resident.user)
    page = client.get(reverse("catalog:products")).content.decode()
    assert 'name="idempotency_key"' in page
    form = {
        "product": product.public_id,
        "person": resident.public_id,
        "quantity": "1",
        "idempotency_key": "nonce-1-1",
    }
    for _click in range(2):
        response = client.post(reverse("catalog:buy"), form)
        assert response["Location"] == reverse("payments:basket")
    lesson_form = {"person": resident.public_id, "idempotency_key": "nonce-2-1"}
    for _click in range(2):
        response = client.post(reverse("pools:book", args=[course.public_id]), lesson_form)
        assert response["Location"] == reverse("payments:basket")
    order = Order.objects.get()
    assert order.lines.count() == 2
    assert order.total_cents == 9000 + 6000
    assert LessonBooking.objects.count() == 1
    assert OrderLine.objects.count() == 2


def test_the_kiosk_channel_still_pays_at_once():
    product = pool_pass()
    resident = ResidentFactory()
    web = catalog.buy_product(actor=resident.user, person=resident, product=product).order
    kiosk = catalog.buy_product(
        actor=resident.user,
        person=resident,
        product=product,
        channel="kiosk",
        idempotency_key="kiosk:s:order",
    ).order
    assert web.basket
    assert not kiosk.basket
    assert kiosk.pk != web.pk
    assert kiosk.lines.count() == 1
